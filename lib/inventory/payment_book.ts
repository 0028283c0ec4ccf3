/** The payment book port: the payments the order service sent shoppers to make, by order id. */

/** How a payment awaited ended; null while it is still awaited. */
export type PaymentEnding = "paid" | "cancelled" | "expired" | null;

/** A payment the order service sent a shopper to make, and how it ended. */
export interface AwaitedPayment {
  /** The order, as the order service knows it. */
  readonly orderId: string;
  /** The product's id. */
  readonly product: string;
  /** The shopper's session, whose hold awaits the payment. */
  readonly session: string;
  /** The order service's payment page the shopper was sent to. */
  readonly paymentUrl: string;
  /** When the payment's time runs out, in ms since the epoch. */
  readonly payBy: number;
  /** How it ended; null while it is awaited. */
  readonly ended: PaymentEnding;
}

/**
 * Where payments awaited are kept, beside the stock (in memory, in the Deno KV file, in Redis), so
 * that a callback finds its order on any process and after a restart. The holds themselves carry
 * the pin; the book tells an unknown order (404) from one that ended (409).
 */
export interface PaymentBook {
  /**
   * Writes a payment, replacing the one of the same order.
   *
   * @param payment The payment.
   */
  save(payment: AwaitedPayment): Promise<void>;
  /**
   * Reads a payment.
   *
   * @param orderId The order.
   * @returns Its payment, or undefined for an order never sent to pay.
   */
  find(orderId: string): Promise<AwaitedPayment | undefined>;
  /**
   * Lists the payments still awaited.
   *
   * @returns Each one not ended.
   */
  awaited(): Promise<AwaitedPayment[]>;
  /** Lets the engine go. */
  close(): Promise<void>;
}

/**
 * A payment book in this process's memory: for a store in memory, which keeps nothing either.
 *
 * @returns The book.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const book = paymentsInMemory();
 * const payment = {
 *   orderId: "o1", product: "a", session: "s1", paymentUrl: "https://pay.example/o1",
 *   payBy: 5_000, ended: null,
 * };
 * await book.save(payment);
 * assert.deepEqual(await book.awaited(), [payment]);
 * await book.save({ ...payment, ended: "paid" });
 * assert.equal((await book.find("o1"))?.ended, "paid");
 * assert.deepEqual(await book.awaited(), []);
 * ```
 */
export function paymentsInMemory(): PaymentBook {
  const payments = new Map<string, AwaitedPayment>();
  return {
    save(payment) {
      payments.set(payment.orderId, payment);
      return Promise.resolve();
    },
    find: (orderId) => Promise.resolve(payments.get(orderId)),
    awaited: () => Promise.resolve([...payments.values()].filter((p) => p.ended === null)),
    close: () => Promise.resolve(),
  };
}

/**
 * Reads a stored payment, refusing anything else.
 *
 * @param value What the engine gave back.
 * @returns The payment.
 * @throws {TypeError} When it is not a payment.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const payment = {
 *   orderId: "o1", product: "a", session: "s1", paymentUrl: "https://pay.example/o1",
 *   payBy: 5_000, ended: null,
 * };
 * assert.deepEqual(paymentOf(JSON.parse(JSON.stringify(payment))), payment);
 * assert.throws(() => paymentOf({ orderId: "o1" }), TypeError);
 * ```
 */
export function paymentOf(value: unknown): AwaitedPayment {
  const payment = value as Partial<AwaitedPayment> | null;
  const texts = [payment?.orderId, payment?.product, payment?.session, payment?.paymentUrl];
  if (
    !texts.every((text) => typeof text === "string") ||
    typeof payment?.payBy !== "number" ||
    ![null, "paid", "cancelled", "expired"].includes(payment.ended as string | null)
  ) {
    throw new TypeError(`Stored payment is not a payment: ${JSON.stringify(value)}`);
  }
  return payment as AwaitedPayment;
}
