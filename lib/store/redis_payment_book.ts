/** The payment book in Redis: one key per order sent to pay, shared by the fleet. */
import {
  type AwaitedPayment,
  forgottenAt,
  isOpen,
  PAYMENT_RETENTION_MS,
  type PaymentBook,
  type PaymentBookOptions,
  paymentOf,
} from "../inventory/payment_book.ts";
import { systemClock } from "../time/clock.ts";
import { hashEntries } from "./redis_state.ts";

/** The library function that writes a payment's ending once ({@linkcode PAYMENT_END_LUA}). */
export const END_PAYMENT_FUNCTION = "inventory_end_payment";

/**
 * The Lua of {@linkcode END_PAYMENT_FUNCTION}, part of the Redis library
 * (lib/store/redis_library.ts). It writes a payment's ending only if the payment kept has not
 * ended. Keys: the payment, the open set. Arguments: the payment as JSON, its time to live in ms
 * ('' for none), '1' when it stays open, its order id. Answers 1 when written, 0 when it had ended
 * already.
 */
export const PAYMENT_END_LUA = `
local function end_payment(keys, args)
  local raw = redis.call('GET', keys[1])
  if raw then
    local ended = cjson.decode(raw).ended
    if ended ~= nil and ended ~= cjson.null then return 0 end
  end
  if args[2] == '' then redis.call('SET', keys[1], args[1])
  else redis.call('SET', keys[1], args[1], 'PX', args[2]) end
  if args[3] == '1' then redis.call('SADD', keys[2], args[4])
  else redis.call('SREM', keys[2], args[4]) end
  return 1
end
redis.register_function('${END_PAYMENT_FUNCTION}', end_payment)
`;

/** The keys of the payment book. */
export interface PaymentKeys {
  /**
   * Begins every key of the book; it holds a hash tag (`inv:{payments}`), so that the order's key
   * and the open set an ending writes together are in one Redis Cluster slot.
   */
  readonly base: string;
  /** The hash an earlier version kept every payment in (order id → JSON): moved, then deleted. */
  readonly legacy: string;
}

/**
 * Keeps payments in Redis, so that a callback reaching any process of the fleet finds its order:
 * a string per order (`{base}:order:{id}`, JSON) and a set of the orders still open
 * (`{base}:open`). Redis before 7.4 cannot expire a hash's field, so each order has its own key,
 * written with Redis's own expiry (`PX`) once it ended, to its retention's end; a try of an owed
 * call is claimed with `SET NX PX` (`{base}:claim:{id}:{try}`).
 *
 * @param send Sends one command on the store's connection (its deadline, its errors).
 * @param keys The book's keys.
 * @param options The clock and the retention.
 * @returns The book; the store's connection is closed with the store.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // A stand-in for Redis's GET, SET, SADD, SMEMBERS and HGETALL (nothing in the old hash).
 * const strings = new Map<string, string>();
 * const sets = new Map<string, Set<string>>();
 * const send = (args: string[]) => {
 *   const [command, key, value] = args;
 *   const set = sets.get(key) ?? sets.set(key, new Set()).get(key)!;
 *   if (command === "SET") return Promise.resolve(strings.set(key, value) && "OK");
 *   if (command === "GET") return Promise.resolve(strings.get(key) ?? null);
 *   if (command === "SADD") return Promise.resolve(set.add(value).size);
 *   if (command === "SREM") return Promise.resolve(Number(set.delete(value)));
 *   if (command === "SMEMBERS") return Promise.resolve([...set]);
 *   return Promise.resolve(command === "HGETALL" ? [] : 0);
 * };
 * const call = () => Promise.resolve(1);
 * const book = redisPaymentBook(send, call, { base: "inv:{payments}", legacy: "inv:payments" });
 * const payment = {
 *   orderId: "o1", product: "a", session: "s1", paymentUrl: "https://pay.example/o1",
 *   payBy: 5_000, ended: null,
 * };
 * await book.save(payment);
 * assert.deepEqual(await book.find("o1"), payment);
 * assert.equal(await book.find("o2"), undefined);
 * assert.equal((await book.open()).length, 1);
 * ```
 */
export function redisPaymentBook(
  send: (args: string[]) => Promise<unknown>,
  call: (name: string, keys: readonly string[], args: readonly string[]) => Promise<unknown>,
  keys: PaymentKeys,
  options: PaymentBookOptions = {},
): PaymentBook {
  const clock = options.clock ?? systemClock;
  const retentionMs = options.retentionMs ?? PAYMENT_RETENTION_MS;
  const orderKey = (orderId: string) => `${keys.base}:order:${orderId}`;
  const openKey = `${keys.base}:open`;
  /** The time to live of a payment's key, in ms: none while awaited. */
  const ttlOf = (payment: AwaitedPayment) => {
    const left = forgottenAt(payment, retentionMs) - clock.now();
    return Number.isFinite(left) ? String(Math.max(1, Math.ceil(left))) : "";
  };
  const save = async (payment: AwaitedPayment) => {
    const key = orderKey(payment.orderId);
    const json = JSON.stringify(payment);
    const ttl = ttlOf(payment);
    const set = ttl === "" ? ["SET", key, json] : ["SET", key, json, "PX", ttl];
    // In this order, so that a crash between the two leaves an open order listed (a list
    // skips what it finds closed), never one unlisted.
    if (isOpen(payment)) {
      await send(["SADD", openKey, payment.orderId]);
      await send(set);
    } else {
      await send(set);
      await send(["SREM", openKey, payment.orderId]);
    }
  };
  const find = async (orderId: string) => {
    const raw = await send(["GET", orderKey(orderId)]);
    if (typeof raw !== "string") return undefined;
    const payment = paymentOf(JSON.parse(raw));
    return forgottenAt(payment, retentionMs) <= clock.now() ? undefined : payment;
  };
  let moved = false;
  /** Moves the payments an earlier version kept in one hash to their own keys, once. */
  const moveLegacy = async () => {
    if (moved) return;
    for (const [, raw] of hashEntries(await send(["HGETALL", keys.legacy]))) {
      // An ending of then was not timed: it is kept from its payment's deadline.
      await save(paymentOf(JSON.parse(raw)));
    }
    await send(["DEL", keys.legacy]);
    moved = true;
  };
  return {
    save,
    async end(payment) {
      const written = await call(END_PAYMENT_FUNCTION, [orderKey(payment.orderId), openKey], [
        JSON.stringify(payment),
        ttlOf(payment),
        isOpen(payment) ? "1" : "0",
        payment.orderId,
      ]);
      return Number(written) === 1;
    },
    find,
    async open() {
      await moveLegacy();
      const ids = (await send(["SMEMBERS", openKey]) as unknown[]).map(String);
      const found = await Promise.all(ids.map(find));
      const open: AwaitedPayment[] = [];
      const closed: string[] = [];
      found.forEach((payment, i) => {
        if (payment !== undefined && isOpen(payment)) open.push(payment);
        else closed.push(ids[i]);
      });
      // Left by a crash between a closing write and its removal from the set, or forgotten.
      if (closed.length > 0) await send(["SREM", openKey, ...closed]);
      return open;
    },
    async claim(orderId, tryNumber, forMs) {
      const key = `${keys.base}:claim:${orderId}:${tryNumber}`;
      const reply = await send(["SET", key, "1", "NX", "PX", String(Math.max(1, forMs))]);
      return reply === "OK";
    },
    close: () => Promise.resolve(),
  };
}
