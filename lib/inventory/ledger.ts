/** A product's state, its one list of stored fields, and its stock as the rules change it. */
import type { ProductInfo } from "./product.ts";

/**
 * Every field a store keeps for a product besides its holds and sales, with its kind: the one
 * list that the product's state, its copies, the Deno KV check and the Redis library's encoding
 * all follow. A field added here is stored, copied, checked and published by every store.
 *
 * - `info`: what the product is.
 * - `total`: units in stock, held or not (sales have left it).
 * - `sold`: units sold so far.
 * - `version`: rises by one on every change a page can see.
 * - `retired`: a retired product is no longer sold; its page answers 410.
 * - `listedTotal`: the total the catalog file gave when it was last applied; null when it never did.
 * - `listed`: what the catalog file gave at the last start that listed the product (its data and
 *   its place in the file), so that the next start changes only the fields the file changed; null
 *   (or missing, in a state written before it existed) when the file never listed it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(STORED_FIELDS.total, "count");
 * ```
 */
export const STORED_FIELDS = {
  info: "info",
  total: "count",
  sold: "count",
  version: "count",
  retired: "flag",
  listedTotal: "optional count",
  listed: "optional listing",
} as const;

/** A product as the catalog file last listed it. */
export interface Listed {
  /** Its data in the file (an image as the loader serves it). */
  readonly info: ProductInfo;
  /** Its place in the file: 0 for the first product. */
  readonly place: number;
}

/** What a stored field holds: a product's info, a whole number, a yes or no, or a number or null. */
export interface FieldValues {
  /** What the product is. */
  info: ProductInfo;
  /** A whole number from 0. */
  count: number;
  /** Yes or no. */
  flag: boolean;
  /** A whole number from 0, or null for none. */
  "optional count": number | null;
  /** What the catalog file gave, or null for nothing. */
  "optional listing": Listed | null;
}

/** A stored field's name. */
export type StoredField = keyof typeof STORED_FIELDS;

/** A stored field that a state written before it existed lacks; it reads as null. */
export type OptionalStoredField = "listed";

/** A product's state as a store keeps it: every field of {@linkcode STORED_FIELDS}. */
export type StoredState =
  & {
    readonly [K in Exclude<StoredField, OptionalStoredField>]: FieldValues[
      (typeof STORED_FIELDS)[K]
    ];
  }
  & {
    readonly [K in OptionalStoredField]?: FieldValues[(typeof STORED_FIELDS)[K]];
  };

/** A product's state at one version: what every store answers after an operation. */
export interface ProductState extends StoredState {
  /** Units held by shoppers now (the count of its holds). */
  readonly held: number;
}

/**
 * Units still free to add.
 *
 * @param state A product's state.
 * @returns `total - held`, never below zero (a restock may fall below what is held).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * const state = { info, total: 3, held: 5, sold: 0, version: 1, retired: false, listedTotal: null };
 * assert.equal(inventoryCountOf(state), 0);
 * ```
 */
export function inventoryCountOf(state: ProductState): number {
  return Math.max(0, state.total - state.held);
}

/** One unit a session holds. */
export interface Hold {
  /** When it ends, in ms since the epoch, unless a checkout is in flight. */
  readonly expiresAt: number;
  /** When the session first took it. */
  readonly heldAt: number;
  /** The order this hold is (being) checked out as: the same for every try; null before any. */
  readonly orderId: string | null;
  /** A checkout is in flight (or was, when the server stopped): the hold neither expires nor goes. */
  readonly checkingOut: boolean;
  /**
   * The key of the client address that took it, counted against `--max-holds-per-client` until
   * the hold ends; absent from holds taken before holds were counted, which count for none.
   */
  readonly client?: string;
  /**
   * The order service sent the shopper to pay: until then (ms since the epoch) the hold awaits
   * payment and neither expires nor goes; absent from holds not awaiting payment.
   */
  readonly payBy?: number;
}

/** What one session bought of a product. */
export interface Sale {
  /** The order of its latest unit: a checkout of that order asked again is answered with it. */
  readonly orderId: string;
  /** How many units it bought in all, checked against the product's limit per shopper. */
  readonly count: number;
}

/**
 * When a hold stops counting against the stock: never while a checkout is in flight or its
 * payment awaited (a payment's deadline is kept by the checkouts, which tell the order service).
 *
 * @param hold The hold.
 * @returns Its expiry, or Infinity while it is being checked out.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(endOf({ expiresAt: 5, heldAt: 0, orderId: null, checkingOut: false }), 5);
 * assert.equal(endOf({ expiresAt: 5, heldAt: 0, orderId: "o", checkingOut: true }), Infinity);
 * assert.equal(endOf({ expiresAt: 5, heldAt: 0, orderId: "o", checkingOut: false, payBy: 9 }), Infinity);
 * ```
 */
export function endOf(hold: Hold): number {
  return hold.checkingOut || hold.payBy !== undefined ? Infinity : hold.expiresAt;
}

/** A product's stored fields, each one writable: what the rules change. */
export type WritableState = { -readonly [K in keyof StoredState]: StoredState[K] };

