/** The Lua the library's functions share: how a product and its holds are read, written and published. */
import { STORED_FIELD_NAMES, STORED_FIELDS } from "../inventory/ledger.ts";
import { MAX_EXPIRIES_PER_CHANGE } from "../inventory/rules.ts";
import { DEFAULT_LIMIT_PER_SHOPPER } from "../inventory/product.ts";

/**
 * The Lua helpers of the library, put before its functions.
 *
 * A product's stored fields are the hash fields of its record key, one per field of
 * `STORED_FIELDS` (lib/inventory/ledger.ts), whose list and kinds the library is given: a count
 * as its digits, a flag as `1` or `0`, an optional count as its digits or empty for none, the
 * info as JSON, an optional listing as JSON or empty for none. A field missing from the hash reads as its kind's first value.
 *
 * A sale is stored as `count|orderId`: the units the session bought, and the order of the latest
 * (a sale written before sales were counted is the order id alone, one unit). A product's limit
 * per shopper is its info's `limitPerShopper`, 1 when the info has none.
 *
 * A hold is stored as `expiresAt|heldAt|lease|orderId|client[|payBy]`: ms, ms, 0 or, while it is
 * checked out, the end of the checkout's lease in ms, the order id (maybe empty), the key of the
 * client address that took it (empty, or missing in a hold stored before holds were counted, for
 * none) and, only while it awaits payment, when the payment's time runs out in ms. A hold awaiting
 * payment is in no expiry set (the checkouts expire it, to tell the order service).
 * Each hold with a client is also a member `<product key>|<session>` of the client's sorted set
 * `<prefix>:client:<client>`, scored by its end (`+inf` while it is checked out): whatever ends a
 * hold takes it out, so the set counts the client's holds over every product and process. That key
 * is in no product's hash slot: the library supports one Redis (with replicas or Sentinel), not a
 * Cluster. A checkout whose lease
 * has ended (its process died, or lost Redis before it could end the checkout) is taken over by
 * the next checkout of the same hold, with the same order id, so the order service (idempotent on
 * that id) answers it again; until then no other checkout can start, and the hold cannot go.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.ok(PRODUCT_LUA.includes("local FIELDS = { 'info', 'total'"));
 * ```
 */
