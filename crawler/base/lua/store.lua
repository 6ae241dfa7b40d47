-- STORE: stores one article unless one stored within the dedupe window has its
--   canonical URL, its content hash, or (close enough) its MinHash signature.
--   Checks and writes are one atomic step, so two workers storing the same story
--   at once store it once. Returns "duplicate_url", "duplicate_content",
--   "near_duplicate" (each counted in stats, as are capped and invalid
--   candidates) or "stored": the article appended to articles, and indexed in
--   today's dedupe hash (the first dedupe_day key): field "u"..url -> "",
--   "c"..id -> its b-bit signature, and for each band field (one byte, the band
--   number, then its 4-byte key) the ids of the articles having it, newest
--   last, at most max_ids of them; the hash expires at expire_at; articles_stored
--   counted.
-- KEYS: articles stats dedupe_day...
-- ARGV: url id signature min_equal check article max_candidates expire_at max_ids band...
--   url, id: 8-byte hashes of the canonical URL and the content hash; signature:
--   b-bit MinHash, two 4-bit values a byte; min_equal: how many of its 4-bit
--   values must be equal for a near-duplicate; check: "1" to check for
--   duplicates, "0" to only store; article: its JSON; max_candidates: the most
--   stored articles to compare the signature with; expire_at: unix time at which
--   today's dedupe hash expires; max_ids: the most ids a band field keeps; band:
--   its band fields. dedupe_day: today's dedupe hash first, then the other days
--   of the window.

local url, id, signature = 'u' .. ARGV[1], ARGV[2], ARGV[3]
local content = 'c' .. id
local bands = {}
for i = 10, #ARGV do
  bands[#bands + 1] = ARGV[i]
end
local today = K_DEDUPE_DAY[1]

if ARGV[5] == '1' then
  for _, day in ipairs(K_DEDUPE_DAY) do
    if redis.call('HEXISTS', day, url) == 1 then
      redis.call('HINCRBY', K_STATS, 'duplicate_url', 1)
      return 'duplicate_url'
    end
  end
  for _, day in ipairs(K_DEDUPE_DAY) do
    if redis.call('HEXISTS', day, content) == 1 then
      redis.call('HINCRBY', K_STATS, 'duplicate_content', 1)
      return 'duplicate_content'
    end
  end

  local min_equal = tonumber(ARGV[4])
  local max_candidates = tonumber(ARGV[7])

  -- The stored articles sharing a band, the day that holds each, and how many
  -- bands each shares: the more, the more similar, so with too many candidates
  -- those are kept.
  local shared, where, candidates, capped = {}, {}, {}, false
  for _, day in ipairs(K_DEDUPE_DAY) do
    for _, ids in ipairs(redis.call('HMGET', day, unpack(bands))) do
      if ids then
        local n = #ids / 8
        local first = 1
        if n > max_candidates then
          -- A crowded band (boilerplate): its newest ids.
          first = n - max_candidates + 1
          capped = true
        end
        for k = first, n do
          local other = string.sub(ids, 8 * k - 7, 8 * k)
          local seen = shared[other]
          if seen then
            shared[other] = seen + 1
          else
            shared[other] = 1
            where[other] = day
            candidates[#candidates + 1] = other
          end
        end
      end
    end
  end
  if #candidates > max_candidates then
    capped = true
  end
  table.sort(candidates, function(a, b)
    if shared[a] ~= shared[b] then
      return shared[a] > shared[b]
    end
    return a < b
  end)

  local mine = {string.byte(signature, 1, -1)}
  local near, invalid = false, 0
  for c = 1, math.min(#candidates, max_candidates) do
    local other = redis.call('HGET', where[candidates[c]], 'c' .. candidates[c])
    if type(other) ~= 'string' or #other ~= #signature then
      invalid = invalid + 1
    else
      -- Two 4-bit values a byte: a byte whose XOR is 0 has both equal, one
      -- below 16 or a multiple of 16 has one equal.
      local equal = 0
      local theirs = {string.byte(other, 1, -1)}
      for i = 1, #mine do
        local x = bit.bxor(mine[i], theirs[i])
        if x == 0 then
          equal = equal + 2
        elseif x < 16 or x % 16 == 0 then
          equal = equal + 1
        end
      end
      if equal >= min_equal then
        near = true
        break
      end
    end
  end
  if capped then
    redis.call('HINCRBY', K_STATS, 'near_duplicate_candidates_capped', 1)
  end
  if invalid > 0 then
    redis.call('HINCRBY', K_STATS, 'near_duplicate_candidates_invalid', invalid)
  end
  if near then
    redis.call('HINCRBY', K_STATS, 'near_duplicate', 1)
    return 'near_duplicate'
  end
end

-- A failing command ends a script without undoing the writes before it, so
-- the article is written first: a failure then leaves it unindexed (a later
-- copy may be stored again), never indexed but missing (lost for good). Under
-- maxmemory only the first write of a script can be refused (OOM): then
-- nothing at all is written. The signature is written before the bands naming it.
redis.call('XADD', K_ARTICLES, '*', 'article', ARGV[6])
redis.call('HSET', today, url, '', content, signature)
local max_ids = 8 * tonumber(ARGV[9])
for _, band in ipairs(bands) do
  local ids = redis.call('HGET', today, band)
  if ids then
    ids = ids .. id
    if #ids > max_ids then
      ids = string.sub(ids, -max_ids)
    end
  else
    ids = id
  end
  redis.call('HSET', today, band, ids)
end
redis.call('EXPIREAT', today, ARGV[8])
redis.call('HINCRBY', K_STATS, 'articles_stored', 1)
return 'stored'
