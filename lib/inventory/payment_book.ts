/** The payment book port: the payments the order service sent shoppers to make, by order id. */
import { type Clock, systemClock } from "../time/clock.ts";

/**
 * How long an ended payment (paid, cancelled, expired) is kept, from when it ended: 3 days. The
 * order service's callbacks are retried by their sender, and Standard Webhooks senders retry for
 * days (Stripe for up to 3 days, Svix's schedule for about 28 hours); each retry must find the order
 * and get its first answer again, not 404. The `order.expired` call owed to the order service is
 * retried for as long. After that the payment is forgotten: a callback then answers 404.
 */
export const PAYMENT_RETENTION_MS = 3 * 24 * 60 * 60_000;

/** How a payment awaited ended; null while it is still awaited. */
export type PaymentEnding = "paid" | "cancelled" | "expired" | null;

/** The `order.expired` call owed to the order service, until one try of it gets a 2xx. */
export interface OwedCall {
  /** The tries made so far; the next one is claimed by its number, so one process makes it. */
  readonly tries: number;
  /** When to make the next try, in ms since the epoch. */
  readonly nextAt: number;
}

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
  /** When it ended, in ms since the epoch: it is kept {@linkcode PAYMENT_RETENTION_MS} more. */
  readonly endedAt?: number;
  /** The `order.expired` call still owed to the order service, for an expired payment. */
  readonly owedCall?: OwedCall;
}

/** What a payment book is made with. */
export interface PaymentBookOptions {
  /** Tells when a payment ended long enough ago to forget; the real one by default. */
  readonly clock?: Clock;
  /** How long an ended payment is kept; {@linkcode PAYMENT_RETENTION_MS} by default. */
  readonly retentionMs?: number;
}

/**
 * Where payments awaited are kept, beside the stock (in memory, in the Deno KV file, in Redis), so
 * that a callback finds its order on any process and after a restart. The holds themselves carry
 * the pin; the book tells an unknown order (404) from one that ended (409), and keeps the calls
 * owed to the order service. An ended payment is forgotten its retention after it ended.
 */
export interface PaymentBook {
  /**
   * Writes a payment, replacing the one of the same order.
   *
   * @param payment The payment.
   */
  save(payment: AwaitedPayment): Promise<void>;
  /**
   * Writes a payment's ending, only if the payment kept has not ended: of several processes
   * ending one payment, one does.
   *
   * @param payment The payment, ended.
   * @returns True when this ending was written.
   */
  end(payment: AwaitedPayment): Promise<boolean>;
  /**
   * Reads a payment.
   *
   * @param orderId The order.
   * @returns Its payment, or undefined for an order never sent to pay or forgotten.
   */
  find(orderId: string): Promise<AwaitedPayment | undefined>;
  /**
   * Lists the payments still awaited, and those that owe the order service a call.
   *
   * @returns Each one not ended, or ended with a call owed.
   */
  open(): Promise<AwaitedPayment[]>;
  /**
   * Claims one try of an owed call, atomically: of the processes claiming the same try, one gets
   * it, until the claim runs out (its holder stopped).
   *
   * @param orderId The order.
   * @param tryNumber The try's number (the tries made before it).
   * @param forMs How long the claim lasts.
   * @returns True when this process has the try.
   */
  claim(orderId: string, tryNumber: number, forMs: number): Promise<boolean>;
  /** Lets the engine go. */
  close(): Promise<void>;
}

/**
 * Whether a payment is still to be kept open: awaited, or owing the order service a call.
 *
 * @param payment The payment.
 * @returns True when it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const payment = {
 *   orderId: "o1", product: "a", session: "s1", paymentUrl: "https://pay.example/o1",
 *   payBy: 5_000, ended: null,
 * };
 * assert.equal(isOpen(payment), true);
 * assert.equal(isOpen({ ...payment, ended: "paid", endedAt: 1 }), false);
 * assert.equal(isOpen({ ...payment, ended: "expired", owedCall: { tries: 0, nextAt: 1 } }), true);
 * ```
 */
export function isOpen(payment: AwaitedPayment): boolean {
  return payment.ended === null || payment.owedCall !== undefined;
}

/**
 * When a payment is forgotten: its retention after it ended; never while it is awaited.
 *
 * @param payment The payment.
 * @param retentionMs How long an ended payment is kept.
 * @returns The time, in ms since the epoch; Infinity for one awaited.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const payment = {
 *   orderId: "o1", product: "a", session: "s1", paymentUrl: "https://pay.example/o1",
 *   payBy: 5_000, ended: null,
 * };
 * assert.equal(forgottenAt(payment, 100), Infinity);
 * assert.equal(forgottenAt({ ...payment, ended: "paid", endedAt: 7_000 }, 100), 7_100);
 * ```
 */
