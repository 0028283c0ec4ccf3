/** The store that keeps nothing: every product in this process's memory, for demos and tests. */
import { LocalStore, type LocalStoreOptions } from "./local_store.ts";

/**
 * Opens an empty store in memory, with a new epoch.
 *
 * @param options Hold lifetime and clock.
 * @returns The store.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemClock } from "../time/clock.ts";
 * import { UNCOUNTED_CLIENT } from "../inventory/store_port.ts";
 * const store = openMemoryStore({ holdTtlMs: 60_000, clock: systemClock });
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * await store.list({ info, total: 2 });
 * const outcome = await store.take("a", crypto.randomUUID(), UNCOUNTED_CLIENT);
 * assert.equal(outcome.ok && outcome.record.held, 1);
 * await store.close();
 * ```
 */
export function openMemoryStore(options: LocalStoreOptions): LocalStore {
  return new LocalStore("memory", newEpoch(), [], options);
}

/**
 * Makes a new epoch: eight random hex digits.
 *
 * @returns The epoch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.match(newEpoch(), /^[0-9a-f]{8}$/);
 * ```
 */
export function newEpoch(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}
