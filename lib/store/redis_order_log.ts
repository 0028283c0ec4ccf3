/** The order log in Redis: one list of the last 100 entries and a counter, shared by the fleet. */
import { ORDER_LOG_SIZE, orderEntryOf, type OrderLog } from "../inventory/order_log.ts";

/** The library function that appends to the order log ({@linkcode ORDER_LOG_LUA}). */
export const APPEND_ORDER_FUNCTION = "inventory_append_order";

/**
 * The Lua of {@linkcode APPEND_ORDER_FUNCTION}, part of the Redis library
 * (lib/store/redis_library.ts). It appends one entry, atomically: unless the order's newest entry
 * in the list has the status already, numbers it from the counter, pushes it and trims the list to
 * its size.
 *
 * Keys: the list, the counter. Arguments: the order's `"orderId":"…"` as the entries' JSON writes
 * it, status, size, the entry's JSON without `seq`. The order's entries are found by that text (a
 * quote inside a JSON string is escaped, so no other field can hold it) and only the newest is
 * decoded: a new order, the common case, decodes none of the 100. Answers the entry written, or
 * false for a repeat.
 */
export const ORDER_LOG_LUA = `
local function append_order(keys, args)
  local size = tonumber(args[3])
  for _, raw in ipairs(redis.call('LRANGE', keys[1], 0, size - 1)) do
    if string.find(raw, args[1], 1, true) then
      if cjson.decode(raw).status == args[2] then return false end
      break
    end
  end
  local seq = redis.call('INCR', keys[2])
  local raw = '{"seq":' .. seq .. ',' .. string.sub(args[4], 2)
  redis.call('LPUSH', keys[1], raw)
  redis.call('LTRIM', keys[1], 0, size - 1)
  return raw
end
redis.register_function('${APPEND_ORDER_FUNCTION}', append_order)
`;

/** The log's keys, in one hash tag so that a Redis Cluster keeps them in one slot. */
export interface OrderLogKeys {
  /** List: the entries as JSON, newest first. */
  readonly entries: string;
  /** String: the newest entry's number. */
  readonly latest: string;
}

/**
 * Keeps the order log in Redis, so that every process of a fleet appends to one log and reads it.
 *
 * @param send Sends one command on the store's connection (its deadline, its errors).
 * @param call Calls a function of the store's Redis library on keys, with arguments.
 * @param keys The list and the counter.
 * @returns The log; the store's connection is closed with the store.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // A stand-in for Redis's GET and LRANGE on an empty log.
 * const send = (args: string[]) => Promise.resolve(args[0] === "GET" ? null : []);
 * const call = () => Promise.resolve(false);
 * const keys = { entries: "inv:{orders}:log", latest: "inv:{orders}:latest" };
 * const log = redisOrderLog(send, call, keys);
 * assert.deepEqual(await log.recent(), []);
 * assert.equal(await log.latest(), 0);
 * ```
 */
export function redisOrderLog(
  send: (args: string[]) => Promise<unknown>,
  call: (name: string, keys: readonly string[], args: readonly string[]) => Promise<unknown>,
  keys: OrderLogKeys,
): OrderLog {
  return {
    async append(change) {
      const { time, product, orderId, status } = change;
      const json = JSON.stringify({ time, product, orderId, status, reason: change.reason });
      const raw = await call(APPEND_ORDER_FUNCTION, [keys.entries, keys.latest], [
        `"orderId":${JSON.stringify(orderId)}`,
        status,
        String(ORDER_LOG_SIZE),
        json,
      ]);
      return typeof raw === "string" ? orderEntryOf(JSON.parse(raw)) : undefined;
    },
    async recent() {
      const reply = await send(["LRANGE", keys.entries, "0", String(ORDER_LOG_SIZE - 1)]);
      return (Array.isArray(reply) ? reply : []).map((raw) => orderEntryOf(JSON.parse(raw)));
    },
    async latest() {
      const reply = await send(["GET", keys.latest]);
      return typeof reply === "string" ? Number(reply) : 0;
    },
    close: () => Promise.resolve(),
  };
}
