-- RENEW: pushes the deadlines of this worker's leases lease seconds forward. A
--   lease that is no longer this worker's (it expired and was taken back, or
--   another worker holds it now) is left alone and counted as lost (stats field
--   leases_lost). Returns {renewed, lost payload...}.
-- PRELUDE: frontier
-- ARGV: prefix delay lease worker payload...
-- FLAGS: allow-oom

local deadline, worker = now() + tonumber(ARGV[3]), ARGV[4]
local out = {0}
for i = 5, #ARGV do
  if redis.call('HGET', K_LEASE_OWNER, ARGV[i]) == worker then
    redis.call('ZADD', K_INFLIGHT, 'XX', deadline, ARGV[i])
    out[1] = out[1] + 1
  else
    out[#out + 1] = ARGV[i]
  end
end
if #out > 1 then redis.call('HINCRBY', K_STATS, 'leases_lost', #out - 1) end
return out
