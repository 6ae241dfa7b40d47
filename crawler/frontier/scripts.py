"""Lua scripts of the frontier: every claim on shared work is one atomic step.

Every script gets the same KEYS (:data:`KEY_ORDER`, all under the crawl's hash
tag, so they run on Redis Cluster too) and starts with the same two ARGV: the
prefix of the per-host queue keys and the default delay between two fetches
of one host. Time is always Redis' own (``TIME``), so workers whose clocks
disagree still share one politeness budget per host. No script blocks.
"""

from __future__ import annotations

__all__ = ["ACK", "COOL", "KEY_ORDER", "LEASE", "PUSH", "REAP", "RELEASE", "RENEW", "RETRY"]

# The KEYS of every script, by name of the Keys property.
KEY_ORDER = (
    "ready", "inflight", "lease_owner", "attempts", "host_backlog", "queued", "host_next",
    "host_delay", "deadletter", "stats", "seen", "seen_bloom", "seen_count", "budget",
    "leased_total",
)

_PRELUDE = """
local K_READY, K_INFLIGHT, K_OWNER, K_ATTEMPTS = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local K_BACKLOG, K_QUEUED, K_NEXT, K_DELAY = KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local K_DEAD, K_STATS, K_SEEN, K_BLOOM, K_SEEN_COUNT = KEYS[9], KEYS[10], KEYS[11], KEYS[12], KEYS[13]
local K_BUDGET, K_LEASED = KEYS[14], KEYS[15]
local PREFIX, DEFAULT_DELAY = ARGV[1], tonumber(ARGV[2])

local function now()
  local t = redis.call('TIME')
  return tonumber(t[1]) + tonumber(t[2]) / 1000000
end

-- Queue one request JSON for its host; the host becomes ready when its
-- politeness delay allows. Returns 1 when added, 0 when already queued.
local function enqueue(item, host, score, t)
  local q = PREFIX .. host
  if redis.call('ZADD', q, 'NX', score, item) == 0 then return 0 end
  redis.call('ZINCRBY', K_BACKLOG, 1, host)
  redis.call('INCR', K_QUEUED)
  local ready = tonumber(redis.call('HGET', K_NEXT, host) or '0')
  if ready < t then ready = t end
  redis.call('ZADD', K_READY, 'NX', ready, host)
  return 1
end

-- Put a request taken out of the queue back in, from its own JSON.
local function requeue(item, t)
  local ok, req = pcall(cjson.decode, item)
  local host, priority = '', 0
  if ok and type(req) == 'table' then
    if type(req['host']) == 'string' then host = req['host'] end
    priority = tonumber(req['priority']) or 0
  end
  return enqueue(item, host, -priority, t)
end

local function forget(item)
  redis.call('ZREM', K_INFLIGHT, item)
  redis.call('HDEL', K_OWNER, item)
end

-- A leased request failed (lease expired, articles not stored): queue it
-- again, or set it aside once it has failed too often. Returns 1 or 0.
local function retry(item, max_attempts, reason, t)
  forget(item)
  local n = redis.call('HINCRBY', K_ATTEMPTS, item, 1)
  if n >= max_attempts then
    redis.call('HDEL', K_ATTEMPTS, item)
    redis.call('LPUSH', K_DEAD, cjson.encode({reason = reason .. ' ' .. n .. ' times', request = item}))
    redis.call('HINCRBY', K_STATS, 'dead_letters', 1)
    return 0
  end
  requeue(item, t)
  redis.call('HINCRBY', K_STATS, 'requests_retried', 1)
  return 1
end
"""

