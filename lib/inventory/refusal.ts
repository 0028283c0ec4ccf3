/** Why an operation on a product was refused: one closed set of kinds for the rules, every store, the answers and the metrics. */

/**
 * Every kind of refusal. Nothing changed when an operation is refused. The words are the ones the
 * shop's protocol uses; lib/http maps each kind once to its status, message and metric label, and
 * the Redis library answers with the same words.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.ok(REFUSALS.includes("sold out"));
 * ```
 */
export const REFUSALS = [
  /** No unit is free to add. */
  "sold out",
  /** The product is no longer sold. */
  "retired",
  /** No product has this id. */
  "unknown product",
  /** A checkout found no hold (nor sale) of the session. */
  "not in cart",
  /** The hold is being checked out: it cannot go, nor be checked out again meanwhile. */
  "checkout in progress",
  /** A sale was recorded for an order that is not the hold's (the hold is gone or changed). */
  "order mismatch",
  /** The session bought as many units of the product as one shopper may (its `limitPerShopper`). */
  "limit per shopper",
  /** The client's address holds as many units at once as `--max-holds-per-client` allows. */
  "too many holds",
  /** The product's drop has not opened: its `opensAt` is still to come. */
  "not open yet",
  /** The drop is open, but the session's number has not been admitted (or its admission ended). */
  "not your turn",
] as const;

/** One kind of refusal. */
export type Refusal = (typeof REFUSALS)[number];

/**
 * The refusals only an add meets: a checkout takes no new unit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.ok(ADD_REFUSALS.includes("limit per shopper"));
 * ```
 */
export const ADD_REFUSALS = [
  "sold out",
  "limit per shopper",
  "too many holds",
  "not open yet",
  "not your turn",
] as const satisfies readonly Refusal[];

/**
 * Tells whether a refusal is one only an add meets.
 *
 * @param kind A kind of refusal.
 * @returns True for one of {@linkcode ADD_REFUSALS}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(isAddRefusal("too many holds"), true);
 * assert.equal(isAddRefusal("not in cart"), false);
 * ```
 */
export function isAddRefusal(kind: Refusal): kind is (typeof ADD_REFUSALS)[number] {
  return (ADD_REFUSALS as readonly Refusal[]).includes(kind);
}

/** The refusals a checkout can end in (a checkout never finds a product sold out). */
export type CheckoutRefusal = Exclude<Refusal, (typeof ADD_REFUSALS)[number]>;

/**
 * Tells whether a text is a kind of refusal: for an engine that answers in words, such as Redis.
 *
 * @param text The text.
 * @returns True when it is one of {@linkcode REFUSALS}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(isRefusal("sold out"), true);
 * assert.equal(isRefusal("ok"), false);
 * ```
 */
export function isRefusal(text: string): text is Refusal {
  return (REFUSALS as readonly string[]).includes(text);
}
