/** Checkout: a hold becomes a sale once the shop's order service says yes, without waiting on it. */
import type { Inventory } from "./inventory.ts";
import type { ProductState } from "./ledger.ts";
import type { Price } from "./product.ts";
import type { CheckoutRefusal } from "./refusal.ts";
import { type Clock, systemClock } from "../time/clock.ts";
import type { Payments } from "./payments.ts";
import type { OrderChange } from "./order_log.ts";

/** What the order service is told of a sale to book. */
export interface Order {
  /** Names the order; the same on every try of one hold, so it is the idempotency key. */
  readonly orderId: string;
  /** The product's id. */
  readonly product: string;
  /** The shopper's session. */
  readonly session: string;
  /** What the unit costs. */
  readonly price: Price;
  /** When the shopper took the unit, in ISO 8601. */
  readonly heldAt: string;
}

/** What the order service answered, in the end. */
export type OrderAnswer =
  /** Booked: sell the unit. */
  | { readonly kind: "accepted" }
  /** Booked, to be paid on the service's payment page: the hold awaits payment. */
  | { readonly kind: "payment"; readonly paymentUrl: string }
  | OrderRefused
  | OrderFailed;

/** The order service refused the order (a 4xx, its status): the hold stays. */
export interface OrderRefused {
  /** What happened. */
  readonly kind: "refused";
  /** The service's reason. */
  readonly reason: string;
  /** The service's status. */
  readonly status?: number;
}

/**
 * The order service did not answer in time, or only failed (5xx, connection errors): the hold
 * stays.
 */
export interface OrderFailed {
  /** What happened. */
  readonly kind: "failed";
  /** What went wrong. */
  readonly reason: string;
  /** Whether the time ran out. */
  readonly timedOut: boolean;
  /** The last status the service answered, 0 for none. */
  readonly status?: number;
}

/** What the order service is told when a payment's time ran out and its unit went back. */
export interface ExpiredOrder {
  /** The order. */
  readonly orderId: string;
  /** The product's id. */
  readonly product: string;
  /** The shopper's session. */
  readonly session: string;
  /** When the payment's time ran out, in ISO 8601. */
  readonly payBy: string;
}

/** The shop's order service: stocks an order, retrying as it sees fit until the signal aborts. */
export interface OrderService {
  /**
   * Stocks an order.
   *
   * @param order The order.
   * @param signal Aborts when the checkout's time is up.
   * @returns Its answer; never throws.
   */
  place(order: Order, signal: AbortSignal): Promise<OrderAnswer>;
  /**
   * Tells the service that an order's payment time ran out and its unit went back.
   *
   * @param order The order that expired.
   * @param signal Aborts when the time to tell it is up.
   * @returns True once the service answered 2xx; never throws.
   */
  expire(order: ExpiredOrder, signal: AbortSignal): Promise<boolean>;
}

/** What a checkout did. */
export type CheckoutResult =
  /** Sold (now, or by an earlier checkout of the same hold). */
  | { readonly kind: "sold"; readonly orderId: string; readonly record: ProductState }
  /** The shopper is to pay on the service's page by `payBy` (ms since the epoch); the hold waits. */
  | {
    readonly kind: "awaiting payment";
    readonly orderId: string;
    readonly paymentUrl: string;
    readonly payBy: number;
  }
  | OrderRefused
  | OrderFailed
  /** Nothing to check out (no hold, a checkout already in flight, no product on sale) or the
   * hold was not the order's when its sale came. */
  | { readonly kind: "not possible"; readonly reason: CheckoutRefusal };

/** How a checkout ended, as metrics count it: what the order service did, or the refusal. */
export type CheckoutOutcome =
  | "sold"
  | "payment"
  | "refused"
  | "failed"
  | "timeout"
  | CheckoutRefusal;

