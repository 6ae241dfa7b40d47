-- RELEASE: gives this worker's unfinished leases back to their queues at once
--   (graceful shutdown). Returns how many were released.
-- PRELUDE: frontier
-- ARGV: prefix delay worker payload...
-- FLAGS: allow-oom

local t, released = now(), 0
for i = 4, #ARGV do
  if redis.call('HGET', K_LEASE_OWNER, ARGV[i]) == ARGV[3] then
    forget(ARGV[i])
    requeue(ARGV[i], t)
    released = released + 1
  end
end
return released
