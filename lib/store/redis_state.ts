/** Reads what the Redis library answers, publishes and stores: product states, replies, holds. */
import type { ProductState } from "../inventory/ledger.ts";
import { isAddRefusal, isRefusal, type Refusal } from "../inventory/refusal.ts";
import type { CheckoutStart } from "../inventory/rules.ts";
import type { HeldUnit, PendingCheckout } from "../inventory/store_port.ts";

/** A product as Redis holds it: its record, and when its first hold is due. */
export interface RedisProductState {
  /** The product's record. */
  readonly record: ProductState;
  /** When its first hold that may expire ends (ms, Redis's clock), or null when none may. */
  readonly nextDue: number | null;
}

/**
 * Parses a state the library wrote (JSON with the record's fields and `nextDue`).
 *
 * @param json The state.
 * @returns The record and the next due time.
 * @throws {SyntaxError} When the text is not JSON.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const info = {
 *   id: "tee",
 *   name: "Tee",
 *   description: "",
 *   image: null,
 *   price: { amount: "15.00", currency: "EUR" },
 * };
 * const state = parseProductState(JSON.stringify({
 *   info, total: 5, held: 1, sold: 0, version: 3, retired: false, listedTotal: null,
 *   nextDue: 1_800_000_000_000,
 * }));
 * assert.equal(state.record.version, 3);
 * assert.equal(state.nextDue, 1_800_000_000_000);
 * ```
 */
export function parseProductState(json: string): RedisProductState {
  const { nextDue, ...record } = JSON.parse(json) as ProductState & { nextDue: number | null };
  return { record, nextDue };
}

/** What a library function answers: its status, the product's state, and what else it tells. */
export type FunctionReply = [status: string, state?: string, ...extra: string[]];

/** A hold as the library stores it. */
export interface StoredHold {
  /** When it ends, in ms (while it is not checked out). */
  readonly expiresAt: number;
  /** When the session first took the unit, in ms. */
  readonly heldAt: number;
  /** Whether a checkout holds its lease (the lease may have run out). */
  readonly checkingOut: boolean;
  /** Its order, or `""` before its first checkout. */
  readonly orderId: string;
  /** The key of the client address that took it, or `""` for none. */
  readonly client: string;
  /** While it awaits payment, when the payment's time runs out in ms; else undefined. */
  readonly payBy?: number;
}

/**
 * Parses a hold as the library stores it: `expiresAt|heldAt|lease|orderId|client[|payBy]` (a
 * hold stored before holds were counted has no client; one not awaiting payment has no payBy).
 *
 * @param raw The stored text.
 * @returns The hold.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseStoredHold("1800000060000|1800000000000|0|"), {
 *   expiresAt: 1_800_000_060_000,
 *   heldAt: 1_800_000_000_000,
 *   checkingOut: false,
 *   orderId: "",
 *   client: "",
 * });
 * assert.equal(parseStoredHold("1|1|1800000008000|order-7").checkingOut, true);
 * assert.equal(parseStoredHold("1|1|0|order-7|10.0.0.1|1800000900000").payBy, 1_800_000_900_000);
 * ```
 */
export function parseStoredHold(raw: string): StoredHold {
  const [expiresAt, heldAt, lease, orderId = "", client = "", payBy] = raw.split("|");
  const hold = {
    expiresAt: Number(expiresAt),
    heldAt: Number(heldAt),
    checkingOut: lease !== "0",
    orderId,
    client,
  };
  return payBy === undefined || payBy === "" ? hold : { ...hold, payBy: Number(payBy) };
}

/**
 * Reads a hash reply (`HGETALL`) as entries, whichever shape the client gives: a flat array of
 * fields and values (RESP2) or an object (RESP3).
 *
 * @param reply The reply.
 * @returns Its field and value pairs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(hashEntries(["a", "1", "b", "2"]), [["a", "1"], ["b", "2"]]);
 * assert.deepEqual(hashEntries({ a: "1" }), [["a", "1"]]);
 * ```
 */
