-- STORE: stores one article unless a stored one has its canonical URL, its
--   content hash, or (close enough) its MinHash signature. Checks and writes are
--   one atomic step, so two workers storing the same story at once store it once.
--   Returns "duplicate_url", "duplicate_content", "near_duplicate" (each counted
--   in stats, as are capped and invalid candidates) or "stored": the article
--   appended to articles, its URL, content hash and signature indexed, its
--   content hash added to each of its band sets (the minhash_band KEYS, one per
--   band), articles_stored counted.
-- KEYS: dedupe_url dedupe_content articles stats minhash_signatures minhash_band...
-- ARGV: url content_hash signature min_equal check article max_candidates
--   url: canonical URL; signature: MinHash, 8 hex digits a value; min_equal: how
--   many values must be equal for a near-duplicate; check: "1" to check for
--   duplicates, "0" to only store; article: its JSON; max_candidates: the most
--   stored articles to compare the signature with.

if ARGV[5] == '1' then
  if redis.call('SISMEMBER', K_DEDUPE_URL, ARGV[1]) == 1 then
    redis.call('HINCRBY', K_STATS, 'duplicate_url', 1)
    return 'duplicate_url'
  end
  if redis.call('SISMEMBER', K_DEDUPE_CONTENT, ARGV[2]) == 1 then
    redis.call('HINCRBY', K_STATS, 'duplicate_content', 1)
    return 'duplicate_content'
  end

  local signature = ARGV[3]
  local min_equal = tonumber(ARGV[4])
  local max_candidates = tonumber(ARGV[7])
  local values = #signature / 8

  -- The stored articles sharing a band, and how many bands each shares: the
  -- more, the more similar, so with too many candidates those are kept.
  local shared, candidates, capped = {}, {}, false
  for _, band in ipairs(K_MINHASH_BAND) do
    local members
    if redis.call('SCARD', band) > max_candidates then
      -- A crowded band (boilerplate, a flood of near-empty pages): a sample.
      members = redis.call('SRANDMEMBER', band, max_candidates)
      capped = true
    else
      members = redis.call('SMEMBERS', band)
    end
    for _, id in ipairs(members) do
      local n = shared[id]
      if n then
        shared[id] = n + 1
      else
        shared[id] = 1
        candidates[#candidates + 1] = id
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

  local mine = {}
  for i = 1, values do
    mine[i] = string.sub(signature, 8 * i - 7, 8 * i)
  end
  local max_unequal = values - min_equal
  local near, invalid = false, 0
  for c = 1, math.min(#candidates, max_candidates) do
    local other = redis.call('HGET', K_MINHASH_SIGNATURES, candidates[c])
    if type(other) ~= 'string' or #other ~= #signature then
      invalid = invalid + 1
    else
      local equal, unequal = 0, 0
      for i = 1, values do
        if string.sub(other, 8 * i - 7, 8 * i) == mine[i] then
          equal = equal + 1
          if equal >= min_equal then
            near = true
            break
          end
        else
          unequal = unequal + 1
          if unequal > max_unequal then
            break
          end
        end
      end
      if near then
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
-- copy may be stored again), never indexed but missing (lost for good). The
-- signature is written before the bands naming it.
redis.call('XADD', K_ARTICLES, '*', 'article', ARGV[6])
redis.call('SADD', K_DEDUPE_URL, ARGV[1])
redis.call('SADD', K_DEDUPE_CONTENT, ARGV[2])
redis.call('HSET', K_MINHASH_SIGNATURES, ARGV[2], ARGV[3])
for _, band in ipairs(K_MINHASH_BAND) do
  redis.call('SADD', band, ARGV[2])
end
redis.call('HINCRBY', K_STATS, 'articles_stored', 1)
return 'stored'
