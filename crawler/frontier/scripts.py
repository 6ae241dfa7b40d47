"""Lua scripts of the frontier: every claim on shared work is one atomic step.

Each script takes all its key names in KEYS (they share the crawl's hash tag,
so the scripts also run on Redis Cluster) and never blocks.
"""

from __future__ import annotations

__all__ = ["ACK", "LEASE", "PUSH", "REAP", "RELEASE", "RENEW", "RETRY"]

# KEYS: seen, queue, host_backlog
# ARGV: check ("1" or "0"), then per request: fingerprint ("" for none), JSON, score, host
# Records each fingerprint as seen and queues the request, unless check is on
# and the fingerprint had been seen. Returns one 1 (queued) or 0 per request.
PUSH = """
local check = ARGV[1] == '1'
local out = {}
for i = 2, #ARGV, 4 do
  local queued = 1
  if ARGV[i] ~= '' and redis.call('SADD', KEYS[1], ARGV[i]) == 0 and check then
    queued = 0
  end
  if queued == 1 and redis.call('ZADD', KEYS[2], 'NX', ARGV[i + 2], ARGV[i + 1]) == 1 then
    redis.call('ZINCRBY', KEYS[3], 1, ARGV[i + 3])
  end
  out[#out + 1] = queued
end
return out
"""

# KEYS: queue, inflight, lease_owner, host_backlog, budget, leased
# ARGV: deadline, worker id, how many
# Moves up to N highest-priority requests into the in-flight set, each with a
# deadline and its owner, and returns them. Honours the lease budget.
LEASE = """
local n = tonumber(ARGV[3])
local budget = redis.call('GET', KEYS[5])
if budget then
  local left = tonumber(budget) - tonumber(redis.call('GET', KEYS[6]) or '0')
  if left <= 0 then return {} end
  if left < n then n = left end
end
local items = redis.call('ZRANGE', KEYS[1], 0, n - 1)
for _, item in ipairs(items) do
  redis.call('ZREM', KEYS[1], item)
  redis.call('ZADD', KEYS[2], ARGV[1], item)
  redis.call('HSET', KEYS[3], item, ARGV[2])
  local ok, req = pcall(cjson.decode, item)
  if ok and type(req) == 'table' and type(req['host']) == 'string' then
    if tonumber(redis.call('ZINCRBY', KEYS[4], -1, req['host'])) <= 0 then
      redis.call('ZREM', KEYS[4], req['host'])
    end
  end
end
if budget then redis.call('INCRBY', KEYS[6], #items) end
return items
"""

# KEYS: inflight, lease_owner, attempts
# ARGV: request JSON, ...
# Forgets finished requests. Returns how many were still leased.
ACK = """
local done = 0
for i = 1, #ARGV do
  done = done + redis.call('ZREM', KEYS[1], ARGV[i])
  redis.call('HDEL', KEYS[2], ARGV[i])
  redis.call('HDEL', KEYS[3], ARGV[i])
end
return done
"""

# KEYS: inflight, lease_owner
# ARGV: deadline, worker id, request JSON, ...
# Pushes the deadline of this worker's leases forward. A lease that another
# worker has taken back in the meantime is left alone.
RENEW = """
local renewed = 0
for i = 3, #ARGV do
  if redis.call('HGET', KEYS[2], ARGV[i]) == ARGV[2] then
    renewed = renewed + redis.call('ZADD', KEYS[1], 'XX', 'CH', ARGV[1], ARGV[i])
  end
end
return renewed
"""

_requeue = """
local function requeue(queue, backlog, item)
  local ok, req = pcall(cjson.decode, item)
  local score = 0
  if ok and type(req) == 'table' then
    score = -(tonumber(req['priority']) or 0)
    if type(req['host']) == 'string' then redis.call('ZINCRBY', backlog, 1, req['host']) end
  end
  redis.call('ZADD', queue, score, item)
end
"""

# KEYS: inflight, lease_owner, queue, host_backlog
# ARGV: worker id, request JSON, ...
# Gives this worker's unfinished leases back at once (graceful shutdown).
RELEASE = _requeue + """
local released = 0
for i = 2, #ARGV do
  if redis.call('HGET', KEYS[2], ARGV[i]) == ARGV[1] then
    redis.call('ZREM', KEYS[1], ARGV[i])
    redis.call('HDEL', KEYS[2], ARGV[i])
    requeue(KEYS[3], KEYS[4], ARGV[i])
    released = released + 1
  end
end
return released
"""

_retry = _requeue + """
-- KEYS: inflight, lease_owner, attempts, queue, host_backlog, deadletter, stats
local function retry(item, max_attempts, reason)
  redis.call('ZREM', KEYS[1], item)
  redis.call('HDEL', KEYS[2], item)
  local n = redis.call('HINCRBY', KEYS[3], item, 1)
  if n >= max_attempts then
    redis.call('HDEL', KEYS[3], item)
    redis.call('LPUSH', KEYS[6], cjson.encode({reason = reason .. ' ' .. n .. ' times', request = item}))
    return 0
  end
  requeue(KEYS[4], KEYS[5], item)
  return 1
end
local function count(requeued, dead)
  if requeued > 0 then redis.call('HINCRBY', KEYS[7], 'requests_retried', requeued) end
  if dead > 0 then redis.call('HINCRBY', KEYS[7], 'dead_letters', dead) end
  return {requeued, dead}
end
"""

# KEYS: inflight, lease_owner, attempts, queue, host_backlog, deadletter, stats
# ARGV: now, max attempts, batch size
# Takes back leases whose deadline passed (their worker died or hung): back to
# the queue, or to the dead letters once a request has failed too often.
# Returns {requeued, dead}.
REAP = _retry + """
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local requeued, dead = 0, 0
for _, item in ipairs(expired) do
  if retry(item, tonumber(ARGV[2]), 'lease expired') == 1 then requeued = requeued + 1 else dead = dead + 1 end
end
if #expired > 0 then redis.call('HINCRBY', KEYS[7], 'leases_expired', #expired) end
return count(requeued, dead)
"""

# KEYS: as REAP
# ARGV: worker id, max attempts, request JSON, ...
# Puts this worker's leased requests whose processing failed (an article that
# could not be stored) back in the queue, or aside once they failed too often.
RETRY = _retry + """
local requeued, dead = 0, 0
for i = 3, #ARGV do
  if redis.call('HGET', KEYS[2], ARGV[i]) == ARGV[1] then
    if retry(ARGV[i], tonumber(ARGV[2]), 'processing failed') == 1 then
      requeued = requeued + 1
    else
      dead = dead + 1
    end
  end
end
return count(requeued, dead)
"""