# ARGV: prefix, delay, check ("1"/"0"), seen mode ("set"/"bloom"/"redisbloom"),
# bits per Bloom chunk, then per
# request: seen token (fingerprint, or Bloom bit positions "p1,p2,..", or ""),
# JSON ("" to only mark the token seen), score (-priority), host.
# Marks each token as seen and queues the request, unless check is on and the
# token had been seen. Returns one 1 (queued) or 0 (seen before) per request.
PUSH = _PRELUDE + """
local check, bloom, chunk_bits = ARGV[3] == '1', ARGV[4] == 'bloom', tonumber(ARGV[5])
local redisbloom = ARGV[4] == 'redisbloom'
-- The Bloom filter is a row of bitmaps of chunk_bits bits each, every one
-- created at its full size: a bitmap grown by SETBIT gets up to twice the
-- memory it needs, and one string could hold no more than 2^32 bits.
-- The chunks this call knows to exist (number -> key name): no command runs
-- while a script does, so each is checked once per call, not once per bit.
local chunks = {}
local function setbit(pos)
  local n = math.floor(pos / chunk_bits)
  local chunk = chunks[n]
  if not chunk then
    chunk = K_BLOOM .. ':' .. n
    if redis.call('EXISTS', chunk) == 0 then
      -- SETRANGE on a new key allocates exactly the length asked for.
      redis.call('SETRANGE', chunk, chunk_bits / 8 - 1, string.char(0))
    end
    chunks[n] = chunk
  end
  return redis.call('SETBIT', chunk, pos % chunk_bits, 1)
end
local function mark_seen(token)
  if token == '' then return true end
  local new = false
  if redisbloom then
    new = redis.call('BF.ADD', K_BLOOM, token) == 1
  elseif bloom then
    for pos in string.gmatch(token, '%d+') do
      if setbit(tonumber(pos)) == 0 then new = true end
    end
  else
    new = redis.call('SADD', K_SEEN, token) == 1
  end
  if new then redis.call('INCR', K_SEEN_COUNT) end
  return new
end
local t = now()
local out = {}
for i = 6, #ARGV, 4 do
  local queued = 1
  if not mark_seen(ARGV[i]) and check then queued = 0 end
  if queued == 1 and ARGV[i + 1] ~= '' then enqueue(ARGV[i + 1], ARGV[i + 3], tonumber(ARGV[i + 2]), t) end
  out[#out + 1] = queued
end
return out
"""

# ARGV: prefix, delay, lease seconds, worker id, how many
# Leases up to N requests, at most one per host whose delay has passed (the
# most urgent hosts first, each host's highest priority request; a host with
# no delay gives as many as asked), into the in-flight set with a deadline and
# an owner. Honours the lease budget.
# Returns {wait, request JSON...}: wait is "0" when something was leased,
# else the seconds until the next host is ready, or "-1" when nothing is queued.
LEASE = _PRELUDE + """
local t = now()
local lease, worker, n = tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local budget = redis.call('GET', K_BUDGET)
if budget then
  local left = tonumber(budget) - tonumber(redis.call('GET', K_LEASED) or '0')
  if left <= 0 then return {'-1'} end
  if left < n then n = left end
end
local out = {'0'}
for _, host in ipairs(redis.call('ZRANGEBYSCORE', K_READY, '-inf', t, 'LIMIT', 0, n)) do
  local q = PREFIX .. host
  local delay = tonumber(redis.call('HGET', K_DELAY, host) or DEFAULT_DELAY)
  -- One request per host and lease when the host has a delay; with none, as many as asked.
  local take = 1
  if delay <= 0 then take = n - (#out - 1) end
  if take < 1 then break end
  local items = redis.call('ZRANGE', q, 0, take - 1)
  for _, item in ipairs(items) do
    redis.call('ZREM', q, item)
    redis.call('ZADD', K_INFLIGHT, t + lease, item)
    redis.call('HSET', K_OWNER, item, worker)
    out[#out + 1] = item
  end
  if #items > 0 then
    if tonumber(redis.call('ZINCRBY', K_BACKLOG, -#items, host)) <= 0 then
      redis.call('ZREM', K_BACKLOG, host)
    end
    redis.call('DECRBY', K_QUEUED, #items)
  end
  redis.call('HSET', K_NEXT, host, t + delay)
  if redis.call('EXISTS', q) == 1 then
    redis.call('ZADD', K_READY, t + delay, host)
  else
    redis.call('ZREM', K_READY, host)
  end
end
if budget then redis.call('INCRBY', K_LEASED, #out - 1) end
if #out == 1 then
  local first = redis.call('ZRANGE', K_READY, 0, 0, 'WITHSCORES')
  if first[2] then out[1] = tostring(math.max(tonumber(first[2]) - t, 0)) else out[1] = '-1' end
end
return out
"""

