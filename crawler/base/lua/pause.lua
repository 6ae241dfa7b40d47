-- PAUSE: records why the crawl's workers stopped leasing, or that they lease
--   again. With a reason: sets reason and detail, keeps the first since (Redis
--   time) of an unbroken pause, and lets the record expire after ttl seconds
--   unless a worker writes it again (a paused worker rewrites it every check,
--   so the record of workers that all died goes away). With reason "": deletes
--   it. Returns 1 when the record was created or deleted, else 0.
-- KEYS: paused
-- ARGV: reason detail ttl
--   reason: "backlog", "memory" or "" (not paused); detail: one line for people.
-- FLAGS: allow-oom

if ARGV[1] == '' then
  return redis.call('DEL', K_PAUSED)
end
local t = redis.call('TIME')
local created = redis.call('HSETNX', K_PAUSED, 'since', t[1] + t[2] / 1000000)
redis.call('HSET', K_PAUSED, 'reason', ARGV[1], 'detail', ARGV[2])
redis.call('EXPIRE', K_PAUSED, ARGV[3])
return created
