/** A fleet's window tickets signed as they join, so that the draw at the opening only sorts. */
import { commitmentOf, macKey, ticketMac } from "../queue/draw.ts";

/** Reads what the signer needs from Redis. */
export interface WindowSource {
  /** The line's secret seed (hex), or "" when it has none. */
  seed(product: string): Promise<string>;
  /** The window's HMACs made at join: ticket id → HMAC hex. */
  storedMacs(product: string): Promise<Map<string, string>>;
}

/** A seed this process may sign with: the one whose commitment the line published. */
interface SigningKey {
  readonly commitment: string;
  /** Null when Redis holds another seed than the one published: nothing is signed then. */
  readonly key: Promise<CryptoKey | null>;
}

/**
 * Signs a drop's window tickets for the process they join through, with the line's seed (read
 * from Redis once per drop and checked against its commitment), and gives the draw every window
 * ticket's HMAC: the ones stored at join, and the rest (tickets that joined before this process
 * knew the seed) made at once.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { commitmentOf, ticketMacs } from "../queue/draw.ts";
 * const seed = "ab".repeat(32);
 * const stored = new Map<string, string>();
 * const signer = new WindowSigner({
 *   seed: () => Promise.resolve(seed),
 *   storedMacs: () => Promise.resolve(stored),
 * });
 * const commitment = await commitmentOf(seed);
 * const [mac, signedWith] = await signer.sign("print", commitment, "t1");
 * assert.equal(signedWith, commitment);
 * stored.set("t1", mac);
 * assert.deepEqual(await signer.sign("print", null, "t2"), ["", ""]); // no window yet
 * assert.deepEqual(await signer.macsOf("print", seed, ["t1", "t2"]), await ticketMacs(seed, ["t1", "t2"]));
 * ```
 */
export class WindowSigner {
  readonly #source: WindowSource;
  readonly #keys = new Map<string, SigningKey>();

  /**
   * Makes a signer that knows no seed yet.
   *
   * @param source Where the seeds and the stored HMACs are read.
   */
  constructor(source: WindowSource) {
    this.#source = source;
  }

  /**
   * Signs a new ticket with the seed of the line's published commitment.
   *
   * @param product The product's id.
   * @param commitment The commitment the line published; null before its window opened.
   * @param ticket The new ticket's id.
   * @returns Its HMAC and the commitment of the seed used; `["", ""]` when there is no seed to use
   *   (the draw signs that ticket itself).
   */
  async sign(
    product: string,
    commitment: string | null,
    ticket: string,
  ): Promise<[mac: string, commitment: string]> {
    if (commitment === null) return ["", ""];
    let known = this.#keys.get(product);
    if (known?.commitment !== commitment) {
      const made: SigningKey = { commitment, key: this.#keyOf(product, commitment) };
      this.#keys.set(product, made);
      // A failed read is tried again by the next join, not kept.
      made.key.catch(() => this.#keys.get(product) === made && this.#keys.delete(product));
      known = made;
    }
    let key: CryptoKey | null;
    try {
      key = await known.key;
    } catch {
      return ["", ""];
    }
    return key === null ? ["", ""] : [await ticketMac(key, ticket), commitment];
  }

  /**
   * Every window ticket's HMAC under the seed, in the window's order: the stored ones, the rest
   * made here.
   *
   * @param product The product's id.
   * @param seed The line's seed (hex).
   * @param window The window's ticket ids.
   * @returns Their HMACs, in the same order.
   * @throws {StoreUnavailableError} When Redis cannot be reached.
   */
  async macsOf(product: string, seed: string, window: readonly string[]): Promise<string[]> {
    const stored = await this.#source.storedMacs(product);
    const key = await macKey(seed);
    return Promise.all(window.map((ticket) => stored.get(ticket) ?? ticketMac(key, ticket)));
  }

  /** The signing key of the line's seed, or null when Redis holds another seed than published. */
  async #keyOf(product: string, commitment: string): Promise<CryptoKey | null> {
    const seed = await this.#source.seed(product);
    if (seed === "" || await commitmentOf(seed) !== commitment) return null;
    return macKey(seed);
  }
}
