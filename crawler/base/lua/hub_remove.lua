-- HUB_REMOVE: forgets one hub: its state, schedule, queued mark and request, and
--   takes it out of the counts (HUBS). Returns 1 when the hub existed, else 0.
-- PRELUDE: hubs
-- ARGV: url

local url = ARGV[1]
local state = redis.call('HGET', K_HUBS, url)
redis.call('ZREM', K_HUBS_DUE, url)
redis.call('ZREM', K_HUBS_QUEUED, url)
redis.call('HDEL', K_HUB_REQUESTS, url)
if not state then return 0 end
redis.call('HDEL', K_HUBS, url)
recount(decoded(state), nil)
return 1