export function hashEntries(reply: unknown): [string, string][] {
  if (Array.isArray(reply)) {
    const entries: [string, string][] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) entries.push([reply[i], reply[i + 1]]);
    return entries;
  }
  return Object.entries(reply as Record<string, string>);
}

/**
 * Reads the kind of refusal a library function answered with.
 *
 * @param status The function's status.
 * @returns The refusal.
 * @throws {Error} For a status that is no refusal.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(refusalOf("sold out"), "sold out");
 * assert.throws(() => refusalOf("maybe"));
 * ```
 */
export function refusalOf(status: string): Refusal {
  if (!isRefusal(status)) throw unexpected(status);
  return status;
}

/**
 * Reads what `inventory_begin_checkout` answered.
 *
 * @param reply The reply: `call` with the order and when the unit was taken, `sold` with the
 *   order, `awaiting payment` with the order and its deadline, or a refusal.
 * @returns How the checkout may begin.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(checkoutStartOf(["call", "{}", "o1", "5"]), { kind: "call", orderId: "o1", heldAt: 5 });
 * assert.deepEqual(checkoutStartOf(["not in cart", "{}"]), { kind: "refused", reason: "not in cart" });
 * assert.deepEqual(checkoutStartOf(["awaiting payment", "{}", "o1", "9"]), { kind: "awaiting payment", orderId: "o1", payBy: 9 });
 * ```
 */
export function checkoutStartOf([status, , orderId, heldAt]: FunctionReply): CheckoutStart {
  if (status === "call") return { kind: "call", orderId: orderId!, heldAt: Number(heldAt) };
  // Its fourth part is then when the payment's time runs out.
  if (status === "awaiting payment") {
    return { kind: "awaiting payment", orderId: orderId!, payBy: Number(heldAt) };
  }
  if (status === "sold") return { kind: "sold", orderId: orderId! };
  const reason = refusalOf(status);
  if (reason === "order mismatch" || isAddRefusal(reason)) throw unexpected(status);
  return { kind: "refused", reason };
}

/**
 * Lists the units a session holds, from its stored hold in each product.
 *
 * @param ids The products.
 * @param raws The session's stored hold in each (`HGET`), null or undefined for none.
 * @param now The time, in ms since the epoch.
 * @returns Its units that are being checked out or have not expired.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(heldUnitsOf(["a", "b"], ["9|1|0|", null], 5), [{ product: "a", expiresAt: 9 }]);
 * ```
 */
export function heldUnitsOf(
  ids: readonly string[],
  raws: readonly unknown[],
  now: number,
): HeldUnit[] {
  const units: HeldUnit[] = [];
  raws.forEach((raw, i) => {
    if (typeof raw !== "string") return;
    const hold = parseStoredHold(raw);
    if (hold.checkingOut || hold.payBy !== undefined || hold.expiresAt > now) {
      // A hold awaiting payment lasts until the payment's time runs out.
      units.push({ product: ids[i], expiresAt: hold.payBy ?? hold.expiresAt });
    }
  });
  return units;
}

/**
 * Lists the checkouts in flight, from every product's stored holds.
 *
 * @param ids The products.
 * @param replies Each one's holds (`HGETALL`).
 * @returns Each checkout, with its order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(pendingCheckoutsOf(["a"], [["s1", "9|1|20|o1", "s2", "9|1|0|"]]), [
 *   { product: "a", session: "s1", orderId: "o1", heldAt: 1 },
 * ]);
 * ```
 */
export function pendingCheckoutsOf(
  ids: readonly string[],
  replies: readonly unknown[],
): PendingCheckout[] {
  const pending: PendingCheckout[] = [];
  replies.forEach((reply, i) => {
    for (const [session, raw] of hashEntries(reply)) {
      const hold = parseStoredHold(raw);
      if (!hold.checkingOut) continue;
      pending.push({ product: ids[i], session, orderId: hold.orderId, heldAt: hold.heldAt });
    }
  });
  return pending;
}

function unexpected(status: string): Error {
  return new Error(`The Redis library answered an unknown status: ${JSON.stringify(status)}`);
}
