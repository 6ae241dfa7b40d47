-- LEASE: leases up to count requests, at most one per host whose delay has
--   passed (the most urgent hosts first, each host's highest priority request;
--   a host with no delay gives as many as asked), into the in-flight set with a
--   deadline and an owner. Honours the lease budget. Returns {wait, request
--   JSON...}: wait is "0" when something was leased, else the seconds until the
--   next host is ready, or "-1" when nothing is queued (or the budget is spent).
-- PRELUDE: frontier
-- ARGV: prefix delay lease worker count
--   lease: seconds until the deadline; worker: the id of the leasing worker.

local t = now()
local lease, worker, n = tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local budget = redis.call('GET', K_BUDGET)
if budget then
  local left = tonumber(budget) - tonumber(redis.call('GET', K_LEASED_TOTAL) or '0')
  if left <= 0 then return {'-1'} end
  if left < n then n = left end
end
local out = {'0'}
for _, host in ipairs(redis.call('ZRANGEBYSCORE', K_READY, '-inf', t, 'LIMIT', 0, n)) do
  local q = PREFIX .. host
  local delay = tonumber(redis.call('HGET', K_HOST_DELAY, host) or DEFAULT_DELAY)
  -- One request per host and lease when the host has a delay; with none, as many as asked.
  local take = 1
  if delay <= 0 then take = n - (#out - 1) end
  if take < 1 then break end
  local items = redis.call('ZRANGE', q, 0, take - 1)
  for _, item in ipairs(items) do
    redis.call('ZREM', q, item)
    redis.call('ZADD', K_INFLIGHT, t + lease, item)
    redis.call('HSET', K_LEASE_OWNER, item, worker)
    out[#out + 1] = item
  end
  if #items > 0 then
    if tonumber(redis.call('ZINCRBY', K_HOST_BACKLOG, -#items, host)) <= 0 then
      redis.call('ZREM', K_HOST_BACKLOG, host)
    end
    redis.call('DECRBY', K_QUEUED, #items)
  end
  redis.call('HSET', K_HOST_NEXT, host, t + delay)
  if redis.call('EXISTS', q) == 1 then
    redis.call('ZADD', K_READY, t + delay, host)
  else
    redis.call('ZREM', K_READY, host)
  end
end
if budget then redis.call('INCRBY', K_LEASED_TOTAL, #out - 1) end
if #out == 1 then
  local first = redis.call('ZRANGE', K_READY, 0, 0, 'WITHSCORES')
  if first[2] then out[1] = tostring(math.max(tonumber(first[2]) - t, 0)) else out[1] = '-1' end
end
return out
