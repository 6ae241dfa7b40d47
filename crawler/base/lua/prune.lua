-- PRUNE: forgets the politeness state of hosts the crawl no longer fetches: a
--   host with nothing queued whose next-fetch time (host_next) passed more than
--   forget seconds ago loses it and its delay (host_delay, a robots.txt
--   Crawl-delay: workers read robots.txt again after as long, and set it again).
--   A host with requests queued, or whose time is in the future (a Retry-After
--   pause), or more recent, keeps both. A delay with no next-fetch time and no
--   queue is forgotten too. Looks at up to sample random entries of each hash
--   per call, so the cost is bounded whatever their size; called on every
--   worker's heartbeat. Returns {host_next fields removed, host_delay fields removed}.
-- PRELUDE: frontier
-- ARGV: prefix delay sample forget

local t = now()
local sample, before = tonumber(ARGV[3]), t - tonumber(ARGV[4])
local next_removed, delay_removed = 0, 0
local entries = redis.call('HRANDFIELD', K_HOST_NEXT, sample, 'WITHVALUES')
for i = 1, #entries, 2 do
  local host = entries[i]
  if tonumber(entries[i + 1]) < before and redis.call('EXISTS', PREFIX .. host) == 0 then
    redis.call('HDEL', K_HOST_NEXT, host)
    next_removed = next_removed + 1
    delay_removed = delay_removed + redis.call('HDEL', K_HOST_DELAY, host)
  end
end
for _, host in ipairs(redis.call('HRANDFIELD', K_HOST_DELAY, sample)) do
  if redis.call('HEXISTS', K_HOST_NEXT, host) == 0 and redis.call('EXISTS', PREFIX .. host) == 0 then
    delay_removed = delay_removed + redis.call('HDEL', K_HOST_DELAY, host)
  end
end
return {next_removed, delay_removed}