export const PRODUCT_LUA = `local MAX_ENDS = ${MAX_EXPIRIES_PER_CHANGE}

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function int(n) return string.format('%d', n) end

-- The product's stored fields and their kinds (STORED_FIELDS in lib/inventory/ledger.ts).
local FIELDS = { ${STORED_FIELD_NAMES.map((name) => `'${name}'`).join(", ")} }
local KINDS = { ${
  STORED_FIELD_NAMES.map((name) => `${name} = '${STORED_FIELDS[name]}'`).join(", ")
} }
-- Each kind's first value, as the hash keeps it.
local FIRST = { count = '0', flag = '0', ['optional count'] = '', ['optional listing'] = '' }
-- Each kind as JSON, from the text the hash keeps.
local TO_JSON = {
  info = function(v) return v end,
  count = function(v) return v end,
  flag = function(v) return v == '1' and 'true' or 'false' end,
  ['optional count'] = function(v) return v == '' and 'null' or v end,
  ['optional listing'] = function(v) return v == '' and 'null' or v end,
}

local function parse_hold(raw)
  local e, h, l, o, c, b = string.match(raw, '^(%d+)|(%d+)|(%d+)|([^|]*)|?([^|]*)|?(%d*)$')
  return {
    expiresAt = tonumber(e), heldAt = tonumber(h), lease = tonumber(l),
    checkingOut = l ~= '0', orderId = o, client = c, payBy = tonumber(b),
  }
end

-- Checked out or awaiting payment: the shopper is paying, so the hold neither expires nor goes.
local function pinned(hold)
  return hold.checkingOut or hold.payBy ~= nil
end

-- The sorted set of a client's holds over every product: beside the product's keys' prefix.
local function client_key(keys, client)
  return string.match(keys[1], '^(.*):{') .. ':client:' .. client
end

-- Notes a hold (or its new end) in its client's set.
local function track(keys, session, hold)
  if hold.client == '' then return end
  local score = pinned(hold) and '+inf' or int(hold.expiresAt)
  redis.call('ZADD', client_key(keys, hold.client), score, keys[1] .. '|' .. session)
end

-- Takes ended holds out of their clients' sets; raws are the holds as stored.
local function untrack(keys, sessions, raws)
  for i, session in ipairs(sessions) do
    if raws[i] then
      local hold = parse_hold(raws[i])
      if hold.client ~= '' then
        redis.call('ZREM', client_key(keys, hold.client), keys[1] .. '|' .. session)
      end
    end
  end
end

-- What a session bought: {count, orderId}; count 0 and orderId nil for nothing (raw false).
local function parse_sale(raw)
  if not raw then return { count = 0 } end
  local c, o = string.match(raw, '^(%d+)|(.*)$')
  if not c then return { count = 1, orderId = raw } end
  return { count = tonumber(c), orderId = o }
end

local function format_sale(sale)
  return int(sale.count) .. '|' .. sale.orderId
end

local function limit_per_shopper(p)
  return tonumber(cjson.decode(p.info).limitPerShopper) or ${DEFAULT_LIMIT_PER_SHOPPER}
end

local function format_hold(hold)
  return int(hold.expiresAt) .. '|' .. int(hold.heldAt) .. '|' ..
    (hold.checkingOut and int(hold.lease) or '0') .. '|' .. hold.orderId .. '|' .. hold.client ..
    (hold.payBy and ('|' .. int(hold.payBy)) or '')
end

-- Ends holds: out of the holds, the expiry and their clients' sets.
local function end_holds(keys, sessions)
  untrack(keys, sessions, redis.call('HMGET', keys[2], unpack(sessions)))
  redis.call('HDEL', keys[2], unpack(sessions))
  redis.call('ZREM', keys[3], unpack(sessions))
end

-- The product's stored fields by name, as the hash keeps them; nil when it does not exist.
local function fields(keys)
  local raw = redis.call('HMGET', keys[1], unpack(FIELDS))
  local p = {}
  for i, name in ipairs(FIELDS) do p[name] = raw[i] or FIRST[KINDS[name]] end
  if not p.info then return nil end
  return p
end

-- A product new to the store: every field at its first value.
local function new_product(info)
  local p = {}
  for _, name in ipairs(FIELDS) do p[name] = FIRST[KINDS[name]] end
  p.info = info
  return p
end

local function end_due(keys, now)
  local due = redis.call('ZRANGEBYSCORE', keys[3], '-inf', now, 'LIMIT', 0, MAX_ENDS)
  if #due > 0 then end_holds(keys, due) end
  return #due > 0
end

local function state(keys, p)
  local first = redis.call('ZRANGE', keys[3], 0, 0, 'WITHSCORES')
  local parts = {}
  for _, name in ipairs(FIELDS) do
    parts[#parts + 1] = '"' .. name .. '":' .. TO_JSON[KINDS[name]](p[name])
  end
  parts[#parts + 1] = '"held":' .. int(redis.call('HLEN', keys[2]))
  parts[#parts + 1] = '"nextDue":' .. (first[2] or 'null')
  return '{' .. table.concat(parts, ',') .. '}'
end

-- Raises the version when something changed, writes the fields, publishes, and answers the state.
local function finish(keys, channel, p, changed, status)
  if changed then
    p.version = int(tonumber(p.version) + 1)
    local args = {}
    for _, name in ipairs(FIELDS) do
      args[#args + 1] = name
      args[#args + 1] = p[name]
    end
    redis.call('HSET', keys[1], unpack(args))
  end
  local json = state(keys, p)
  if changed then redis.call('PUBLISH', channel, json) end
  return { status, json }
end

-- Opens a product: nil when it does not exist; else its fields and whether due holds ended.
local function open(keys)
  local p = fields(keys)
  if not p then return nil end
  return p, end_due(keys, now_ms())
end
`;
