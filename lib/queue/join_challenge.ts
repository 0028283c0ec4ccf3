/** The proof of work a shopper's page solves before joining a drop's queue (ALTCHA, v1 scheme). */
import { createChallenge, extractParams, verifySolution } from "altcha-lib/v1";
import type { Clock } from "../time/clock.ts";
import { hexOf } from "./draw.ts";
import { MemorySpentChallenges, type SpentChallenges } from "./spent_challenges.ts";

/**
 * The one hash the challenges use. altcha-lib takes the algorithm from the posted payload, so a
 * payload naming another is refused before it reaches the library.
 */
const ALGORITHM = "SHA-256";

/** How long a challenge may be solved and posted by default: 10 minutes. */
export const DEFAULT_CHALLENGE_TTL_MS = 10 * 60_000;

/** Solved challenges remembered at once by default, to refuse their replay. */
export const DEFAULT_MAX_SPENT = 100_000;

/** A payload is a few hundred characters; anything much longer is not one, and is not decoded. */
const MAX_PAYLOAD_CHARS = 1024;

/** The most a difficulty may be: altcha-lib draws the secret number from 32 random bits. */
const MAX_DIFFICULTY = 2 ** 32 - 1;

/**
 * A challenge as `GET /queue/challenge` answers it, in the ALTCHA widget's format: find the number
 * `n` from 0 to `maxnumber` whose SHA-256 of `salt + n` (as decimal text), in hex, is `challenge`.
 */
export interface JoinChallengeJson {
  /** Always `"SHA-256"`. */
  readonly algorithm: string;
  /** The hex SHA-256 to find. */
  readonly challenge: string;
  /** The highest number the page need try: the difficulty. */
  readonly maxnumber: number;
  /** Random hex with the expiry after it (`…?expires=<seconds since the epoch>&`). */
  readonly salt: string;
  /** The server's hex HMAC-SHA256 of `challenge`: proves the server made it. */
  readonly signature: string;
}

/** How hard the challenges are, how long they live, and the key that signs them. */
export interface JoinChallengeOptions {
  /**
   * The difficulty N of `--queue-challenge N`: the challenge's `maxnumber`. The secret number is
   * drawn from 1 to N, so a page tries N / 2 hashes on average and N + 1 at most.
   */
  readonly difficulty: number;
  /**
   * The HMAC key that signs the challenges; a random one for this process when not given. Every
   * process of a fleet needs the same key to check the others' challenges.
   */
  readonly hmacKey?: string;
  /** How long a challenge may be solved and posted, in ms ({@linkcode DEFAULT_CHALLENGE_TTL_MS}). */
  readonly ttlMs?: number;
  /**
   * Where solved challenges are remembered; by default this process's memory, holding at most
   * {@linkcode DEFAULT_MAX_SPENT}. A fleet needs one shared by every process.
   */
  readonly spent?: SpentChallenges;
}

/** A posted solution, checked for shape. */
interface Solution {
  readonly algorithm: typeof ALGORITHM;
  readonly challenge: string;
  readonly number: number;
  readonly salt: string;
  readonly signature: string;
}

/**
 * Makes and checks the proof-of-work challenges for joining a queue, with `altcha-lib`'s v1
 * scheme (SHA-256 of salt and number, the challenge signed with HMAC-SHA256), the one the ALTCHA
 * widget and `static/altcha_solver.js` solve.
 *
 * A solution is accepted once, before its challenge expires: {@linkcode JoinChallenge.verify}
 * refuses a payload that is malformed, wrong, signed with another key, expired or already used.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { solveChallenge } from "altcha-lib/v1";
 * import { systemClock } from "../time/clock.ts";
 * const joinChallenge = new JoinChallenge({ difficulty: 1000 }, systemClock);
 * const challenge = await joinChallenge.challenge();
 * assert.equal(challenge.maxnumber, 1000);
 * const solved = await solveChallenge(challenge.challenge, challenge.salt).promise;
 * const payload = btoa(JSON.stringify({ ...challenge, number: solved!.number }));
 * assert.equal(await joinChallenge.verify(payload), true);
 * assert.equal(await joinChallenge.verify(payload), false); // a replay
 * assert.equal(await joinChallenge.verify("not a payload"), false);
 * ```
 */
export class JoinChallenge {
  /** The difficulty: each challenge's `maxnumber`. */
  readonly difficulty: number;
  readonly #hmacKey: string;
  readonly #ttlMs: number;
  readonly #spent: SpentChallenges;
  readonly #clock: Pick<Clock, "now">;

