-- HEARTBEAT: says that a worker is alive: its score in workers becomes Redis'
--   time now (seconds), like the lease deadlines. Workers silent for more than
--   forget seconds (they died without saying goodbye) are removed, so the set
--   holds the live workers and the recently gone. Returns ZADD's reply: 1 for a
--   worker not listed before, else 0.
-- KEYS: workers
-- ARGV: worker forget
-- FLAGS: allow-oom

local t = redis.call('TIME')
local now = t[1] + t[2] / 1000000
redis.call('ZREMRANGEBYSCORE', K_WORKERS, '-inf', '(' .. (now - tonumber(ARGV[2])))
return redis.call('ZADD', K_WORKERS, now, ARGV[1])
