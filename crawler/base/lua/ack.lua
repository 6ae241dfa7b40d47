-- ACK: forgets finished requests (lease, owner, attempts). Returns how many
--   were still leased.
-- PRELUDE: frontier
-- ARGV: prefix delay payload...

local done = 0
for i = 3, #ARGV do
  done = done + redis.call('ZREM', K_INFLIGHT, ARGV[i])
  redis.call('HDEL', K_LEASE_OWNER, ARGV[i])
  redis.call('HDEL', K_ATTEMPTS, ARGV[i])
end
return done
