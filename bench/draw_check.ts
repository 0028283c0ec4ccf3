/**
 * The draw recomputed from the published seed with `node:crypto`, apart from the server's own
 * code (lib/queue/draw.ts uses Web Crypto), the way a shopper's script would check it.
 */
import { Buffer } from "node:buffer";
import { createHash, createHmac } from "node:crypto";

/**
 * Checks a seed against the commitment published before the window opened.
 *
 * @param seed The revealed seed, 64 hex digits.
 * @param commitment The commitment, hex.
 * @returns Whether the commitment is the SHA-256 of the seed's 32 bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const seed = "00".repeat(32);
 * const commitment = "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925";
 * assert.equal(seedMatches(seed, commitment), true);
 * assert.equal(seedMatches("11".repeat(32), commitment), false);
 * ```
 */
export function seedMatches(seed: string, commitment: string): boolean {
  return createHash("sha256").update(Buffer.from(seed, "hex")).digest("hex") === commitment;
}

/**
 * Numbers tickets as the draw must: ascending hex HMAC-SHA256, keyed with the seed's 32 bytes,
 * over each ticket id's UTF-8 bytes.
 *
 * @param seed The revealed seed, 64 hex digits.
 * @param tickets The tickets taken during the window, in any order.
 * @returns The tickets, number 1 first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const order = drawnOrder("11".repeat(32), ["a", "b", "c"]);
 * assert.deepEqual([...order].sort(), ["a", "b", "c"]);
 * assert.deepEqual(drawnOrder("11".repeat(32), ["c", "b", "a"]), order);
 * ```
 */
export function drawnOrder(seed: string, tickets: readonly string[]): string[] {
  return tickets
    .map((ticket) => ({ ticket, mac: drawnMac(seed, ticket) }))
    .sort((a, b) => a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0)
    .map(({ ticket }) => ticket);
}

/**
 * What `/queue/draw` publishes of a ticket: the hex SHA-256 of its id.
 *
 * @param ticket The ticket's id.
 * @returns 64 hex digits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(
 *   publishedHash("abc"),
 *   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
 * );
 * ```
 */
export function publishedHash(ticket: string): string {
  return createHash("sha256").update(ticket).digest("hex");
}

/**
 * What the draw sorts a ticket by, and `/queue/draw` publishes as `macs`: the hex HMAC-SHA256 keyed
 * with the seed's 32 bytes over the ticket id's UTF-8 bytes.
 *
 * @param seed The revealed seed, 64 hex digits.
 * @param ticket The ticket's id.
 * @returns 64 hex digits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const seed = "11".repeat(32);
 * assert.match(drawnMac(seed, "a"), /^[0-9a-f]{64}$/);
 * assert.notEqual(drawnMac(seed, "a"), drawnMac("22".repeat(32), "a"));
 * ```
 */
export function drawnMac(seed: string, ticket: string): string {
  return createHmac("sha256", Buffer.from(seed, "hex")).update(ticket).digest("hex");
}
