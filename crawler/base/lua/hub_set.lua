-- HUB_SET: writes one hub's state JSON if it is still the one the caller read
--   (compare and set; old "" means the hub must not exist yet), with the request
--   JSON of its next visit, and schedules it: due is a Redis time, or "" to retire
--   the hub (it leaves the due set and keeps its state). Its visit is no longer
--   marked queued. Keeps hub_fronts (site -> section fronts registered, retired
--   ones included) in step: a state that becomes a front of a site counts there,
--   one that stops being it no longer does; with cap given, a state that would
--   make its site's fronts more than cap is not written. Returns 1 when written,
--   0 when the state had changed meanwhile (the caller reads it again and
--   retries), -1 when refused by the cap.
-- KEYS: hubs hubs_due hubs_queued hub_requests hub_fronts
-- ARGV: url old state request due cap

local function front_site(state)
  if not state or state == '' then return nil end
  local ok, hub = pcall(cjson.decode, state)
  if ok and type(hub) == 'table' and hub.kind == 'front' and type(hub.site) == 'string' then
    return hub.site
  end
  return nil
end

local url, old = ARGV[1], ARGV[2]
local current = redis.call('HGET', K_HUBS, url)
if (current or '') ~= old then return 0 end
local was, now = front_site(current), front_site(ARGV[3])
if now ~= was then
  if now and ARGV[6] ~= '' and tonumber(redis.call('HGET', K_HUB_FRONTS, now) or '0') >= tonumber(ARGV[6]) then
    return -1
  end
  if was then redis.call('HINCRBY', K_HUB_FRONTS, was, -1) end
  if now then redis.call('HINCRBY', K_HUB_FRONTS, now, 1) end
end
redis.call('HSET', K_HUBS, url, ARGV[3])
redis.call('HSET', K_HUB_REQUESTS, url, ARGV[4])
redis.call('ZREM', K_HUBS_QUEUED, url)
if ARGV[5] == '' then
  redis.call('ZREM', K_HUBS_DUE, url)
else
  redis.call('ZADD', K_HUBS_DUE, tonumber(ARGV[5]), url)
end
return 1
