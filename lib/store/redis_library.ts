/**
 * The Redis Function library that decides every operation on a product: one function per
 * operation, each atomic, each checking everything before its first write; and the fleet's add
 * rate.
 */

import { PRODUCT_LUA } from "./redis_product_lua.ts";
import { QUEUE_LUA } from "./redis_queue_lua.ts";
import { RATE_LUA } from "./redis_rate_limiter.ts";
import { CHALLENGE_LUA } from "./redis_join_challenges.ts";
import { ORDER_LOG_LUA } from "./redis_order_log.ts";
import { PAYMENT_END_LUA } from "./redis_payment_book.ts";

/** The library's name, as `FUNCTION LOAD` registers it. */
export const LIBRARY_NAME = "inventory";

/**
 * Raised with every change the library makes; bump it when a function changes, so that a fleet
 * mid-deploy is told apart in `FUNCTION LIST` (every process loads with REPLACE at start).
 */
export const LIBRARY_REVISION = 14;

/**
 * The Lua source of the library, loaded with `FUNCTION LOAD REPLACE`.
 *
 * Every product function takes the product's four keys (record, holds, expiry, sales: one hash
 * tag, one Cluster slot) and the change channel as its first argument. It reads Redis's `TIME`
 * (one clock for every process), first ends the holds that are due, and answers
 * `{status, state}` where `state` is the product as JSON and `status` is `ok` (or what the
 * function did) or the kind of refusal, in the words of lib/inventory/refusal.ts. When the
 * product changed, its version goes up by one and the state is published on the channel inside
 * the same call, so that the channel's order is the version order. How a product is read,
 * written and published is {@linkcode PRODUCT_LUA}'s; the drops' lines are {@linkcode QUEUE_LUA}'s.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.ok(LIBRARY_SOURCE.startsWith("#!lua name=inventory"));
 * ```
 */
