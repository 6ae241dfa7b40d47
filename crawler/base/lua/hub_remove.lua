-- HUB_REMOVE: forgets one hub: its state, schedule, queued mark and request; a
--   section front no longer counts for its site in hub_fronts. Returns 1 when the
--   hub existed, else 0. Frees memory, so that it runs when Redis is full too.
-- KEYS: hubs hubs_due hubs_queued hub_requests hub_fronts
-- ARGV: url
-- FLAGS: allow-oom

local url = ARGV[1]
local state = redis.call('HGET', K_HUBS, url)
redis.call('ZREM', K_HUBS_DUE, url)
redis.call('ZREM', K_HUBS_QUEUED, url)
redis.call('HDEL', K_HUB_REQUESTS, url)
if not state then return 0 end
redis.call('HDEL', K_HUBS, url)
local ok, hub = pcall(cjson.decode, state)
if ok and type(hub) == 'table' and hub.kind == 'front' and type(hub.site) == 'string' then
  redis.call('HINCRBY', K_HUB_FRONTS, hub.site, -1)
end
return 1
