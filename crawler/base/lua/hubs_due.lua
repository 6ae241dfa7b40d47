-- HUBS_DUE: queues the next visit of up to limit hubs whose due time has come
--   (Redis time) into their hosts' queues, with no seen check (a hub is revisited,
--   never filtered), and marks each one queued (hubs_queued: now). One due time is
--   queued once, however many workers run this at once: a hub already queued is
--   skipped until its visit is recorded (HUB_SET), unless it was queued more than
--   requeue_after seconds ago (the visit was lost), when it is queued again. The due
--   time of a queued hub moves to when it may be queued again, so the hubs waiting
--   for their visit never fill the window of later calls. A hub without a request
--   JSON is taken out of the due set. Returns {queued, wait}: wait is the seconds
--   until the next hub falls due, or "-1" when none is scheduled.
-- PRELUDE: frontier
-- ARGV: prefix delay limit requeue_after

local t = now()
local limit, requeue_after = tonumber(ARGV[3]), tonumber(ARGV[4])
local queued = 0
for _, url in ipairs(redis.call('ZRANGEBYSCORE', K_HUBS_DUE, '-inf', t, 'LIMIT', 0, limit)) do
  local since = tonumber(redis.call('ZSCORE', K_HUBS_QUEUED, url))
  if since and since > t - requeue_after then
    redis.call('ZADD', K_HUBS_DUE, since + requeue_after, url)
  else
    local item = redis.call('HGET', K_HUB_REQUESTS, url)
    if item then
      requeue(item, t)
      redis.call('ZADD', K_HUBS_QUEUED, t, url)
      redis.call('ZADD', K_HUBS_DUE, t + requeue_after, url)
      queued = queued + 1
    else
      redis.call('ZREM', K_HUBS_DUE, url)
    end
  end
end
local wait = '-1'
local first = redis.call('ZRANGE', K_HUBS_DUE, 0, 0, 'WITHSCORES')
if first[2] then wait = tostring(math.max(tonumber(first[2]) - t, 0)) end
return {queued, wait}