/** How checkouts run. */
export interface CheckoutOptions {
  /** The order service; none sells at once (demo mode). */
  readonly service: OrderService | undefined;
  /** How long one checkout may take, all tries included, in ms: it bounds how long a hold is pinned. */
  readonly timeoutMs: number;
  /** Called with each checkout's outcome. */
  readonly onOutcome?: (outcome: CheckoutOutcome) => void;
  /** Draws the order ids and times a graceful stop's wait; real ones by default. */
  readonly clock?: Clock;
  /** Keeps the payments the order service sends shoppers to make; none sells such an order at once. */
  readonly payments?: Payments;
  /** Writes a line for each checkout that did not sell, with its order and the service's answer. */
  readonly log?: (line: string) => void;
  /**
   * Records each change of an order's status a checkout makes (sold, awaiting payment, refused,
   * failed), before the shopper is answered; it must not reject.
   */
  readonly onOrder?: (change: OrderChange) => Promise<void>;
}

/**
 * Runs checkouts: marks the hold (durably), calls the order service without blocking anything
 * else, then sells the unit or lets the hold go back to normal. Keeps the checkouts in flight so
 * that a stop can wait for them, and resumes those a stopped server left.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemClock } from "../time/clock.ts";
 * import { Inventory } from "./inventory.ts";
 * import { openMemoryStore } from "../store/memory_store.ts";
 * const store = openMemoryStore({ holdTtlMs: 60_000, clock: systemClock });
 * const inventory = await Inventory.open(store, 60_000);
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * await inventory.list({ info, total: 3 });
 * const session = crypto.randomUUID();
 * await inventory.add("a", session);
 * const checkouts = new Checkouts(inventory, { service: undefined, timeoutMs: 5_000 });
 * const result = await checkouts.checkout("a", session);
 * assert.equal(result.kind, "sold");
 * assert.equal(inventory.get("a")?.sold, 1);
 * assert.equal(inventory.get("a")?.total, 2);
 * await store.close();
 * ```
 */
export class Checkouts {
  readonly #inventory: Inventory;
  readonly #options: CheckoutOptions;
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #stopping = new AbortController();
  readonly #clock: Clock;

