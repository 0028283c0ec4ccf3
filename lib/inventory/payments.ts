/** Payments awaited: a hold waits while the shopper pays on the order service's page, then ends. */
import type { OrderService } from "./checkout.ts";
import type { Inventory } from "./inventory.ts";
import type { ProductState } from "./ledger.ts";
import {
  type AwaitedPayment,
  forgottenAt,
  PAYMENT_RETENTION_MS,
  type PaymentBook,
} from "./payment_book.ts";
import { type Clock, systemClock } from "../time/clock.ts";

/**
 * Every process looks for payments whose time ran out this often, besides its own timers: one
 * that another process of a fleet started (and that process stopped) still ends near its time.
 */
export const PAYMENT_SWEEP_MS = 60_000;

/**
 * An `order.expired` call that got no 2xx is tried again after about this long, then twice as
 * long each time up to {@linkcode EXPIRED_CALL_MAX_RETRY_MS}, for as long as the payment is kept
 * ({@linkcode PAYMENT_RETENTION_MS}): an order service down for a deploy hears of it within
 * seconds, one down for a day within the hour after it is back.
 */
export const EXPIRED_CALL_FIRST_RETRY_MS = 5_000;
/** The longest wait between two tries of an `order.expired` call. */
export const EXPIRED_CALL_MAX_RETRY_MS = 60 * 60_000;
/**
 * A claimed try of a call lasts its call's time and this much more: a process that stopped
 * mid-try leaves it to another after that.
 */
const CLAIM_MARGIN_MS = 5_000;

/** How the order service's callback ended, as its answer says it. */
export type Settlement =
  /** Paid: the unit is sold (now, or by this callback asked before). */
  | { readonly kind: "paid"; readonly record: ProductState | undefined }
  /** Cancelled: the unit went back (now, or by this callback asked before). */
  | { readonly kind: "cancelled" }
  /** No order of that id was sent to pay (or it was forgotten). */
  | { readonly kind: "unknown" }
  /**
   * The order's checkout call is still in flight: the service answered it 202, and the shop has
   * not kept the payment yet. Asked again shortly, it is known.
   */
  | { readonly kind: "not yet" }
  /** The order ended otherwise: its time ran out, or it was paid or cancelled. */
  | { readonly kind: "ended"; readonly ended: "paid" | "cancelled" | "expired" };

/** What the payments need. */
export interface PaymentsOptions {
  /** The order service, told of each payment whose time ran out; none tells no one. */
  readonly service: OrderService | undefined;
  /** How long a shopper has to pay, in ms. */
  readonly paymentTimeoutMs: number;
  /** How long telling the order service of an expired payment may take, all tries, in ms. */
  readonly callTimeoutMs: number;
  /** Times the payments; the real one by default. */
  readonly clock?: Clock;
  /** Writes a line per payment that expired, and per failure to tell the order service. */
  readonly log?: (line: string) => void;
  /** How long an ended payment is kept, as the book keeps it: a call owed is tried that long. */
  readonly retentionMs?: number;
}

/**
 * Keeps the payments the order service sent shoppers to make: starts each (its hold awaits
 * payment), settles it on the service's callback, and when its time runs out puts the unit back
 * and tells the service. The store decides each ending atomically, so on a fleet exactly one
 * process ends a payment, and only that one tells the service it expired.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemClock } from "../time/clock.ts";
 * import { Inventory } from "./inventory.ts";
 * import { openMemoryStore } from "../store/memory_store.ts";
 * import { paymentsInMemory } from "./payment_book.ts";
 * const store = openMemoryStore({ holdTtlMs: 60_000, clock: systemClock });
 * const inventory = await Inventory.open(store, 60_000);
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * await inventory.list({ info, total: 3 });
 * await inventory.add("a", "s1");
 * await inventory.beginCheckout("a", "s1", "o1");
 * const payments = new Payments(inventory, paymentsInMemory(), {
 *   service: undefined, paymentTimeoutMs: 900_000, callTimeoutMs: 5_000,
 * });
 * assert.equal(typeof await payments.begin({ orderId: "o1", product: "a", session: "s1" }, "https://pay.example/o1"), "number");
 * assert.equal((await payments.settle("o1", "paid")).kind, "paid");
 * assert.equal((await payments.settle("o1", "cancelled")).kind, "ended");
 * assert.equal((await payments.settle("o2", "paid")).kind, "unknown");
 * assert.equal(inventory.get("a")?.sold, 1);
 * await payments.stop();
 * await store.close();
 * ```
 */
