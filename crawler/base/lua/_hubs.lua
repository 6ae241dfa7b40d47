-- HUBS: what the scripts that write hub states share: reading a state, and the
--   counts kept beside the states, so that no reader scans every hub for them:
--   hub_kinds (a kind -> its hubs still scheduled; "retired" -> the retired hubs)
--   and hub_fronts (a site -> its section fronts, retired ones included). A crawl
--   begun before the counts is counted once, from every state, by the first of
--   these scripts to run (one HVALS: Redis is busy for that long, once).
-- KEYS: hubs hubs_due hubs_queued hub_requests hub_kinds hub_fronts
-- ARGV: url

local function decoded(state)
  if not state or state == '' then return nil end
  local ok, hub = pcall(cjson.decode, state)
  if ok and type(hub) == 'table' and type(hub.kind) == 'string' then return hub end
  return nil
end

-- The hub_kinds field a hub counts in, and the site whose fronts it counts among.
local function kind_field(hub)
  if not hub then return nil end
  if hub.retired_at ~= nil and hub.retired_at ~= cjson.null then return 'retired' end
  return hub.kind
end

local function front_site(hub)
  if hub and hub.kind == 'front' and type(hub.site) == 'string' then return hub.site end
  return nil
end

-- The counts move from what the hub was (nil: it did not exist) to what it is (nil: gone).
local function recount(was, now)
  local before, after = kind_field(was), kind_field(now)
  if before ~= after then
    if before then redis.call('HINCRBY', K_HUB_KINDS, before, -1) end
    if after then redis.call('HINCRBY', K_HUB_KINDS, after, 1) end
  end
  before, after = front_site(was), front_site(now)
  if before ~= after then
    if before then redis.call('HINCRBY', K_HUB_FRONTS, before, -1) end
    if after then redis.call('HINCRBY', K_HUB_FRONTS, after, 1) end
  end
end

if redis.call('EXISTS', K_HUB_KINDS) == 0 then
  redis.call('DEL', K_HUB_FRONTS)
  for _, state in ipairs(redis.call('HVALS', K_HUBS)) do
    recount(nil, decoded(state))
  end
  redis.call('HSETNX', K_HUB_KINDS, 'retired', 0)
end