  /**
   * Makes the checkouts of an inventory; none runs until the first {@linkcode Checkouts.checkout}.
   *
   * @param inventory The inventory.
   * @param options The order service and the time a checkout may take.
   */
  constructor(inventory: Inventory, options: CheckoutOptions) {
    this.#inventory = inventory;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /** Checkouts in flight now. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  /**
   * Checks out a session's hold of a product.
   *
   * @param product The product's id.
   * @param session The shopper's session.
   * @returns What happened; the hold stays unless it was sold.
   */
  async checkout(product: string, session: string): Promise<CheckoutResult> {
    const orderId = this.#clock.randomUUID();
    const start = await this.#inventory.beginCheckout(product, session, orderId);
    let result: CheckoutResult;
    if (start.kind === "refused") {
      result = { kind: "not possible", reason: start.reason };
    } else if (start.kind === "sold") {
      result = { kind: "sold", orderId: start.orderId, record: this.#inventory.get(product)! };
    } else if (start.kind === "awaiting payment") {
      // The shopper left the payment page: send them back to it, the order and deadline unchanged.
      const paymentUrl = await this.#options.payments?.paymentUrlOf(start.orderId);
      result = paymentUrl === undefined
        ? { kind: "not possible", reason: "checkout in progress" }
        : { kind: "awaiting payment", orderId: start.orderId, paymentUrl, payBy: start.payBy };
    } else {
      result = await this.#track(this.#complete(product, session, start.orderId, start.heldAt));
    }
    this.#options.onOutcome?.(outcomeOf(result));
    return result;
  }

  /**
   * Resumes the checkouts a stopped server left in flight, each with its own order id, so an
   * order the service booked ends as a sale and one it refused as a hold.
   *
   * @returns Each one's result, once every one has ended.
   */
  async resume(): Promise<CheckoutResult[]> {
    const pending = await this.#inventory.pendingCheckouts();
    return await Promise.all(
      pending.map(async ({ product, session, orderId, heldAt }) => {
        const result = await this.#track(this.#complete(product, session, orderId, heldAt));
        this.#options.onOutcome?.(outcomeOf(result));
        return result;
      }),
    );
  }

  /**
   * Waits for the checkouts in flight, and past a deadline ends them (they answer as failed and
   * their holds stay). For a graceful stop.
   *
   * @param deadlineMs How long to wait for them.
   */
  async settle(deadlineMs: number): Promise<void> {
    const cancel = this.#clock.setTimer(() => this.#stopping.abort(), deadlineMs);
    try {
      while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    } finally {
      cancel();
    }
  }

  #track<T>(work: Promise<T>): Promise<T> {
    this.#inFlight.add(work);
    const forget = () => this.#inFlight.delete(work);
    work.then(forget, forget);
    return work;
  }

  /** Calls the order service for a marked hold, then sells it or unmarks it. */
  async #complete(
    product: string,
    session: string,
    orderId: string,
    heldAt: number,
  ): Promise<CheckoutResult> {
    const record = this.#inventory.get(product);
    const service = this.#options.service;
    let answer: OrderAnswer;
    try {
      answer = service === undefined || record === undefined
        ? { kind: "accepted" }
        : await service.place(
          { orderId, product, session, price: record.info.price, heldAt: isoTime(heldAt) },
          AbortSignal.any([AbortSignal.timeout(this.#options.timeoutMs), this.#stopping.signal]),
        );
    } catch (error) {
      answer = { kind: "failed", reason: String(error), timedOut: false };
    }
    if (answer.kind === "payment" && this.#options.payments !== undefined) {
      let payBy: number | undefined;
      try {
        payBy = await this.#options.payments.begin(
          { orderId, product, session },
          answer.paymentUrl,
        );
      } catch {
        // The store could not keep it: the hold goes back to normal, and the next checkout asks
        // the service again with the same order, which answers the same payment page.
      }
      if (payBy !== undefined) {
        await this.#options.onOrder?.({ product, orderId, status: "awaiting payment" });
        return { kind: "awaiting payment", orderId, paymentUrl: answer.paymentUrl, payBy };
      }
      answer = {
        kind: "failed",
        reason: "the shop could not keep the payment: try again",
        timedOut: false,
        status: 202,
      };
    }
    if (answer.kind === "accepted" || answer.kind === "payment") {
      const outcome = await this.#inventory.completeSale(product, session, orderId);
      if (outcome.ok) {
        await this.#options.onOrder?.({ product, orderId, status: "sold" });
        return { kind: "sold", orderId, record: outcome.record };
      }
      // A sale takes no free unit, so it is never refused as sold out.
      return { kind: "not possible", reason: outcome.reason as CheckoutRefusal };
    }
    await this.#inventory.endCheckout(product, session, orderId);
    this.#options.log?.(notSoldLine(orderId, product, answer));
    await this.#options.onOrder?.({ product, orderId, status: answer.kind, reason: answer.reason });
    return answer;
  }
}

/** One line on a checkout that did not sell: the order, the shopper's answer, the service's. */
function notSoldLine(
  orderId: string,
  product: string,
  answer: Extract<OrderAnswer, { kind: "refused" | "failed" }>,
): string {
  const shopper = answer.kind === "refused" ? 402 : answer.timedOut ? 504 : 502;
  const service = answer.status ? String(answer.status) : "none";
  // A service that cannot check our signature answers 401 or 403: most often a secret that
  // differs between the two sides, which the owner should see named.
  const hint = answer.status === 401 || answer.status === 403
    ? " (does the order service have the same --webhook-secret?)"
    : "";
  return `Checkout not sold: order ${orderId}, product "${product}", answered ${shopper}, ` +
    `order service status ${service}, reason: ${JSON.stringify(answer.reason)}${hint}`;
}

function isoTime(ms: number): string {
  return Number.isFinite(ms) ? new Date(ms).toISOString() : new Date(0).toISOString();
}

function outcomeOf(result: CheckoutResult): CheckoutOutcome {
  switch (result.kind) {
    case "sold":
    case "refused":
      return result.kind;
    case "awaiting payment":
      return "payment";
    case "failed":
      return result.timedOut ? "timeout" : "failed";
    case "not possible":
      return result.reason;
  }
}
