/** The store port: what the inventory asks of a store, whatever engine keeps the data (store adapters implement it). */
import type { Listed, ProductState, Sale } from "./ledger.ts";
import type { ProductInfo } from "./product.ts";
import type { Refusal } from "./refusal.ts";
import type { CheckoutStart, PaymentEnd, PaymentSettlement } from "./rules.ts";

/** Every product of a store, read at one moment. */
export interface StoreSnapshot {
  /** Names this store's life: a store that starts empty (or lost its data) gets a new one. */
  readonly epoch: string;
  /** Every product, retired ones too. */
  readonly products: readonly ProductState[];
}

/** What an operation on a product did. */
export type StoreOutcome =
  | {
    readonly ok: true;
    /** The product after it. */
    readonly record: ProductState;
    /** Whether the session now holds a unit (for add and remove). */
    readonly inCart: boolean;
  }
  | {
    readonly ok: false;
    /** Why nothing changed. */
    readonly reason: Refusal;
    /** The product as it is, when there is one. */
    readonly record?: ProductState;
    /** For too many holds: how long until the client's oldest hold ends, in ms. */
    readonly retryAfterMs?: number;
  };

/** Who takes a hold, as the per-address count knows it, and how many holds it may have at once. */
export interface ClientLimit {
  /** The client's address as one plain key (an IPv4 address, an IPv6 /64, or `unknown`). */
  readonly key: string;
  /** The most holds at once from that key over every session and product; 0 counts none. */
  readonly maxHolds: number;
}

/**
 * A client that is not counted: in-process callers (the admin area, tests) that hold units
 * without an address.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(UNCOUNTED_CLIENT.maxHolds, 0);
 * ```
 */
export const UNCOUNTED_CLIENT: ClientLimit = { key: "unknown", maxHolds: 0 };

/** One unit a session holds. */
export interface HeldUnit {
  /** The product's id. */
  readonly product: string;
  /** When the hold ends, in ms since the epoch (for one awaiting payment: when its time runs out). */
  readonly expiresAt: number;
}

/** A checkout that was in flight when its server stopped: to be resumed with the same order. */
export interface PendingCheckout {
  /** The product's id. */
  readonly product: string;
  /** The shopper's session. */
  readonly session: string;
  /** The order, and so the idempotency key of every try. */
  readonly orderId: string;
  /** When the session first took the unit. */
  readonly heldAt: number;
}

/** How a catalog entry is written: its data, and its total when the entry sets one. */
export interface Listing {
  /** What the product is. */
  readonly info: ProductInfo;
  /** The total to set; undefined keeps a stored one (a new product then starts with 0). */
  readonly total?: number;
  /** Remember `total` as the catalog file's, so that a later start can tell the file changed. */
  readonly fromFile?: boolean;
  /** What the catalog file gives now, remembered so that the next start can tell what it changed. */
  readonly listed?: Listed;
}

/** Whether a store can be reached, as its last command found it. */
export interface StoreHealth {
  /** False while the engine does not answer: writes are refused, reads serve the last state. */
  readonly reachable: boolean;
  /** The last failure's text, or null when there has been none. */
  readonly lastError: string | null;
  /** When `reachable` last changed (or the store opened), in ms since the epoch. */
  readonly since: number;
}

/**
 * Thrown by a store operation when the engine cannot be reached: nothing was decided, and the
 * operation may be tried again shortly. An operation that timed out may still take effect later;
 * its change is then told like any other.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const error = new StoreUnavailableError("Redis did not answer within 1000 ms");
 * assert.equal(error.name, "StoreUnavailableError");
 * assert.ok(error instanceof Error);
 * ```
 */
