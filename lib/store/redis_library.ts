/**
 * The Redis Function library that decides every operation on a product: one function per
 * operation, each atomic, each checking everything before its first write.
 */

/** The library's name, as `FUNCTION LOAD` registers it. */
export const LIBRARY_NAME = "inventory";

/**
 * Raised with every change the library makes; bump it when a function changes, so that a fleet
 * mid-deploy is told apart in `FUNCTION LIST` (every process loads with REPLACE at start).
 */
export const LIBRARY_REVISION = 3;

/**
 * The Lua source of the library, loaded with `FUNCTION LOAD REPLACE`.
 *
 * Every product function takes the product's four keys (record, holds, expiry, sales: one hash
 * tag, one Cluster slot) and the change channel as its first argument. It reads Redis's `TIME`
 * (one clock for every process), first ends the holds that are due, and answers
 * `{status, state}` where `state` is the product as JSON and `status` is `ok` (or what the
 * function did) or the kind of refusal, in the words of lib/inventory/refusal.ts. When the product changed, its version
 * goes up by one and the state is published on the channel inside the same call, so that the
 * channel's order is the version order.
 *
 * A hold is stored as `expiresAt|heldAt|lease|orderId`: ms, ms, 0 or, while it is checked out,
 * the end of the checkout's lease in ms, and the order id (maybe empty). A checkout whose lease
 * has ended (its process died, or lost Redis before it could end the checkout) is taken over by
 * the next checkout of the same hold, with the same order id, so the order service (idempotent on
 * that id) answers it again; until then no other checkout can start, and the hold cannot go.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.ok(LIBRARY_SOURCE.startsWith("#!lua name=inventory"));
 * ```
 */