# ARGV: prefix, delay, request JSON...
# Forgets finished requests. Returns how many were still leased.
ACK = _PRELUDE + """
local done = 0
for i = 3, #ARGV do
  done = done + redis.call('ZREM', K_INFLIGHT, ARGV[i])
  redis.call('HDEL', K_OWNER, ARGV[i])
  redis.call('HDEL', K_ATTEMPTS, ARGV[i])
end
return done
"""

# ARGV: prefix, delay, lease seconds, worker id, request JSON...
# Pushes the deadlines of this worker's leases forward. A lease that another
# worker has taken back in the meantime is left alone.
RENEW = _PRELUDE + """
local deadline, worker = now() + tonumber(ARGV[3]), ARGV[4]
local renewed = 0
for i = 5, #ARGV do
  if redis.call('HGET', K_OWNER, ARGV[i]) == worker then
    renewed = renewed + redis.call('ZADD', K_INFLIGHT, 'XX', 'CH', deadline, ARGV[i])
  end
end
return renewed
"""

# ARGV: prefix, delay, worker id, request JSON...
# Gives this worker's unfinished leases back at once (graceful shutdown).
RELEASE = _PRELUDE + """
local t, released = now(), 0
for i = 4, #ARGV do
  if redis.call('HGET', K_OWNER, ARGV[i]) == ARGV[3] then
    forget(ARGV[i])
    requeue(ARGV[i], t)
    released = released + 1
  end
end
return released
"""

# ARGV: prefix, delay, max attempts, batch size
# Takes back leases whose deadline passed (their worker died or hung).
# Returns {requeued, dead}.
REAP = _PRELUDE + """
local t = now()
local expired = redis.call('ZRANGEBYSCORE', K_INFLIGHT, '-inf', t, 'LIMIT', 0, tonumber(ARGV[4]))
local requeued, dead = 0, 0
for _, item in ipairs(expired) do
  if retry(item, tonumber(ARGV[3]), 'lease expired', t) == 1 then
    requeued = requeued + 1
  else
    dead = dead + 1
  end
end
if #expired > 0 then redis.call('HINCRBY', K_STATS, 'leases_expired', #expired) end
return {requeued, dead}
"""

# ARGV: prefix, delay, worker id, max attempts, request JSON...
# Queues this worker's leased requests whose processing failed again (or sets
# them aside once they failed too often). Returns {requeued, dead}.
RETRY = _PRELUDE + """
local t = now()
local requeued, dead = 0, 0
for i = 5, #ARGV do
  if redis.call('HGET', K_OWNER, ARGV[i]) == ARGV[3] then
    if retry(ARGV[i], tonumber(ARGV[4]), 'processing failed', t) == 1 then
      requeued = requeued + 1
    else
      dead = dead + 1
    end
  end
end
return {requeued, dead}
"""

# ARGV: prefix, delay, host, pause seconds ("" for none), delay seconds ("" to keep)
# Politeness news about one host: a pause (Retry-After) keeps every worker off
# it until then; a delay (robots.txt Crawl-delay) applies to all its fetches.
COOL = _PRELUDE + """
local host = ARGV[3]
if ARGV[5] ~= '' then redis.call('HSET', K_DELAY, host, ARGV[5]) end
if ARGV[4] ~= '' then
  local until_t = now() + tonumber(ARGV[4])
  if until_t > tonumber(redis.call('HGET', K_NEXT, host) or '0') then
    redis.call('HSET', K_NEXT, host, until_t)
    redis.call('ZADD', K_READY, 'XX', 'GT', until_t, host)
  end
end
return 1
"""
