-- ACK: forgets finished requests (lease, owner, attempts) that worker still
--   holds. A lease that expired and was taken back, or given to another worker,
--   is left alone: that worker's copy is the live one. Returns how many were
--   acknowledged.
-- PRELUDE: frontier
-- ARGV: prefix delay worker payload...
-- FLAGS: allow-oom

local worker, done = ARGV[3], 0
for i = 4, #ARGV do
  if redis.call('HGET', K_LEASE_OWNER, ARGV[i]) == worker then
    done = done + redis.call('ZREM', K_INFLIGHT, ARGV[i])
    redis.call('HDEL', K_LEASE_OWNER, ARGV[i])
    redis.call('HDEL', K_ATTEMPTS, ARGV[i])
  end
end
return done
