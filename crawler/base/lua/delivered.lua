-- DELIVERED: acknowledges, for one consumer group of articles, the entries its
--   sink now holds durably, then trims from articles
--   every entry that all its consumer groups have acknowledged (XTRIM MINID):
--   the oldest entry some group still has pending or has not read yet stays,
--   and all after it. Without any group nothing is trimmed. Trimmed entries
--   are counted in stats (articles_trimmed), so that the articles ever stored
--   are the stream's length plus that count, and acknowledged ones in delivered
--   (per group). The counting comes last and may fail alone: on a Redis out of
--   memory acknowledging and trimming still run, and free memory. Returns
--   {acknowledged, trimmed}.
-- KEYS: articles delivered stats
-- ARGV: group id...
--   group: the consumer group; id: stream ids of its entries now in its sink
--   (none: only trim).

local acked = 0
-- unpack() is bounded by Lua's stack: a thousand ids a call.
for first = 2, #ARGV, 1000 do
  acked = acked + redis.call('XACK', K_ARTICLES, ARGV[1], unpack(ARGV, first, math.min(first + 999, #ARGV)))
end

local function counted(trimmed)
  -- pcall: HINCRBY is refused while Redis is out of memory, XACK and XTRIM are not.
  if acked > 0 then
    redis.pcall('HINCRBY', K_DELIVERED, ARGV[1], acked)
  end
  if trimmed > 0 then
    redis.pcall('HINCRBY', K_STATS, 'articles_trimmed', trimmed)
  end
  return {acked, trimmed}
end

if redis.call('EXISTS', K_ARTICLES) == 0 then
  return counted(0)
end

-- Stream ids "<ms>-<seq>" compared exactly: as decimal strings, shorter is smaller.
local function number_less(a, b)
  if #a ~= #b then
    return #a < #b
  end
  return a < b
end
local function id_less(a, b)
  local a_ms, a_seq = string.match(a, '^(%d+)-(%d+)$')
  local b_ms, b_seq = string.match(b, '^(%d+)-(%d+)$')
  if a_ms ~= b_ms then
    return number_less(a_ms, b_ms)
  end
  return number_less(a_seq, b_seq)
end

-- Per group, the smallest id it has not acknowledged: its oldest pending entry,
-- else the id just after the last one it read.
local boundary = nil
for _, fields in ipairs(redis.call('XINFO', 'GROUPS', K_ARTICLES)) do
  local group = {}
  for i = 1, #fields, 2 do
    group[fields[i]] = fields[i + 1]
  end
  local first
  if group['pending'] > 0 then
    first = redis.call('XPENDING', K_ARTICLES, group['name'])[2]
  else
    local last_ms, last_seq = string.match(group['last-delivered-id'], '^(%d+)-(%d+)$')
    -- seq below 2^53: a stream never gets that many entries in one millisecond.
    first = last_ms .. '-' .. string.format('%.0f', tonumber(last_seq) + 1)
  end
  if boundary == nil or id_less(first, boundary) then
    boundary = first
  end
end
if boundary == nil then
  return counted(0)
end
return counted(redis.call('XTRIM', K_ARTICLES, 'MINID', boundary))
