-- HUB_SET: writes one hub's state JSON if it is still the one the caller read
--   (compare and set; old "" means the hub must not exist yet), with the request
--   JSON of its next visit, and schedules it: due is a Redis time, or "" to retire
--   the hub (it leaves the due set and keeps its state). Its visit is no longer
--   marked queued. The counts follow the state (HUBS); with cap given, a state
--   that would give its site more than cap section fronts is not written.
--   Returns 1 when written, 0 when the state had changed meanwhile (the caller
--   reads it again and retries), -1 when refused by the cap.
-- PRELUDE: hubs
-- ARGV: url old state request due cap

local url, old = ARGV[1], ARGV[2]
local current = redis.call('HGET', K_HUBS, url)
if (current or '') ~= old then return 0 end
local was, now = decoded(current), decoded(ARGV[3])
local site = front_site(now)
if site and site ~= front_site(was) and ARGV[6] ~= ''
    and tonumber(redis.call('HGET', K_HUB_FRONTS, site) or '0') >= tonumber(ARGV[6]) then
  return -1
end
recount(was, now)
redis.call('HSET', K_HUBS, url, ARGV[3])
redis.call('HSET', K_HUB_REQUESTS, url, ARGV[4])
redis.call('ZREM', K_HUBS_QUEUED, url)
if ARGV[5] == '' then
  redis.call('ZREM', K_HUBS_DUE, url)
else
  redis.call('ZADD', K_HUBS_DUE, tonumber(ARGV[5]), url)
end
return 1
