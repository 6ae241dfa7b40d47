-- REAP: takes back up to batch leases whose deadline passed (their worker died
--   or hung): each is queued again, or set aside as a dead letter once it has
--   failed max_attempts times. Returns {requeued, dead}.
-- PRELUDE: frontier
-- ARGV: prefix delay max_attempts batch

local t = now()
local expired = redis.call('ZRANGEBYSCORE', K_INFLIGHT, '-inf', t, 'LIMIT', 0, tonumber(ARGV[4]))
local requeued, dead = 0, 0
for _, item in ipairs(expired) do
  if retry(item, tonumber(ARGV[3]), 'lease expired', t) == 1 then
    requeued = requeued + 1
  else
    dead = dead + 1
  end
end
if #expired > 0 then redis.call('HINCRBY', K_STATS, 'leases_expired', #expired) end
return {requeued, dead}
