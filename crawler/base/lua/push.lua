-- PUSH: marks each request's seen token as seen and queues the request, unless
--   check is on and the token had been seen. Returns one 1 (queued) or 0 (seen
--   before) per request.
-- PRELUDE: frontier
-- ARGV: prefix delay check mode chunk_bits [token payload score host]...
--   check: "1" or "0"; mode: the seen filter, "set", "bloom" or "redisbloom";
--   chunk_bits: bits per Bloom chunk; then per request: its seen token
--   (fingerprint, Bloom bit positions "p1,p2,..", or ""), its JSON ("" to only
--   mark the token seen), its score (-priority) and its host.

local check, bloom, chunk_bits = ARGV[3] == '1', ARGV[4] == 'bloom', tonumber(ARGV[5])
local redisbloom = ARGV[4] == 'redisbloom'
-- The Bloom filter is a row of bitmaps of chunk_bits bits each, every one
-- created at its full size: a bitmap grown by SETBIT gets up to twice the
-- memory it needs, and one string could hold no more than 2^32 bits.
-- The chunks this call knows to exist (number -> key name): no command runs
-- while a script does, so each is checked once per call, not once per bit.
local chunks = {}
local function setbit(pos)
  local n = math.floor(pos / chunk_bits)
  local chunk = chunks[n]
  if not chunk then
    chunk = K_SEEN_BLOOM .. ':' .. n
    if redis.call('EXISTS', chunk) == 0 then
      -- SETRANGE on a new key allocates exactly the length asked for.
      redis.call('SETRANGE', chunk, chunk_bits / 8 - 1, string.char(0))
    end
    chunks[n] = chunk
  end
  return redis.call('SETBIT', chunk, pos % chunk_bits, 1)
end
local function mark_seen(token)
  if token == '' then return true end
  local new = false
  if redisbloom then
    new = redis.call('BF.ADD', K_SEEN_BLOOM, token) == 1
  elseif bloom then
    for pos in string.gmatch(token, '%d+') do
      if setbit(tonumber(pos)) == 0 then new = true end
    end
  else
    new = redis.call('SADD', K_SEEN, token) == 1
  end
  if new then redis.call('INCR', K_SEEN_COUNT) end
  return new
end
local t = now()
local out = {}
for i = 6, #ARGV, 4 do
  local queued = 1
  if not mark_seen(ARGV[i]) and check then queued = 0 end
  if queued == 1 and ARGV[i + 1] ~= '' then enqueue(ARGV[i + 1], ARGV[i + 3], tonumber(ARGV[i + 2]), t) end
  out[#out + 1] = queued
end
return out
