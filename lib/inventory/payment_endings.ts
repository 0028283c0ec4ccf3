/** Payment endings in the order history: a payment book that records how each payment ended. */
import type { OrderChange } from "./order_log.ts";
import type { PaymentBook } from "./payment_book.ts";

/**
 * Wraps a payment book so that each payment's ending (paid, cancelled, expired) is recorded in
 * the order history once the book wrote it. The book is where the payments write how each ended,
 * on whichever process ended it, and it writes one ending per payment, so the order log follows
 * the payments without their code knowing of it.
 *
 * @param book The book the payments keep.
 * @param history Where the endings are recorded; its `record` never rejects.
 * @returns The same book, recording.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { paymentsInMemory } from "./payment_book.ts";
 * const recorded: unknown[] = [];
 * const book = recordingEndings(paymentsInMemory(), {
 *   record: (change) => Promise.resolve(void recorded.push(change)),
 * });
 * const payment = {
 *   orderId: "o1", product: "a", session: "s1", paymentUrl: "https://pay.example/o1",
 *   payBy: Date.parse("2026-12-06T03:15:00Z"), ended: null,
 * };
 * await book.save(payment);
 * assert.equal(await book.end({ ...payment, ended: "expired", endedAt: payment.payBy }), true);
 * assert.equal(await book.end({ ...payment, ended: "paid", endedAt: payment.payBy }), false);
 * assert.deepEqual(recorded, [{
 *   product: "a", orderId: "o1", status: "expired", reason: "not paid by 2026-12-06T03:15:00.000Z",
 * }]);
 * ```
 */
export function recordingEndings(
  book: PaymentBook,
  history: { record(change: OrderChange): Promise<void> },
): PaymentBook {
  return {
    save: (payment) => book.save(payment),
    async end(payment) {
      if (!await book.end(payment) || payment.ended === null) return false;
      const { product, orderId } = payment;
      await history.record(
        payment.ended === "expired"
          ? {
            product,
            orderId,
            status: "expired",
            reason: `not paid by ${new Date(payment.payBy).toISOString()}`,
          }
          : { product, orderId, status: payment.ended },
      );
      return true;
    },
    find: (orderId) => book.find(orderId),
    open: () => book.open(),
    claim: (orderId, tryNumber, forMs) => book.claim(orderId, tryNumber, forMs),
    close: () => book.close(),
  };
}
