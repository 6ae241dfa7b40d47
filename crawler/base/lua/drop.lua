-- DROP: deletes every dead letter, in one atomic step, and counts them (stats
--   field dead_letters_dropped). Returns how many were dropped.
-- PRELUDE: frontier
-- ARGV: prefix delay

local n = redis.call('LLEN', K_DEADLETTER)
if n > 0 then
  redis.call('DEL', K_DEADLETTER)
  redis.call('HINCRBY', K_STATS, 'dead_letters_dropped', n)
end
return n