export function forgottenAt(payment: AwaitedPayment, retentionMs: number): number {
  if (payment.ended === null) return Infinity;
  // Ended before endings were timed: kept as from its payment's deadline.
  return (payment.endedAt ?? payment.payBy) + retentionMs;
}

/**
 * A payment book in this process's memory: for a store in memory, which keeps nothing either. It
 * forgets each ended payment at its retention, so it holds only the last retention's payments.
 *
 * @param options The clock and the retention.
 * @returns The book.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * let now = 0;
 * const clock = { now: () => now, setTimer: () => () => {}, random: Math.random, randomUUID: () => crypto.randomUUID() };
 * const book = paymentsInMemory({ clock, retentionMs: 1_000 });
 * const payment = {
 *   orderId: "o1", product: "a", session: "s1", paymentUrl: "https://pay.example/o1",
 *   payBy: 5_000, ended: null,
 * };
 * await book.save(payment);
 * assert.deepEqual(await book.open(), [payment]);
 * assert.equal(await book.end({ ...payment, ended: "paid", endedAt: 0 }), true);
 * assert.equal(await book.end({ ...payment, ended: "cancelled", endedAt: 0 }), false);
 * assert.equal((await book.find("o1"))?.ended, "paid");
 * assert.deepEqual(await book.open(), []);
 * now = 1_000;
 * assert.equal(await book.find("o1"), undefined);
 * ```
 */
export function paymentsInMemory(options: PaymentBookOptions = {}): PaymentBook {
  const clock = options.clock ?? systemClock;
  const retentionMs = options.retentionMs ?? PAYMENT_RETENTION_MS;
  const payments = new Map<string, AwaitedPayment>();
  /** Ended payments in the order they ended, to forget the oldest first. */
  const endings: { orderId: string; at: number }[] = [];
  const claims = new Map<string, number>();
  const forget = () => {
    const now = clock.now();
    while (endings.length > 0 && endings[0].at <= now) {
      const { orderId } = endings.shift()!;
      const payment = payments.get(orderId);
      if (payment !== undefined && forgottenAt(payment, retentionMs) <= now) {
        payments.delete(orderId);
      }
    }
    for (const [key, until] of claims) if (until <= now) claims.delete(key);
  };
  const save = (payment: AwaitedPayment) => {
    forget();
    payments.set(payment.orderId, payment);
    if (payment.ended !== null) {
      endings.push({ orderId: payment.orderId, at: forgottenAt(payment, retentionMs) });
    }
  };
  return {
    save(payment) {
      save(payment);
      return Promise.resolve();
    },
    end(payment) {
      forget();
      const kept = payments.get(payment.orderId);
      if (kept !== undefined && kept.ended !== null) return Promise.resolve(false);
      save(payment);
      return Promise.resolve(true);
    },
    find(orderId) {
      forget();
      return Promise.resolve(payments.get(orderId));
    },
    open() {
      forget();
      return Promise.resolve([...payments.values()].filter(isOpen));
    },
    claim(orderId, tryNumber, forMs) {
      forget();
      const key = `${orderId}#${tryNumber}`;
      if (claims.has(key)) return Promise.resolve(false);
      claims.set(key, clock.now() + forMs);
      return Promise.resolve(true);
    },
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
 *   payBy: 5_000, ended: "expired", endedAt: 5_000, owedCall: { tries: 1, nextAt: 6_000 },
 * };
 * assert.deepEqual(paymentOf(JSON.parse(JSON.stringify(payment))), payment);
 * assert.throws(() => paymentOf({ orderId: "o1" }), TypeError);
 * ```
 */
export function paymentOf(value: unknown): AwaitedPayment {
  const payment = value as Partial<AwaitedPayment> | null;
  const texts = [payment?.orderId, payment?.product, payment?.session, payment?.paymentUrl];
  const call = payment?.owedCall;
  if (
    !texts.every((text) => typeof text === "string") ||
    typeof payment?.payBy !== "number" ||
    ![null, "paid", "cancelled", "expired"].includes(payment.ended as string | null) ||
    !(payment.endedAt === undefined || typeof payment.endedAt === "number") ||
    !(call === undefined || (typeof call?.tries === "number" && typeof call.nextAt === "number"))
  ) {
    throw new TypeError(`Stored payment is not a payment: ${JSON.stringify(value)}`);
  }
  return payment as AwaitedPayment;
}
