-- RENEW: pushes the deadlines of this worker's leases lease seconds forward. A
--   lease that another worker has taken back in the meantime is left alone.
--   Returns how many deadlines changed.
-- PRELUDE: frontier
-- ARGV: prefix delay lease worker payload...

local deadline, worker = now() + tonumber(ARGV[3]), ARGV[4]
local renewed = 0
for i = 5, #ARGV do
  if redis.call('HGET', K_LEASE_OWNER, ARGV[i]) == worker then
    renewed = renewed + redis.call('ZADD', K_INFLIGHT, 'XX', 'CH', deadline, ARGV[i])
  end
end
return renewed