export class Payments {
  readonly #inventory: Inventory;
  readonly #book: PaymentBook;
  readonly #options: PaymentsOptions;
  readonly #clock: Clock;
  /** Order id → its timer's cancel. */
  readonly #timers = new Map<string, () => void>();
  /** Order id → the timer of the next try of its owed call. */
  readonly #callTimers = new Map<string, () => void>();
  readonly #working = new Set<Promise<unknown>>();
  readonly #stopping = new AbortController();
  #cancelSweep: (() => void) | undefined;

  /**
   * Makes the payments; nothing runs until {@linkcode Payments.begin} or
   * {@linkcode Payments.start}.
   *
   * @param inventory The inventory whose holds await payment.
   * @param book Where payments are kept.
   * @param options The order service, the times, clock and log.
   */
  constructor(inventory: Inventory, book: PaymentBook, options: PaymentsOptions) {
    this.#inventory = inventory;
    this.#book = book;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Finds the payments still awaited (a stopped server's, another process's) and ends each when
   * its time runs out, and the `order.expired` calls still owed, and makes each at its time;
   * then looks again every {@linkcode PAYMENT_SWEEP_MS}.
   */
  async start(): Promise<void> {
    await this.#sweep();
  }

  /**
   * Starts a payment: written to the book, then the hold of the checkout in flight awaits it.
   *
   * @param order The order, its product and the shopper's session.
   * @param paymentUrl The order service's payment page.
   * @returns When the payment's time runs out (ms since the epoch); undefined when the hold was
   *   no longer that order's checkout in flight.
   */
  async begin(
    order: { orderId: string; product: string; session: string },
    paymentUrl: string,
  ): Promise<number | undefined> {
    const payBy = this.#clock.now() + this.#options.paymentTimeoutMs;
    const payment: AwaitedPayment = { ...order, paymentUrl, payBy, ended: null };
    // The book first: a callback that comes at once finds its order.
    await this.#book.save(payment);
    const awaiting = await this.#inventory.awaitPayment(
      order.product,
      order.session,
      order.orderId,
      payBy,
    );
    if (!awaiting) return undefined;
    this.#arm(payment);
    return payBy;
  }

  /**
   * The payment page of an order awaiting payment.
   *
   * @param orderId The order.
   * @returns Its page; undefined for an order not awaiting payment.
   */
  async paymentUrlOf(orderId: string): Promise<string | undefined> {
    const payment = await this.#book.find(orderId);
    return payment?.ended === null ? payment.paymentUrl : undefined;
  }

  /**
   * Settles a payment as the order service's callback says; asked again, answers the same.
   *
   * @param orderId The order.
   * @param how Paid or cancelled.
   * @returns How it ended.
   */
  async settle(orderId: string, how: "paid" | "cancelled"): Promise<Settlement> {
    const payment = await this.#book.find(orderId);
    if (payment === undefined) {
      return await this.#beingSent(orderId) ? { kind: "not yet" } : { kind: "unknown" };
    }
    if (payment.ended !== null) return this.#again(payment, how);
    const end = await this.#inventory.settlePayment(
      payment.product,
      payment.session,
      orderId,
      how,
    );
    if (end === "done" || end === "sold") {
      const ended = end === "sold" ? "paid" : how;
      this.#disarm(orderId);
      if (await this.#book.end({ ...payment, ended, endedAt: this.#clock.now() })) {
        return this.#again({ ...payment, ended }, how);
      }
    }
    // The hold ended otherwise: its time ran out here or on another process, which writes so;
    // or it is not awaiting payment yet (the book is written just before the hold's mark).
    const found = await this.#book.find(orderId);
    if (found?.ended === null && await this.#beingSent(orderId)) return { kind: "not yet" };
    const ended = found?.ended ?? "expired";
    return this.#again({ ...payment, ended }, how);
  }

