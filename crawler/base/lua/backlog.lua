-- BACKLOG: what each consumer group of articles (crawler deliver) has not
--   acknowledged yet. Returns {now_ms, length, [group backlog oldest_ms pending
--   consumers delivered]...}: Redis' time now in milliseconds, the entries in
--   the stream (0 without one), then per group its name, its entries not yet
--   acknowledged (never read by it, or read and pending), the time (ms, from
--   the stream id) of the oldest of them or 0 when there is none, how many are
--   pending, its consumers, and the articles it acknowledged so far (delivered).
--   A group whose lag Redis cannot tell (entries deleted with XDEL, which this
--   service never does) counts the whole stream as its backlog.
-- KEYS: articles delivered
-- ARGV: none

local t = redis.call('TIME')
local reply = {tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000), 0}
if redis.call('EXISTS', K_ARTICLES) == 0 then
  return reply
end
local length = redis.call('XLEN', K_ARTICLES)
reply[2] = length

-- The milliseconds part of a stream id, as a number (exact below 2^53).
local function ms(id)
  return tonumber(string.match(id, '^(%d+)'))
end

for _, fields in ipairs(redis.call('XINFO', 'GROUPS', K_ARTICLES)) do
  local group = {}
  for i = 1, #fields, 2 do
    group[fields[i]] = fields[i + 1]
  end
  local backlog = length
  if group['lag'] then
    backlog = group['lag'] + group['pending']
  end
  local oldest = 0
  if group['pending'] > 0 then
    oldest = ms(redis.call('XPENDING', K_ARTICLES, group['name'])[2])
  end
  local unread = redis.call('XRANGE', K_ARTICLES, '(' .. group['last-delivered-id'], '+', 'COUNT', 1)
  if #unread > 0 and (oldest == 0 or ms(unread[1][1]) < oldest) then
    oldest = ms(unread[1][1])
  end
  local delivered = redis.call('HGET', K_DELIVERED, group['name']) or 0
  for _, value in ipairs({group['name'], backlog, oldest, group['pending'], group['consumers'],
                          tonumber(delivered)}) do
    reply[#reply + 1] = value
  end
end
return reply
