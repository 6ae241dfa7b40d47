-- FRONTIER: the start of every frontier script (each one atomic step on a crawl's
--   frontier): the KEYS and first ARGV they share, Redis' clock, and the helpers
--   that queue, requeue and retry requests. Time is always Redis' own (TIME), so
--   workers whose clocks disagree still share one politeness budget per host.
--   No frontier script blocks.
-- KEYS: ready inflight lease_owner attempts host_backlog queued host_next host_delay
--   deadletter stats seen seen_bloom seen_count budget leased_total hubs_due hubs_queued
--   hub_requests
-- ARGV: prefix delay
--   prefix: of the per-host queue keys (Keys.queue_prefix); delay: the default
--   seconds between two fetches of one host.

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
  redis.call('ZINCRBY', K_HOST_BACKLOG, 1, host)
  redis.call('INCR', K_QUEUED)
  local ready = tonumber(redis.call('HGET', K_HOST_NEXT, host) or '0')
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
  redis.call('HDEL', K_LEASE_OWNER, item)
end

-- A leased request failed (lease expired, articles not stored): queue it
-- again, or set it aside once it has failed too often. Returns 1 or 0.
local function retry(item, max_attempts, reason, t)
  forget(item)
  local n = redis.call('HINCRBY', K_ATTEMPTS, item, 1)
  if n >= max_attempts then
    redis.call('HDEL', K_ATTEMPTS, item)
    redis.call('LPUSH', K_DEADLETTER, cjson.encode({reason = reason .. ' ' .. n .. ' times', attempts = n,
                                                    request = item}))
    redis.call('HINCRBY', K_STATS, 'dead_letters', 1)
    return 0
  end
  requeue(item, t)
  redis.call('HINCRBY', K_STATS, 'requests_retried', 1)
  return 1
end