export const LIBRARY_SOURCE = `#!lua name=${LIBRARY_NAME}
-- revision ${LIBRARY_REVISION}
${PRODUCT_LUA}
-- Opens a product a shopper acts on; else nil and the answer that refuses it (unknown, retired).
local function open_on_sale(keys, channel)
  local p, changed = open(keys)
  if not p then return nil, false, { 'unknown product' } end
  if p.retired == '1' then return nil, false, finish(keys, channel, p, changed, 'retired') end
  return p, changed, nil
end

-- args: channel, session, ttl (ms), client key, the client's most holds at once (0: not counted).
-- A refusal for too many holds answers {status, state, ms until the client's first hold ends}.
local function take(keys, args)
  local channel, session, ttl = args[1], args[2], tonumber(args[3])
  local client, max_holds = args[4] or '', tonumber(args[5]) or 0
  local p, changed, refused = open_on_sale(keys, channel)
  if refused then return refused end
  local now = now_ms()
  -- A hold lasts its ttl from when it was taken: adding again does not extend it.
  if redis.call('HEXISTS', keys[2], session) == 1 then
    return finish(keys, channel, p, changed, 'ok')
  end
  -- The hold it would take counts: the units bought plus the one held never pass the limit.
  local bought = parse_sale(redis.call('HGET', keys[4], session)).count
  if bought + 1 > limit_per_shopper(p) then
    return finish(keys, channel, p, changed, 'limit per shopper')
  end
  if redis.call('HLEN', keys[2]) >= tonumber(p.total) then
    return finish(keys, channel, p, changed, 'sold out')
  end
  if max_holds > 0 then
    -- Only live holds count: one due in a product no one swept yet has ended all the same.
    local held = client_key(keys, client)
    if redis.call('ZCOUNT', held, '(' .. now, '+inf') >= max_holds then
      local first = redis.call('ZRANGEBYSCORE', held, '(' .. now, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
      local ends = tonumber(first[2])
      local answer = finish(keys, channel, p, changed, 'too many holds')
      -- A hold being checked out has no end: its place frees at the latest when a hold would.
      answer[3] = int(ends and ends ~= math.huge and ends - now or ttl)
      return answer
    end
  end
  local hold = { expiresAt = now + ttl, heldAt = now, checkingOut = false, orderId = '', client = client }
  redis.call('HSET', keys[2], session, format_hold(hold))
  redis.call('ZADD', keys[3], hold.expiresAt, session)
  track(keys, session, hold)
  return finish(keys, channel, p, true, 'ok')
end

local function release(keys, args)
  local channel, session = args[1], args[2]
  local p, changed, refused = open_on_sale(keys, channel)
  if refused then return refused end
  local raw = redis.call('HGET', keys[2], session)
  if raw and pinned(parse_hold(raw)) then
    return finish(keys, channel, p, changed, 'checkout in progress')
  end
  if raw then
    end_holds(keys, { session })
    changed = true
  end
  return finish(keys, channel, p, changed, 'ok')
end

local function restock(keys, args)
  local channel, total = args[1], args[2]
  local p, changed = open(keys)
  if not p then return { 'unknown product' } end
  if p.total ~= total then
    p.total = total
    changed = true
  end
  return finish(keys, channel, p, changed, 'ok')
end

-- args: channel, info JSON, total ('' keeps the stored one), fromFile ('1' or '0'),
-- listed JSON ('' when the catalog file does not list it now)
local function list(keys, args)
  local channel, info, total, from_file, listed = args[1], args[2], args[3], args[4], args[5] or ''
  local p, changed = open(keys)
  local created = not p
  if created then
    p = new_product(info)
    if total ~= '' then p.total = total end
    -- finish raises it to 0: a new product's life starts at version 0, as a page first sees it.
    p.version = '-1'
    changed = true
  end
  if p.info ~= info or p.retired == '1' then
    p.info = info
    p.retired = '0'
    changed = true
  end
  if total ~= '' and p.total ~= total then
    p.total = total
    changed = true
  end
  if from_file == '1' and p.listedTotal ~= total then
    -- The file's total is remembered for the next start; pages do not show it.
    p.listedTotal = total
    redis.call('HSET', keys[1], 'listedTotal', total)
  end
  if listed ~= '' and p.listed ~= listed then
    -- What the file gave is remembered for the next start, and for the order; pages do not show it.
    p.listed = listed
    redis.call('HSET', keys[1], 'listed', listed)
  end
  return finish(keys, channel, p, changed, created and 'created' or 'ok')
end

-- Ends up to MAX_ENDS holds that are not checking out; retired once none is left.
local function retire(keys, args)
  local channel = args[1]
  local p, changed = open(keys)
  if not p then return { 'unknown product' } end
  if p.retired == '1' then return finish(keys, channel, p, changed, 'ok') end
  local holds = redis.call('HGETALL', keys[2])
  local ending = {}
  local more = false
  for i = 1, #holds, 2 do
    if not pinned(parse_hold(holds[i + 1])) then
      if #ending < MAX_ENDS then ending[#ending + 1] = holds[i] else more = true end
    end
  end
  if #ending > 0 then end_holds(keys, ending) end
  if not more then p.retired = '1' end
  return finish(keys, channel, p, true, more and 'more' or 'ok')
end

-- args: channel, session, new order id, lease (ms). Answers {'call', state, orderId, heldAt},
-- {'sold', state, orderId}, {'awaiting payment', state, orderId, payBy} or {refusal, state}.
local function begin_checkout(keys, args)
  local channel, session, new_order, lease = args[1], args[2], args[3], tonumber(args[4])
  local p, changed, refused = open_on_sale(keys, channel)
  if refused then return refused end
  local raw = redis.call('HGET', keys[2], session)
  if not raw then
    local sold = parse_sale(redis.call('HGET', keys[4], session)).orderId
    local answer = finish(keys, channel, p, changed, sold and 'sold' or 'not in cart')
    if sold then answer[3] = sold end
    return answer
  end
  local hold = parse_hold(raw)
  local now = now_ms()
  if hold.payBy then
    local answer = finish(keys, channel, p, changed, 'awaiting payment')
    answer[3] = hold.orderId
    answer[4] = int(hold.payBy)
    return answer
  end
  if hold.checkingOut and hold.lease > now then
    return finish(keys, channel, p, changed, 'checkout in progress')
  end
  if hold.orderId == '' then hold.orderId = new_order end
  hold.checkingOut = true
  hold.lease = now + lease
  redis.call('HSET', keys[2], session, format_hold(hold))
  redis.call('ZREM', keys[3], session)
  track(keys, session, hold)
  local answer = finish(keys, channel, p, changed, 'call')
  answer[3] = hold.orderId
  answer[4] = int(hold.heldAt)
  return answer
end

local function complete_sale(keys, args)
  local channel, session, order = args[1], args[2], args[3]
  local p, changed = open(keys)
  if not p then return { 'unknown product' } end
  local sale = parse_sale(redis.call('HGET', keys[4], session))
  if sale.orderId == order then
    return finish(keys, channel, p, changed, 'ok')
  end
  local raw = redis.call('HGET', keys[2], session)
  if not raw or parse_hold(raw).orderId ~= order then
    return finish(keys, channel, p, changed, 'order mismatch')
  end
  end_holds(keys, { session })
  redis.call('HSET', keys[4], session, format_sale({ count = sale.count + 1, orderId = order }))
  p.total = int(math.max(0, tonumber(p.total) - 1))
  p.sold = int(tonumber(p.sold) + 1)
  return finish(keys, channel, p, true, 'ok')
end

local function end_checkout(keys, args)
  local channel, session, order = args[1], args[2], args[3]
  local p, changed = open(keys)
  if not p then return { 'unknown product' } end
  local raw = redis.call('HGET', keys[2], session)
  if raw then
    local hold = parse_hold(raw)
    if hold.orderId == order and hold.checkingOut then
      hold.checkingOut = false
      redis.call('HSET', keys[2], session, format_hold(hold))
      redis.call('ZADD', keys[3], hold.expiresAt, session)
      track(keys, session, hold)
    end
  end
  return finish(keys, channel, p, changed, 'ok')
end

-- args: channel, session, order, payBy (ms). The order's checkout in flight awaits payment.
local function await_payment(keys, args)
  local channel, session, order, pay_by = args[1], args[2], args[3], tonumber(args[4])
  local p, changed = open(keys)
  if not p then return { 'gone' } end
  local raw = redis.call('HGET', keys[2], session)
  local hold = raw and parse_hold(raw)
  if not hold or hold.orderId ~= order or not hold.checkingOut then
    return finish(keys, channel, p, changed, 'gone')
  end
  hold.checkingOut = false
  hold.payBy = pay_by
  redis.call('HSET', keys[2], session, format_hold(hold))
  redis.call('ZREM', keys[3], session)
  track(keys, session, hold)
  return finish(keys, channel, p, changed, 'ok')
end

-- args: channel, session, order, 'paid' | 'cancelled' | 'expired'. Answers 'done', 'sold',
-- 'gone' or 'not due' (rules.ts's settlePayment), by Redis's clock: one process decides.
local function settle_payment(keys, args)
  local channel, session, order, how = args[1], args[2], args[3], args[4]
  local p, changed = open(keys)
  if not p then return { 'gone' } end
  local sale = parse_sale(redis.call('HGET', keys[4], session))
  if sale.orderId == order then return finish(keys, channel, p, changed, 'sold') end
  local raw = redis.call('HGET', keys[2], session)
  local hold = raw and parse_hold(raw)
  if not hold or hold.orderId ~= order or not hold.payBy then
    return finish(keys, channel, p, changed, 'gone')
  end
  if how == 'expired' and hold.payBy > now_ms() then
    return finish(keys, channel, p, changed, 'not due')
  end
  end_holds(keys, { session })
  if how == 'paid' then
    redis.call('HSET', keys[4], session, format_sale({ count = sale.count + 1, orderId = order }))
    p.total = int(math.max(0, tonumber(p.total) - 1))
    p.sold = int(tonumber(p.sold) + 1)
  end
  return finish(keys, channel, p, true, 'done')
end

-- Ends the holds that are due; answers the product's state (also how a process reloads one).
local function sweep(keys, args)
  local p, changed = open(keys)
  if not p then return { 'unknown product' } end
  return finish(keys, args[1], p, changed, 'ok')
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
redis.register_function('inventory_await_payment', await_payment)
redis.register_function('inventory_settle_payment', settle_payment)
redis.register_function('inventory_sweep', sweep)
redis.register_function('inventory_enlist', enlist)
${QUEUE_LUA}
${RATE_LUA}
${CHALLENGE_LUA}
${ORDER_LOG_LUA}
${PAYMENT_END_LUA}`;