export class StoreUnavailableError extends Error {
  /**
   * Creates the error.
   *
   * @param message What failed, in sentence case.
   * @param options The underlying error as `cause`.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "StoreUnavailableError";
  }
}

/**
 * A store decides each operation atomically and returns the product's new state; it tells every
 * committed change, in version order per product, to its listeners.
 *
 * Holds expire by the store's clock: a store ends the holds that are due before it decides on a
 * product, and on its own as they fall due.
 */
export interface InventoryStore {
  /** The engine, for logs and health: `memory`, `kv` or `redis`. */
  readonly kind: string;
  /**
   * Tells whether the engine answers now.
   *
   * @returns Its health.
   */
  health(): StoreHealth;
  /**
   * Reads every product.
   *
   * @returns The snapshot.
   */
  load(): Promise<StoreSnapshot>;
  /**
   * Lists what a session holds.
   *
   * @param session The session id.
   * @returns Its units, by product.
   */
  holdsOf(session: string): Promise<HeldUnit[]>;
  /**
   * Reads what a session bought of a product: its page says "Purchased" from it, also when the
   * sale came from a payment callback while the shopper was on the payment page.
   *
   * @param product The product's id.
   * @param session The session id.
   * @returns Its latest order and how many units it bought; undefined when it bought none.
   */
  saleOf(product: string, session: string): Promise<Sale | undefined>;
  /**
   * Holds one unit for a session; a hold it has already stays as it is. A new hold is refused
   * as too many holds when the client has `client.maxHolds` holds already, counted atomically
   * with the hold over every product (and, on a shared store, every process).
   *
   * @param product The product's id.
   * @param session The session id.
   * @param client The client's key, kept with the hold until it ends, and its limit.
   * @returns The outcome.
   */
  take(product: string, session: string, client: ClientLimit): Promise<StoreOutcome>;
  /**
   * Ends a session's hold, if any.
   *
   * @param product The product's id.
   * @param session The session id.
   * @returns The outcome.
   */
  release(product: string, session: string): Promise<StoreOutcome>;
  /**
   * Sets a product's total; holds stay.
   *
   * @param product The product's id.
   * @param total The new total.
   * @returns The outcome.
   */
  restock(product: string, total: number): Promise<StoreOutcome>;
  /**
   * Creates a product or updates its data (and total), listing a retired one again.
   *
   * @param listing The product's data and total.
   * @returns The product after it, and whether it is new.
   */
  list(listing: Listing): Promise<{ record: ProductState; created: boolean }>;
  /**
   * Retires a product: no longer sold, its holds end.
   *
   * @param product The product's id.
   * @returns The outcome.
   */
  retire(product: string): Promise<StoreOutcome>;
  /**
   * Starts checking a hold out: from now until the checkout ends it neither expires nor goes.
   * Durable before it answers, so a server that stops mid-call resumes it at its next start.
   *
   * @param product The product's id.
   * @param session The shopper's session.
   * @param newOrderId The order id for a hold that has none yet.
   * @returns Whether to call the order service, and with which order.
   */
  beginCheckout(product: string, session: string, newOrderId: string): Promise<CheckoutStart>;
  /**
   * Sells the unit of a hold whose order the order service confirmed.
   *
   * @param product The product's id.
   * @param session The shopper's session.
   * @param orderId The order confirmed.
   * @returns The product after the sale; refused when the hold is not that order's.
   */
  completeSale(product: string, session: string, orderId: string): Promise<StoreOutcome>;
  /**
   * Ends a checkout that sold nothing: the hold stays, free to go or expire again.
   *
   * @param product The product's id.
   * @param session The shopper's session.
   * @param orderId The order tried.
   */
  endCheckout(product: string, session: string, orderId: string): Promise<void>;
  /**
   * Leaves a checkout in flight awaiting payment until a time: the hold neither expires nor goes
   * until it is settled. Durable before it answers.
   *
   * @param product The product's id.
   * @param session The shopper's session.
   * @param orderId The order being checked out.
   * @param payBy When the payment's time runs out, in ms since the epoch.
   * @returns True when the hold was that order's checkout in flight.
   */
  awaitPayment(product: string, session: string, orderId: string, payBy: number): Promise<boolean>;
  /**
   * Settles a payment awaited, atomically: of several processes asking, one does it.
   *
   * @param product The product's id.
   * @param session The shopper's session.
   * @param orderId The order.
   * @param how Paid (a sale), cancelled or expired (the unit goes back; expired only past `payBy`
   *   by the store's clock).
   * @returns What it did.
   */
  settlePayment(
    product: string,
    session: string,
    orderId: string,
    how: PaymentSettlement,
  ): Promise<PaymentEnd>;
  /**
   * Lists the checkouts in flight, as a start finds them after a stop.
   *
   * @returns Each one, with its order.
   */
  pendingCheckouts(): Promise<PendingCheckout[]>;
  /**
   * Registers a listener of committed changes.
   *
   * @param listener Called with the product's record after each change, in version order.
   * @returns A function that unregisters it.
   */
  onChange(listener: (record: ProductState) => void): () => void;
  /** Stops expiring holds, waits for operations in flight, and releases the engine. */
  close(): Promise<void>;
}
