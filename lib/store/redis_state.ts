/** Reads what the Redis library answers, publishes and stores: product states, replies, holds. */
import type { ProductState } from "../inventory/ledger.ts";

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
}

/**
 * Parses a hold as the library stores it: `expiresAt|heldAt|lease|orderId`.
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
 * });
 * assert.equal(parseStoredHold("1|1|1800000008000|order-7").checkingOut, true);
 * ```
 */
export function parseStoredHold(raw: string): StoredHold {
  const [expiresAt, heldAt, lease, ...order] = raw.split("|");
  return {
    expiresAt: Number(expiresAt),
    heldAt: Number(heldAt),
    checkingOut: lease !== "0",
    orderId: order.join("|"),
  };
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
