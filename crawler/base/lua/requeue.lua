-- REQUEUE: puts every dead letter back in its host's queue, oldest first, with
--   its attempts reset (FRONTIER_MAX_ATTEMPTS more leases from now), in one
--   atomic step. A dead letter whose request is queued or in flight already is
--   only removed; one that holds no request of this crawl (unreadable JSON, no
--   host: a corrupt entry) stays in the list, in its place. Counts the requeued
--   ones (stats field dead_letters_requeued). Returns {requeued, already queued
--   or in flight, kept}.
-- PRELUDE: frontier
-- ARGV: prefix delay

local t = now()
local letters = redis.call('LRANGE', K_DEADLETTER, 0, -1)
local requeued, already, kept = 0, 0, {}
-- LPUSH put the newest at the head: walk from the tail, the oldest.
for i = #letters, 1, -1 do
  local ok, letter = pcall(cjson.decode, letters[i])
  local item, host = nil, nil
  if ok and type(letter) == 'table' and type(letter['request']) == 'string' then
    item = letter['request']
    local decoded, req = pcall(cjson.decode, item)
    if decoded and type(req) == 'table' and type(req['host']) == 'string' and req['host'] ~= '' then
      host = req['host']
    end
  end
  if host == nil then
    kept[#kept + 1] = letters[i]
  else
    redis.call('HDEL', K_ATTEMPTS, item)
    if redis.call('ZSCORE', K_INFLIGHT, item) then
      already = already + 1
    elseif requeue(item, t) == 1 then
      requeued = requeued + 1
    else
      already = already + 1
    end
  end
end
redis.call('DEL', K_DEADLETTER)
-- Oldest first again, so the kept ones keep their order (newest at the head).
for _, letter in ipairs(kept) do redis.call('LPUSH', K_DEADLETTER, letter) end
if requeued > 0 then redis.call('HINCRBY', K_STATS, 'dead_letters_requeued', requeued) end
return {requeued, already, #kept}
