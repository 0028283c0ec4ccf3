/** The draw anyone can check: a secret seed committed to before the queue opens, revealed at the draw. */

const encoder = new TextEncoder();

/** A seed's length in bytes. */
export const SEED_BYTES = 32;

/**
 * Writes bytes as lowercase hex.
 *
 * @param bytes The bytes.
 * @returns Two hex digits per byte.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(hexOf(new Uint8Array([0, 171, 255])), "00abff");
 * ```
 */
export function hexOf(bytes: ArrayBuffer | Uint8Array): string {
  return Array.from(new Uint8Array(bytes), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/**
 * Reads a seed written as 64 lowercase hex digits.
 *
 * @param seed The seed's hex.
 * @returns Its 32 bytes.
 * @throws {RangeError} When it is not 64 lowercase hex digits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(seedBytes("ab".repeat(32)).length, 32);
 * assert.throws(() => seedBytes("AB".repeat(32)), RangeError);
 * ```
 */
export function seedBytes(seed: string): Uint8Array<ArrayBuffer> {
  if (!/^[0-9a-f]{64}$/.test(seed)) {
    throw new RangeError(`A seed must be 64 lowercase hex digits, got "${seed}"`);
  }
  return Uint8Array.from(seed.match(/../g)!, (pair) => parseInt(pair, 16));
}

/**
 * Draws a new secret seed from the system's cryptographic random source.
 *
 * @returns 32 random bytes as 64 lowercase hex digits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.match(newSeed(), /^[0-9a-f]{64}$/);
 * assert.notEqual(newSeed(), newSeed());
 * ```
 */
export function newSeed(): string {
  return hexOf(crypto.getRandomValues(new Uint8Array(SEED_BYTES)));
}

/**
 * The SHA-256 of bytes, as hex.
 *
 * @param bytes The bytes.
 * @returns 64 lowercase hex digits.
 */
async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return hexOf(await crypto.subtle.digest("SHA-256", bytes));
}

/**
 * The commitment published before the queue opens: the SHA-256 of the seed's 32 bytes.
 *
 * @param seed The seed's hex.
 * @returns The commitment's hex.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const seed = "00".repeat(32);
 * assert.equal(
 *   await commitmentOf(seed),
 *   "66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925",
 * );
 * ```
 */
export function commitmentOf(seed: string): Promise<string> {
  return sha256Hex(seedBytes(seed));
}

/**
 * What the draw publishes of a ticket: the SHA-256 of its id's UTF-8 bytes, so that only its
 * session knows which number is whose.
 *
 * @param ticket The ticket's id.
 * @returns The hash's hex.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(
 *   await ticketHash("abc"),
 *   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
 * );
 * ```
 */
export function ticketHash(ticket: string): Promise<string> {
  return sha256Hex(encoder.encode(ticket));
}

/**
 * Orders the tickets of the draw: ascending by the hex HMAC-SHA256 keyed with the seed's bytes
 * over each ticket id's UTF-8 bytes. A pure function of the seed and the tickets.
 *
 * @param seed The seed's hex.
 * @param tickets The tickets taken before the draw, in any order.
 * @returns The same tickets, number 1 first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const seed = "11".repeat(32);
 * const order = await drawOrder(seed, ["a", "b", "c"]);
 * assert.deepEqual([...order].sort(), ["a", "b", "c"]);
 * assert.deepEqual(await drawOrder(seed, ["c", "a", "b"]), order);
 * ```
 */
export async function drawOrder(seed: string, tickets: readonly string[]): Promise<string[]> {
  return orderByMacs(tickets, await ticketMacs(seed, tickets));
}

/**
 * Orders tickets by their HMACs, ascending: the draw, once each ticket's HMAC is known.
 *
 * @param tickets Ticket ids.
 * @param macs Their HMACs' hex, in the same order.
 * @returns The tickets, number 1 first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(orderByMacs(["a", "b", "c"], ["c0", "a0", "b0"]), ["b", "c", "a"]);
 * ```
 */
export function orderByMacs(tickets: readonly string[], macs: readonly string[]): string[] {
  const keyed = tickets.map((ticket, i) => ({ ticket, mac: macs[i] }));
  keyed.sort((a, b) => a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0);
  return keyed.map(({ ticket }) => ticket);
}

/**
 * Each ticket's place in the draw: the hex HMAC-SHA256 keyed with the seed's bytes over the
 * ticket id's UTF-8 bytes. Published beside the tickets' hashes, they let a shopper check that
 * the order ascends and that their own ticket sits where its HMAC puts it.
 *
 * @param seed The seed's hex.
 * @param tickets Ticket ids.
 * @returns Their HMACs' hex, in the same order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const [mac] = await ticketMacs("00".repeat(32), ["abc"]);
 * assert.match(mac, /^[0-9a-f]{64}$/);
 * ```
 */
export async function ticketMacs(seed: string, tickets: readonly string[]): Promise<string[]> {
  const key = await macKey(seed);
  return Promise.all(tickets.map((ticket) => ticketMac(key, ticket)));
}

/**
 * The seed as an HMAC-SHA256 key, to sign one ticket at a time as it comes.
 *
 * @param seed The seed's hex.
 * @returns The key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const seed = "00".repeat(32);
 * const key = await macKey(seed);
 * assert.deepEqual([await ticketMac(key, "abc")], await ticketMacs(seed, ["abc"]));
 * ```
 */
export function macKey(seed: string): Promise<CryptoKey> {
  return crypto.subtle.importKey(
    "raw",
    seedBytes(seed),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
}

/**
 * One ticket's HMAC under a seed's key (see {@linkcode ticketMacs}).
 *
 * @param key The seed's key, from {@linkcode macKey}.
 * @param ticket The ticket's id.
 * @returns The HMAC's hex.
 */
export async function ticketMac(key: CryptoKey, ticket: string): Promise<string> {
  return hexOf(await crypto.subtle.sign("HMAC", key, encoder.encode(ticket)));
}
