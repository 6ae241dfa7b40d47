"""Lua scripts of the frontier: every claim on shared work is one atomic step.

Each script takes all its key names in KEYS (they share the crawl's hash tag,
so the scripts also run on Redis Cluster) and never blocks.
"""

from __future__ import annotations

__all__ = ["ACK", "LEASE", "PUSH", "REAP", "RELEASE", "RENEW"]

# KEYS: seen, queue, host_backlog
# ARGV: fingerprint ("" to skip the seen check), request JSON, score, host
# Returns 1 when queued, 0 when the fingerprint was already seen.
PUSH = """
if ARGV[1] ~= '' and redis.call('SADD', KEYS[1], ARGV[1]) == 0 then
  return 0
end
if redis.call('ZADD', KEYS[2], 'NX', ARGV[3], ARGV[2]) == 1 then
  redis.call('ZINCRBY', KEYS[3], 1, ARGV[4])
end
return 1
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

local_requeue = """
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
RELEASE = local_requeue + """
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

# KEYS: inflight, lease_owner, attempts, queue, host_backlog, deadletter, stats
# ARGV: now, max attempts, batch size
# Takes back leases whose deadline passed (their worker died or hung): back to
# the queue, or to the dead letters once a request has expired too often.
# Returns {requeued, dead}.
REAP = local_requeue + """
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local requeued, dead = 0, 0
for _, item in ipairs(expired) do
  redis.call('ZREM', KEYS[1], item)
  redis.call('HDEL', KEYS[2], item)
  local n = redis.call('HINCRBY', KEYS[3], item, 1)
  if n >= tonumber(ARGV[2]) then
    redis.call('HDEL', KEYS[3], item)
    redis.call('LPUSH', KEYS[6], cjson.encode({reason = 'lease expired ' .. n .. ' times', request = item}))
    dead = dead + 1
  else
    requeue(KEYS[4], KEYS[5], item)
    requeued = requeued + 1
  end
end
if requeued > 0 then redis.call('HINCRBY', KEYS[7], 'leases_expired', requeued) end
if dead > 0 then redis.call('HINCRBY', KEYS[7], 'dead_letters', dead) end
return {requeued, dead}
"""