/** A product's stock as the rules decide on it: its state, its holds and its sales, changed in place. */
export interface Stock extends WritableState {
  /** Units held now. */
  readonly held: number;
  /**
   * The hold of a session.
   *
   * @param session The session id.
   * @returns Its hold, or undefined when it holds nothing.
   */
  holdOf(session: string): Hold | undefined;
  /**
   * Creates or changes a hold.
   *
   * @param session The session id.
   * @param hold The hold.
   */
  hold(session: string, hold: Hold): void;
  /**
   * What a session bought of this product.
   *
   * @param session The session id.
   * @returns Its latest order and how many units it bought, or undefined when it bought none.
   */
  saleOf(session: string): Sale | undefined;
  /**
   * Records a sale of one more unit to a session.
   *
   * @param session The session id.
   * @param orderId The order's id.
   */
  recordSale(session: string, orderId: string): void;
  /**
   * Ends a hold, if there is one.
   *
   * @param session The session id.
   */
  release(session: string): void;
  /**
   * Lists the holds due by a time.
   *
   * @param now The time.
   * @param limit The most to list.
   * @returns Their sessions.
   */
  due(now: number, limit: number): string[];
  /** Every session holding a unit, with its hold. */
  holds(): Iterable<[string, Hold]>;
}

/**
 * Copies every stored field from one state to another.
 *
 * @param to Where the fields go.
 * @param from Where they come from.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * const to = { info, total: 0, sold: 0, version: 0, retired: false, listedTotal: null };
 * copyStoredFields(to, { ...to, total: 4, version: 2 });
 * assert.deepEqual([to.total, to.version], [4, 2]);
 * ```
 */
export function copyStoredFields(to: WritableState, from: StoredState): void {
  for (const field of STORED_FIELD_NAMES) copyField(to, from, field);
}

/**
 * A product's stored fields as they are now.
 *
 * @param from A state or a stock.
 * @returns A copy of its stored fields alone.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * const state = { info, total: 3, held: 1, sold: 0, version: 2, retired: false, listedTotal: null };
 * assert.equal("held" in storedStateOf(state), false);
 * assert.equal(storedStateOf(state).version, 2);
 * ```
 */
export function storedStateOf(from: StoredState): StoredState {
  const state = {} as WritableState;
  copyStoredFields(state, from);
  return state;
}

/**
 * Tells whether two states differ in a stored field.
 *
 * @param a One state.
 * @param b Another.
 * @returns True when a field differs (`info` by identity).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * const state = { info, total: 3, sold: 0, version: 2, retired: false, listedTotal: null };
 * assert.equal(storedFieldsDiffer(state, { ...state }), false);
 * assert.equal(storedFieldsDiffer(state, { ...state, total: 4 }), true);
 * ```
 */
export function storedFieldsDiffer(a: StoredState, b: StoredState): boolean {
  return STORED_FIELD_NAMES.some((field) => (a[field] ?? null) !== (b[field] ?? null));
}

/**
 * The state of a stock as it is now.
 *
 * @param stock The stock.
 * @returns A copy of its public state.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalStock } from "../store/local_stock.ts";
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * const stock = LocalStock.of(info, 3);
 * stock.hold("s1", { expiresAt: 100, heldAt: 0, orderId: null, checkingOut: false });
 * assert.deepEqual(stateOf(stock), {
 *   info, total: 3, sold: 0, version: 0, retired: false, listedTotal: null, listed: null, held: 1,
 * });
 * ```
 */
export function stateOf(stock: Stock): ProductState {
  const state = storedStateOf(stock) as ProductState & { held: number };
  state.held = stock.held;
  return state;
}

/**
 * The stored fields of a product new to the store: nothing in stock or sold, at version 0, on
 * sale, never from a catalog file (each field's kind says its first value).
 *
 * @param info What the product is.
 * @returns Its fields.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * assert.deepEqual(newStoredState(info), {
 *   info, total: 0, sold: 0, version: 0, retired: false, listedTotal: null, listed: null,
 * });
 * ```
 */
export function newStoredState(info: ProductInfo): StoredState {
  const state: Record<string, unknown> = {};
  for (const field of STORED_FIELD_NAMES) {
    const kind = STORED_FIELDS[field];
    state[field] = kind === "info" ? info : FIRST_VALUES[kind];
  }
  return state as StoredState;
}

/**
 * The names of {@linkcode STORED_FIELDS}, in order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(STORED_FIELD_NAMES[0], "info");
 * ```
 */
export const STORED_FIELD_NAMES = Object.keys(STORED_FIELDS) as readonly StoredField[];

const FIRST_VALUES: { readonly [K in Exclude<keyof FieldValues, "info">]: FieldValues[K] } = {
  count: 0,
  flag: false,
  "optional count": null,
  "optional listing": null,
};

function copyField(to: WritableState, from: StoredState, field: StoredField): void {
  // A state written before an optional field existed lacks it: its copy says null.
  (to as Record<StoredField, unknown>)[field] = from[field] ?? null;
}