  /**
   * Whether an order's checkout is still in flight, its hold marked (before the service was
   * called) and not yet awaiting payment: a callback the service sends before its 202 reached us.
   */
  async #beingSent(orderId: string): Promise<boolean> {
    const pending = await this.#inventory.pendingCheckouts();
    return pending.some((checkout) => checkout.orderId === orderId);
  }

  /** Stops the timers and waits for the expiries in flight (their calls are cut short). */
  async stop(): Promise<void> {
    this.#cancelSweep?.();
    this.#cancelSweep = undefined;
    for (const cancel of [...this.#timers.values(), ...this.#callTimers.values()]) cancel();
    this.#timers.clear();
    this.#callTimers.clear();
    this.#stopping.abort();
    while (this.#working.size > 0) await Promise.allSettled([...this.#working]);
  }

  /** The answer to a callback for a payment that has ended. */
  #again(payment: AwaitedPayment, how: "paid" | "cancelled"): Settlement {
    if (payment.ended === how && how === "paid") {
      return { kind: "paid", record: this.#inventory.get(payment.product) };
    }
    if (payment.ended === how) return { kind: "cancelled" };
    return { kind: "ended", ended: payment.ended ?? "expired" };
  }

  #arm(payment: AwaitedPayment): void {
    if (this.#stopping.signal.aborted || this.#timers.has(payment.orderId)) return;
    const wait = Math.max(0, payment.payBy - this.#clock.now());
    const cancel = this.#clock.setTimer(() => {
      this.#timers.delete(payment.orderId);
      this.#track(this.#expire(payment));
    }, wait);
    this.#timers.set(payment.orderId, cancel);
  }

  #disarm(orderId: string): void {
    this.#timers.get(orderId)?.();
    this.#timers.delete(orderId);
  }

  #track(work: Promise<unknown>): void {
    const done = work.catch((error) => this.#options.log?.(`Payment expiry failed: ${error}`));
    this.#working.add(done);
    done.finally(() => this.#working.delete(done));
  }

  async #sweep(): Promise<void> {
    if (this.#stopping.signal.aborted) return;
    try {
      for (const payment of await this.#book.open()) {
        if (payment.ended === null) this.#arm(payment);
        else this.#armCall(payment);
      }
    } catch (error) {
      this.#options.log?.(`Reading the payments awaited failed: ${error}`);
    }
    if (this.#stopping.signal.aborted) return;
    this.#cancelSweep = this.#clock.setTimer(
      () => this.#track(this.#sweep()),
      PAYMENT_SWEEP_MS,
    );
  }

  /** Ends a payment whose time ran out, if the store says it is this process's to end. */
  async #expire(payment: AwaitedPayment): Promise<void> {
    const { orderId, product, session } = payment;
    const end = await this.#inventory.settlePayment(product, session, orderId, "expired");
    if (end === "not due") {
      // Another clock (Redis's) has it later: look again then.
      this.#timers.delete(orderId);
      this.#arm({ ...payment, payBy: this.#clock.now() + 1_000 });
      return;
    }
    const endedAt = this.#clock.now();
    if (end === "sold") {
      await this.#book.end({ ...payment, ended: "paid", endedAt });
      return;
    }
    // Gone: ended by a callback or another process, which write so. If none did (it stopped
    // between putting the unit back and writing the book), the payment's time has run out all
    // the same, and its call is owed.
    if (end === "gone" && (await this.#book.find(orderId))?.ended !== null) return;
    const owedCall = this.#options.service && { tries: 0, nextAt: endedAt };
    const expired: AwaitedPayment = { ...payment, ended: "expired", endedAt, owedCall };
    // The book first records the call owed, so a crash now still makes it at the next start.
    if (!await this.#book.end(expired)) return;
    this.#options.log?.(
      `Checkout not sold: order ${orderId}, product "${product}", payment expired ` +
        `(not paid by ${new Date(payment.payBy).toISOString()}); the unit went back`,
    );
    if (owedCall !== undefined) await this.#call(orderId);
  }

  #armCall(payment: AwaitedPayment): void {
    const owed = payment.owedCall;
    if (this.#stopping.signal.aborted || owed === undefined) return;
    this.#callTimers.get(payment.orderId)?.();
    const cancel = this.#clock.setTimer(() => {
      this.#callTimers.delete(payment.orderId);
      this.#track(this.#call(payment.orderId));
    }, Math.max(0, owed.nextAt - this.#clock.now()));
    this.#callTimers.set(payment.orderId, cancel);
  }

  /**
   * Makes one try of the `order.expired` call an order owes, if it is due and this process
   * claims it; then writes it made, or when to try again.
   */
  async #call(orderId: string): Promise<void> {
    const payment = await this.#book.find(orderId);
    const owed = payment?.owedCall;
    if (payment === undefined || owed === undefined || this.#stopping.signal.aborted) return;
    const now = this.#clock.now();
    if (owed.nextAt > now) return this.#armCall(payment);
    const lease = this.#options.callTimeoutMs + CLAIM_MARGIN_MS;
    if (!await this.#book.claim(orderId, owed.tries, lease)) {
      // Another process makes this try; should it stop midway, look again once its claim ends.
      return this.#armCall({ ...payment, owedCall: { ...owed, nextAt: now + lease } });
    }
    // Read again: another process may have made this try between the read and the claim.
    const current = await this.#book.find(orderId);
    if (current?.owedCall?.tries !== owed.tries) {
      if (current?.owedCall !== undefined) this.#armCall(current);
      return;
    }
    const { owedCall: _, ...made } = current;
    if (await this.#tell(current)) {
      await this.#book.save(made);
      return;
    }
    const window = Math.min(
      EXPIRED_CALL_MAX_RETRY_MS,
      EXPIRED_CALL_FIRST_RETRY_MS * 2 ** owed.tries,
    );
    // Whole ms, so the time the log gives is the time of the try.
    const nextAt = Math.ceil(this.#clock.now() + window * (0.5 + 0.5 * this.#clock.random()));
    const retentionMs = this.#options.retentionMs ?? PAYMENT_RETENTION_MS;
    if (nextAt >= forgottenAt(current, retentionMs)) {
      const since = new Date(current.endedAt ?? current.payBy).toISOString();
      this.#options.log?.(
        `Order service not told that order ${orderId} expired: no 2xx in ${owed.tries + 1} ` +
          `tries since ${since}, and the payment is forgotten next; giving up`,
      );
      await this.#book.save(made);
      return;
    }
    const next = { ...current, owedCall: { tries: owed.tries + 1, nextAt } };
    await this.#book.save(next);
    this.#options.log?.(
      `Order service not told that order ${orderId} expired: no 2xx (try ${owed.tries + 1}); ` +
        `trying again at ${new Date(nextAt).toISOString()}`,
    );
    this.#armCall(next);
  }

  /** Tells the order service a payment expired: true once it answered 2xx. */
  async #tell(payment: AwaitedPayment): Promise<boolean> {
    const service = this.#options.service;
    if (service === undefined) return true;
    const { orderId, product, session } = payment;
    return await service.expire(
      { orderId, product, session, payBy: new Date(payment.payBy).toISOString() },
      AbortSignal.any([AbortSignal.timeout(this.#options.callTimeoutMs), this.#stopping.signal]),
    );
  }
}
