-- HUB_SET: writes one hub's state JSON if it is still the one the caller read
--   (compare and set; old "" means the hub must not exist yet), with the request
--   JSON of its next visit, and schedules it: due is a Redis time, or "" to retire
--   the hub (it leaves the due set and keeps its state). Its visit is no longer
--   marked queued. Returns 1 when written, 0 when the state had changed meanwhile
--   (the caller reads it again and retries).
-- KEYS: hubs hubs_due hubs_queued hub_requests
-- ARGV: url old state request due

local url, old = ARGV[1], ARGV[2]
local current = redis.call('HGET', K_HUBS, url)
if (current or '') ~= old then return 0 end
redis.call('HSET', K_HUBS, url, ARGV[3])
redis.call('HSET', K_HUB_REQUESTS, url, ARGV[4])
redis.call('ZREM', K_HUBS_QUEUED, url)
if ARGV[5] == '' then
  redis.call('ZREM', K_HUBS_DUE, url)
else
  redis.call('ZADD', K_HUBS_DUE, tonumber(ARGV[5]), url)
end
return 1
