/** The payment book in Redis: one hash of every order sent to pay, shared by the fleet. */
import { type AwaitedPayment, type PaymentBook, paymentOf } from "../inventory/payment_book.ts";
import { hashEntries } from "./redis_state.ts";

/**
 * Keeps payments awaited in a Redis hash (order id → JSON), so that a callback reaching any
 * process of the fleet finds its order.
 *
 * @param send Sends one command on the store's connection (its deadline, its errors).
 * @param key The hash's key.
 * @returns The book; the store's connection is closed with the store.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * // A stand-in for Redis's HSET, HGET and HGETALL on one hash.
 * const hash = new Map<string, string>();
 * const send = (args: string[]) =>
 *   Promise.resolve(
 *     args[0] === "HSET" ? hash.set(args[2], args[3]).size
 *     : args[0] === "HGET" ? hash.get(args[2]) ?? null
 *     : [...hash].flat(),
 *   );
 * const book = redisPaymentBook(send, "inv:payments");
 * const payment = {
 *   orderId: "o1", product: "a", session: "s1", paymentUrl: "https://pay.example/o1",
 *   payBy: 5_000, ended: null,
 * };
 * await book.save(payment);
 * assert.deepEqual(await book.find("o1"), payment);
 * assert.equal(await book.find("o2"), undefined);
 * assert.equal((await book.awaited()).length, 1);
 * ```
 */
export function redisPaymentBook(
  send: (args: string[]) => Promise<unknown>,
  key: string,
): PaymentBook {
  return {
    async save(payment: AwaitedPayment) {
      await send(["HSET", key, payment.orderId, JSON.stringify(payment)]);
    },
    async find(orderId: string) {
      const raw = await send(["HGET", key, orderId]);
      return typeof raw === "string" ? paymentOf(JSON.parse(raw)) : undefined;
    },
    async awaited() {
      const reply = await send(["HGETALL", key]);
      return [...hashEntries(reply)].map(([, raw]) => paymentOf(JSON.parse(raw)))
        .filter((payment) => payment.ended === null);
    },
    close: () => Promise.resolve(),
  };
}
