/** The holds of each client address over every product of a local store: the index the per-address limit counts on. */
import type { ClientHeld } from "../inventory/rules.ts";

/**
 * Client key → its holds (product and session) and when each ends. Local stores keep it beside
 * their stocks, fed by every hold they take, change or end, and rebuilt from the stored holds
 * when a store opens, so that counting one address's holds costs its own holds, not the catalog's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const clients = new ClientHolds();
 * clients.set("203.0.113.9", "poster", "s1", 1_000);
 * clients.set("203.0.113.9", "pin", "s1", 2_000);
 * assert.deepEqual(clients.heldBy("203.0.113.9", 0), { count: 2, firstEnd: 1_000 });
 * assert.deepEqual(clients.heldBy("203.0.113.9", 1_000), { count: 1, firstEnd: 2_000 });
 * clients.delete("203.0.113.9", "pin", "s1");
 * assert.deepEqual(clients.heldBy("203.0.113.9", 1_000), { count: 0, firstEnd: Infinity });
 * ```
 */
export class ClientHolds {
  readonly #byClient = new Map<string, Map<string, number>>();

  /**
   * Notes a hold of a client, or its new end.
   *
   * @param client The client's key.
   * @param product The product's id.
   * @param session The session holding it.
   * @param end When the hold ends, in ms since the epoch; Infinity while it is checked out.
   */
  set(client: string, product: string, session: string, end: number): void {
    let holds = this.#byClient.get(client);
    if (holds === undefined) {
      holds = new Map();
      this.#byClient.set(client, holds);
    }
    holds.set(holdKey(product, session), end);
  }

  /**
   * Forgets a hold of a client.
   *
   * @param client The client's key.
   * @param product The product's id.
   * @param session The session that held it.
   */
  delete(client: string, product: string, session: string): void {
    const holds = this.#byClient.get(client);
    if (holds === undefined) return;
    holds.delete(holdKey(product, session));
    if (holds.size === 0) this.#byClient.delete(client);
  }

  /**
   * Counts a client's holds that have not ended.
   *
   * @param client The client's key.
   * @param now The time, in ms since the epoch: a hold due by then but not yet ended does not count.
   * @returns How many, and when the first ends.
   */
  heldBy(client: string, now: number): ClientHeld {
    let count = 0;
    let firstEnd = Infinity;
    for (const end of this.#byClient.get(client)?.values() ?? []) {
      if (end <= now) continue;
      count++;
      firstEnd = Math.min(firstEnd, end);
    }
    return { count, firstEnd };
  }
}

function holdKey(product: string, session: string): string {
  return `${product}\n${session}`;
}
