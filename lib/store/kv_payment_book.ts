/** The payment book on Deno KV: one key per order, in the file the stock lives in. */
import { type AwaitedPayment, type PaymentBook, paymentOf } from "../inventory/payment_book.ts";

const PAYMENT_PREFIX = ["payment"] as const;

/**
 * Keeps payments awaited in a Deno KV file, as `["payment", orderId]`; each save is committed
 * before it resolves, so an acknowledged payment survives a crash.
 *
 * @param path The KV file (the one the stock lives in), or `:memory:`.
 * @returns The book; close it to let the file go.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const book = await openKvPaymentBook(":memory:");
 * const payment = {
 *   orderId: "o1", product: "a", session: "s1", paymentUrl: "https://pay.example/o1",
 *   payBy: 5_000, ended: null,
 * };
 * await book.save(payment);
 * assert.deepEqual(await book.find("o1"), payment);
 * assert.equal((await book.awaited()).length, 1);
 * await book.close();
 * ```
 */
export async function openKvPaymentBook(path: string): Promise<PaymentBook> {
  const kv = await Deno.openKv(path);
  return {
    async save(payment: AwaitedPayment) {
      await kv.set([...PAYMENT_PREFIX, payment.orderId], payment);
    },
    async find(orderId: string) {
      const entry = await kv.get([...PAYMENT_PREFIX, orderId]);
      return entry.value === null ? undefined : paymentOf(entry.value);
    },
    async awaited() {
      const open: AwaitedPayment[] = [];
      for await (const entry of kv.list({ prefix: PAYMENT_PREFIX })) {
        const payment = paymentOf(entry.value);
        if (payment.ended === null) open.push(payment);
      }
      return open;
    },
    close() {
      kv.close();
      return Promise.resolve();
    },
  };
}