  /**
   * Sets up the challenges; makes none yet.
   *
   * @param options The difficulty, and optionally the key, time to live and spent memory.
   * @param clock The time source for the challenges' expiry.
   * @throws {RangeError} When the difficulty is not an integer from 1 to 2³² − 1, the time to
   *   live is not a positive number of ms, or the key is empty.
   */
  constructor(options: JoinChallengeOptions, clock: Pick<Clock, "now">) {
    const { difficulty, ttlMs = DEFAULT_CHALLENGE_TTL_MS } = options;
    if (!Number.isSafeInteger(difficulty) || difficulty < 1 || difficulty > MAX_DIFFICULTY) {
      throw new RangeError(
        `Join challenge difficulty must be an integer from 1 to ${MAX_DIFFICULTY}: ${difficulty}`,
      );
    }
    if (!Number.isFinite(ttlMs) || ttlMs < 1000) {
      throw new RangeError(`Join challenge time to live must be 1000 ms or more: ${ttlMs}`);
    }
    if (options.hmacKey === "") throw new RangeError("Join challenge HMAC key must not be empty");
    this.difficulty = difficulty;
    this.#hmacKey = options.hmacKey ?? newChallengeKey();
    this.#ttlMs = ttlMs;
    this.#clock = clock;
    this.#spent = options.spent ?? new MemorySpentChallenges(DEFAULT_MAX_SPENT, clock);
  }

  /**
   * Makes a new challenge, signed and expiring `ttlMs` from now (to the second, rounded down).
   *
   * @returns The challenge, as `GET /queue/challenge` answers it.
   */
  async challenge(): Promise<JoinChallengeJson> {
    const { algorithm, challenge, maxnumber, salt, signature } = await createChallenge({
      algorithm: ALGORITHM,
      hmacKey: this.#hmacKey,
      maxnumber: this.difficulty,
      expires: new Date(this.#clock.now() + this.#ttlMs),
    });
    return { algorithm, challenge, maxnumber: maxnumber ?? this.difficulty, salt, signature };
  }

  /**
   * Checks a solution as the ALTCHA widget posts it, and spends it.
   *
   * @param payload The `altcha` field: base64 of the JSON of the challenge's `algorithm`,
   *   `challenge`, `salt` and `signature` with the `number` found (other fields are ignored).
   *   Anything else, a missing field included, is refused.
   * @returns True for a right solution of an unexpired challenge of ours, the first time only.
   */
  async verify(payload: unknown): Promise<boolean> {
    const solution = parseSolution(payload);
    if (solution === null) return false;
    const expiresAt = expiryOf(solution);
    if (expiresAt === null || expiresAt <= this.#clock.now()) return false;
    // altcha-lib would compare `expires` with Date.now(); it was compared with our clock above.
    if (!await verifySolution(solution, this.#hmacKey, false)) return false;
    // Spent only once proven right, so that no forged payload can spend a shopper's challenge.
    return await this.#spent.spend(solution.challenge, expiresAt);
  }
}

/**
 * A random 256-bit HMAC key for the challenges, as hex: a process's own when none is given, or the
 * one a fleet's first process offers to share.
 *
 * @returns 64 lowercase hex digits.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.match(newChallengeKey(), /^[0-9a-f]{64}$/);
 * assert.notEqual(newChallengeKey(), newChallengeKey());
 * ```
 */
export function newChallengeKey(): string {
  return hexOf(crypto.getRandomValues(new Uint8Array(32)));
}

/** Decodes a posted payload, or null when it is not base64 of a JSON solution of our form. */
function parseSolution(payload: unknown): Solution | null {
  if (typeof payload !== "string" || payload.length > MAX_PAYLOAD_CHARS) return null;
  let value: unknown;
  try {
    value = JSON.parse(atob(payload));
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null) return null;
  const { algorithm, challenge, number, salt, signature } = value as Record<string, unknown>;
  if (
    algorithm !== ALGORITHM || typeof challenge !== "string" || typeof salt !== "string" ||
    typeof signature !== "string" || typeof number !== "number" ||
    !Number.isSafeInteger(number) || number < 0
  ) {
    return null;
  }
  return { algorithm, challenge, number, salt, signature };
}

/** When a challenge expires, in ms since the epoch, from the `expires` its salt carries. */
function expiryOf(solution: Solution): number | null {
  const { expires } = extractParams(solution);
  return expires !== undefined && /^\d{1,12}$/.test(expires) ? Number(expires) * 1000 : null;
}