export const LIBRARY_SOURCE = `#!lua name=${LIBRARY_NAME}
-- revision ${LIBRARY_REVISION}
local MAX_ENDS = 500

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function int(n) return string.format('%d', n) end

local function parse_hold(raw)
  local e, h, l, o = string.match(raw, '^(%d+)|(%d+)|(%d+)|(.*)$')
  return {
    expiresAt = tonumber(e), heldAt = tonumber(h), lease = tonumber(l),
    checkingOut = l ~= '0', orderId = o,
  }
end

local function format_hold(hold)
  return int(hold.expiresAt) .. '|' .. int(hold.heldAt) .. '|' ..
    (hold.checkingOut and int(hold.lease) or '0') .. '|' .. hold.orderId
end

-- info, total, sold, version, retired, listedTotal
local function fields(keys)
  return redis.call('HMGET', keys[1], 'info', 'total', 'sold', 'version', 'retired', 'listedTotal')
end

local function end_due(keys, now)
  local due = redis.call('ZRANGEBYSCORE', keys[3], '-inf', now, 'LIMIT', 0, MAX_ENDS)
  if #due > 0 then
    redis.call('HDEL', keys[2], unpack(due))
    redis.call('ZREM', keys[3], unpack(due))
  end
  return #due > 0
end

local function state(keys, f)
  local first = redis.call('ZRANGE', keys[3], 0, 0, 'WITHSCORES')
  local listed = f[6]
  if listed == false or listed == '' then listed = 'null' end
  return '{"info":' .. f[1] .. ',"total":' .. f[2] .. ',"held":' .. int(redis.call('HLEN', keys[2])) ..
    ',"sold":' .. f[3] .. ',"version":' .. f[4] .. ',"retired":' ..
    (f[5] == '1' and 'true' or 'false') .. ',"listedTotal":' .. listed ..
    ',"nextDue":' .. (first[2] or 'null') .. '}'
end

-- Raises the version when something changed, writes the fields, publishes, and answers the state.
local function finish(keys, channel, f, changed, status)
  if changed then
    f[4] = int(tonumber(f[4]) + 1)
    redis.call('HSET', keys[1], 'info', f[1], 'total', f[2], 'sold', f[3], 'version', f[4],
      'retired', f[5], 'listedTotal', f[6] or '')
  end
  local json = state(keys, f)
  if changed then redis.call('PUBLISH', channel, json) end
  return { status, json }
end

-- Opens a product: nil when it does not exist; else its fields and whether due holds ended.
local function open(keys)
  local f = fields(keys)
  if not f[1] then return nil end
  return f, end_due(keys, now_ms())
end

local function take(keys, args)
  local channel, session, ttl = args[1], args[2], tonumber(args[3])
  local f, changed = open(keys)
  if not f then return { 'unknown product' } end
  if f[5] == '1' then return finish(keys, channel, f, changed, 'retired') end
  local now = now_ms()
  local raw = redis.call('HGET', keys[2], session)
  if raw then
    local hold = parse_hold(raw)
    hold.expiresAt = now + ttl
    redis.call('HSET', keys[2], session, format_hold(hold))
    if not hold.checkingOut then redis.call('ZADD', keys[3], hold.expiresAt, session) end
    return finish(keys, channel, f, changed, 'ok')
  end
  if redis.call('HLEN', keys[2]) >= tonumber(f[2]) then
    return finish(keys, channel, f, changed, 'sold out')
  end
  local hold = { expiresAt = now + ttl, heldAt = now, checkingOut = false, orderId = '' }
  redis.call('HSET', keys[2], session, format_hold(hold))
  redis.call('ZADD', keys[3], hold.expiresAt, session)
  return finish(keys, channel, f, true, 'ok')
end

local function release(keys, args)
  local channel, session = args[1], args[2]
  local f, changed = open(keys)
  if not f then return { 'unknown product' } end
  if f[5] == '1' then return finish(keys, channel, f, changed, 'retired') end
  local raw = redis.call('HGET', keys[2], session)
  if raw and parse_hold(raw).checkingOut then
    return finish(keys, channel, f, changed, 'checkout in progress')
  end
  if raw then
    redis.call('HDEL', keys[2], session)
    redis.call('ZREM', keys[3], session)
    changed = true
  end
  return finish(keys, channel, f, changed, 'ok')
end

local function restock(keys, args)
  local channel, total = args[1], args[2]
  local f, changed = open(keys)
  if not f then return { 'unknown product' } end
  if f[2] ~= total then
    f[2] = total
    changed = true
  end
  return finish(keys, channel, f, changed, 'ok')
end

-- args: channel, info JSON, total ('' keeps the stored one), fromFile ('1' or '0')
local function list(keys, args)
  local channel, info, total, from_file = args[1], args[2], args[3], args[4]
  local f, changed = open(keys)
  local created = not f
  if created then
    f = { info, total ~= '' and total or '0', '0', '-1', '0', '' }
    changed = true
  end
  if f[1] ~= info or f[5] == '1' then
    f[1] = info
    f[5] = '0'
    changed = true
  end
  if total ~= '' and f[2] ~= total then
    f[2] = total
    changed = true
  end
  if from_file == '1' and f[6] ~= total then
    -- The file's total is remembered for the next start; pages do not show it.
    f[6] = total
    redis.call('HSET', keys[1], 'listedTotal', total)
  end
  return finish(keys, channel, f, changed, created and 'created' or 'ok')
end

-- Ends up to MAX_ENDS holds that are not checking out; retired once none is left.
local function retire(keys, args)
  local channel = args[1]
  local f, changed = open(keys)
  if not f then return { 'unknown product' } end
  if f[5] == '1' then return finish(keys, channel, f, changed, 'ok') end
  local holds = redis.call('HGETALL', keys[2])
  local ending = {}
  local more = false
  for i = 1, #holds, 2 do
    if not parse_hold(holds[i + 1]).checkingOut then
      if #ending < MAX_ENDS then ending[#ending + 1] = holds[i] else more = true end
    end
  end
  if #ending > 0 then
    redis.call('HDEL', keys[2], unpack(ending))
    redis.call('ZREM', keys[3], unpack(ending))
  end
  if not more then f[5] = '1' end
  return finish(keys, channel, f, true, more and 'more' or 'ok')
end

-- args: channel, session, new order id, lease (ms). Answers {'call', state, orderId, heldAt},
-- {'sold', state, orderId} or {refusal, state}.
local function begin_checkout(keys, args)
  local channel, session, new_order, lease = args[1], args[2], args[3], tonumber(args[4])
  local f, changed = open(keys)
  if not f then return { 'unknown product' } end
  if f[5] == '1' then return finish(keys, channel, f, changed, 'retired') end
  local raw = redis.call('HGET', keys[2], session)
  if not raw then
    local sold = redis.call('HGET', keys[4], session)
    local answer = finish(keys, channel, f, changed, sold and 'sold' or 'not in cart')
    if sold then answer[3] = sold end
    return answer
  end
  local hold = parse_hold(raw)
  local now = now_ms()
  if hold.checkingOut and hold.lease > now then
    return finish(keys, channel, f, changed, 'checkout in progress')
  end
  if hold.orderId == '' then hold.orderId = new_order end
  hold.checkingOut = true
  hold.lease = now + lease
  redis.call('HSET', keys[2], session, format_hold(hold))
  redis.call('ZREM', keys[3], session)
  local answer = finish(keys, channel, f, changed, 'call')
  answer[3] = hold.orderId
  answer[4] = int(hold.heldAt)
  return answer
end

local function complete_sale(keys, args)
  local channel, session, order = args[1], args[2], args[3]
  local f, changed = open(keys)
  if not f then return { 'unknown product' } end
  if redis.call('HGET', keys[4], session) == order then
    return finish(keys, channel, f, changed, 'ok')
  end
  local raw = redis.call('HGET', keys[2], session)
  if not raw or parse_hold(raw).orderId ~= order then
    return finish(keys, channel, f, changed, 'order mismatch')
  end
  redis.call('HDEL', keys[2], session)
  redis.call('ZREM', keys[3], session)
  redis.call('HSET', keys[4], session, order)
  f[2] = int(math.max(0, tonumber(f[2]) - 1))
  f[3] = int(tonumber(f[3]) + 1)
  return finish(keys, channel, f, true, 'ok')
end

local function end_checkout(keys, args)
  local channel, session, order = args[1], args[2], args[3]
  local f, changed = open(keys)
  if not f then return { 'unknown product' } end
  local raw = redis.call('HGET', keys[2], session)
  if raw then
    local hold = parse_hold(raw)
    if hold.orderId == order and hold.checkingOut then
      hold.checkingOut = false
      redis.call('HSET', keys[2], session, format_hold(hold))
      redis.call('ZADD', keys[3], hold.expiresAt, session)
    end
  end
  return finish(keys, channel, f, changed, 'ok')
end

-- Ends the holds that are due; answers the product's state (also how a process reloads one).
local function sweep(keys, args)
  local f, changed = open(keys)
  if not f then return { 'unknown product' } end
  return finish(keys, args[1], f, changed, 'ok')
end

-- keys: the catalog's order and its counter. Adds a product id at the end, once.
local function enlist(keys, args)
  if redis.call('ZSCORE', keys[1], args[1]) then return 0 end
  redis.call('ZADD', keys[1], redis.call('INCR', keys[2]), args[1])
  return 1
end

redis.register_function('inventory_take', take)
redis.register_function('inventory_release', release)
redis.register_function('inventory_restock', restock)
redis.register_function('inventory_list', list)
redis.register_function('inventory_retire', retire)
redis.register_function('inventory_begin_checkout', begin_checkout)
redis.register_function('inventory_complete_sale', complete_sale)
redis.register_function('inventory_end_checkout', end_checkout)
redis.register_function('inventory_sweep', sweep)
redis.register_function('inventory_enlist', enlist)
`;
