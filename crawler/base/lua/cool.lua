-- COOL: politeness news about one host: a pause (Retry-After) keeps every worker
--   off it until then; a delay (robots.txt Crawl-delay) applies to all its
--   fetches, the next one included: robots.txt is read just before a fetch of
--   the host, so its next fetch may come no sooner than the delay from now.
--   Returns 1.
-- PRELUDE: frontier
-- ARGV: prefix delay host pause delay_seconds
--   pause: seconds ("" for none); delay_seconds: the host's delay ("" to keep it).

local host = ARGV[3]
local t = now()
local function hold_until(until_t)
  if until_t > tonumber(redis.call('HGET', K_HOST_NEXT, host) or '0') then
    redis.call('HSET', K_HOST_NEXT, host, until_t)
    redis.call('ZADD', K_READY, 'XX', 'GT', until_t, host)
  end
end
if ARGV[5] ~= '' then
  redis.call('HSET', K_HOST_DELAY, host, ARGV[5])
  hold_until(t + tonumber(ARGV[5]))
end
if ARGV[4] ~= '' then hold_until(t + tonumber(ARGV[4])) end
return 1
