/** Reads the product state the Redis library answers and publishes. */
import type { ProductRecord } from "../inventory/ledger.ts";

/** A product as Redis holds it: its record, and when its first hold is due. */
export interface RedisProductState {
  /** The product's record. */
  readonly record: ProductRecord;
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
  const { nextDue, ...record } = JSON.parse(json) as ProductRecord & { nextDue: number | null };
  return { record, nextDue };
}
