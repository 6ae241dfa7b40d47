-- RETRY: queues this worker's leased requests whose processing failed again, or
--   sets them aside as dead letters once they failed max_attempts times.
--   Returns {requeued, dead}.
-- PRELUDE: frontier
-- ARGV: prefix delay worker max_attempts payload...

local t = now()
local requeued, dead = 0, 0
for i = 5, #ARGV do
  if redis.call('HGET', K_LEASE_OWNER, ARGV[i]) == ARGV[3] then
    if retry(ARGV[i], tonumber(ARGV[4]), 'processing failed', t) == 1 then
      requeued = requeued + 1
    else
      dead = dead + 1
    end
  end
end
return {requeued, dead}
