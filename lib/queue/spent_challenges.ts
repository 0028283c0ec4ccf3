/** Join challenges already solved once: the port that refuses a replay, and its memory here. */
import type { Clock } from "../time/clock.ts";

/** Remembers each solved join challenge until it expires, so its solution serves only once. */
export interface SpentChallenges {
  /**
   * Spends a challenge: marks it solved unless it already was.
   *
   * @param challenge The challenge's id (its hex `challenge` hash, unique per salt).
   * @param expiresAt When the challenge expires, in ms since the epoch: after it, the challenge is
   *   refused as expired anyway and need not be remembered.
   * @returns True the first time, false for a challenge already spent (a replay).
   */
  spend(challenge: string, expiresAt: number): boolean | Promise<boolean>;
}

/**
 * The challenges spent in this process, each until it expires, at most `maxSpent` at once.
 *
 * The map is kept in the order of spending. Every challenge lives no longer than the challenges'
 * time to live, so once the front's expiry has passed it is dropped at the next spend (paid for by
 * that spend), and everything spent longer ago than that time to live is gone. Past `maxSpent`
 * the oldest is forgotten even though it has not expired: memory stays bounded, and replaying a
 * forgotten solution needs `maxSpent` fresh solutions first, which cost more than solving anew.
 * Refusing every join instead would let whoever fills the memory lock every shopper out.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * let now = 0;
 * const spent = new MemorySpentChallenges(2, { now: () => now });
 * assert.equal(spent.spend("a", 1000), true);
 * assert.equal(spent.spend("a", 1000), false);
 * assert.equal(spent.spend("b", 2000), true);
 * assert.equal(spent.spend("c", 3000), true); // past 2: "a" is forgotten
 * assert.equal(spent.size, 2);
 * now = 2000; // "b" expired: dropped at the next spend
 * assert.equal(spent.spend("d", 4000), true);
 * assert.equal(spent.size, 2);
 * ```
 */
export class MemorySpentChallenges implements SpentChallenges {
  readonly #maxSpent: number;
  readonly #clock: Pick<Clock, "now">;
  /** Challenge → when it expires, in the order spent. */
  readonly #expiries = new Map<string, number>();

  /**
   * Makes a memory with no challenge spent yet.
   *
   * @param maxSpent The most challenges remembered at once, 1 or more.
   * @param clock The time source.
   * @throws {RangeError} When `maxSpent` is not a positive integer.
   */
  constructor(maxSpent: number, clock: Pick<Clock, "now">) {
    if (!Number.isSafeInteger(maxSpent) || maxSpent < 1) {
      throw new RangeError(`Spent challenges remembered must be a positive integer: ${maxSpent}`);
    }
    this.#maxSpent = maxSpent;
    this.#clock = clock;
  }

  /** Challenges remembered now: for the bound's tests and a gauge. */
  get size(): number {
    return this.#expiries.size;
  }

  /**
   * Spends a challenge, first forgetting the expired ones at the front.
   *
   * @param challenge The challenge's id.
   * @param expiresAt When it expires, in ms since the epoch.
   * @returns True the first time, false for a challenge already spent.
   */
  spend(challenge: string, expiresAt: number): boolean {
    this.#forgetExpired();
    if (this.#expiries.has(challenge)) return false;
    if (this.#expiries.size >= this.#maxSpent) {
      this.#expiries.delete(this.#expiries.keys().next().value!);
    }
    this.#expiries.set(challenge, expiresAt);
    return true;
  }

  #forgetExpired(): void {
    const now = this.#clock.now();
    // Bounded by the map's size; stops at the first challenge still alive.
    for (const [challenge, expiresAt] of this.#expiries) {
      if (expiresAt > now) return;
      this.#expiries.delete(challenge);
    }
  }
}
