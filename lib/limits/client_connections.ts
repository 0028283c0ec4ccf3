/** Long polls, event streams and WebSockets held at once per client, in this process. */

/**
 * The count of connections each client holds, with a cap. A client's entry goes when its last
 * connection ends, so the map holds only clients with a connection open: its size is bounded by
 * the server's own connection limit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const connections = new ClientConnections(1);
 * const release = connections.take("192.0.2.1");
 * assert.ok(release !== undefined);
 * assert.equal(connections.take("192.0.2.1"), undefined);
 * assert.ok(connections.take("192.0.2.2") !== undefined);
 * release();
 * release();
 * const again = connections.take("192.0.2.1");
 * assert.ok(again !== undefined, "a release frees the place");
 * assert.equal(connections.take("192.0.2.1"), undefined, "a second release freed none");
 * ```
 */
export class ClientConnections {
  readonly #max: number;
  readonly #held = new Map<string, number>();

  /**
   * Makes a cap that counts nothing yet.
   *
   * @param max The most connections one client holds at once.
   */
  constructor(max: number) {
    this.#max = max;
  }

  /**
   * Takes a place for one connection of a client.
   *
   * @param client The client's key.
   * @returns A release to call when the connection ends (a second call does nothing), or
   * undefined when the client already holds the most it may.
   */
  take(client: string): (() => void) | undefined {
    const held = this.#held.get(client) ?? 0;
    if (held >= this.#max) return undefined;
    this.#held.set(client, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.#held.get(client)! - 1;
      if (left === 0) this.#held.delete(client);
      else this.#held.set(client, left);
    };
  }
}
