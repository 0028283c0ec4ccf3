/** Payment endings in the order history: a payment book that records how each payment ended. */
import type { OrderChange } from "./order_log.ts";
import type { PaymentBook } from "./payment_book.ts";

/**
 * Wraps a payment book so that each payment written as ended (paid, cancelled, expired) is
 * recorded in the order history once it is written. The book is where the payments write how
 * each ended, on whichever process ended it, so the order log follows the payments without
 * their code knowing of it; a repeat (two processes writing one ending) is dropped by the log.
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
 * await book.save({ ...payment, ended: "expired" });
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
    async save(payment) {
      await book.save(payment);
      if (payment.ended === null) return;
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
    },
    find: (orderId) => book.find(orderId),
    awaited: () => book.awaited(),
    close: () => book.close(),
  };
}
