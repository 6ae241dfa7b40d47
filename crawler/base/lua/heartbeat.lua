-- HEARTBEAT: says that a worker is alive: its score in workers becomes Redis'
--   time now (seconds), like the lease deadlines. Returns ZADD's reply: 1 for a
--   worker not listed before, else 0.
-- KEYS: workers
-- ARGV: worker
-- FLAGS: allow-oom

local t = redis.call('TIME')
return redis.call('ZADD', K_WORKERS, t[1] + t[2] / 1000000, ARGV[1])
