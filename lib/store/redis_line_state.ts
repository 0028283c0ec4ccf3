/** A drop's line as the library's functions answer and publish it: what every process shows of it. */

/** What a process knows of a drop's line in Redis. */
export interface LineState {
  /** The product's id. */
  readonly product: string;
  /** Rises by one on every change a page sees. */
  readonly version: number;
  /** The draw's commitment (hex), from the window's opening. */
  readonly commitment: string | null;
  /** The seed (hex), once drawn. */
  readonly seed: string | null;
  /** Whether the window closed: a ticket now is numbered on arrival. */
  readonly closed: boolean;
  /** Whether the draw numbered the window's tickets. */
  readonly drawn: boolean;
  /** The highest number admitted so far. */
  readonly servingUpTo: number;
  /** Tickets not yet admitted. */
  readonly queued: number;
  /** Numbers given so far. */
  readonly count: number;
  /** The owner's admit rate, or null for the server's. */
  readonly admitRate: number | null;
  /** Whether the owner paused admissions. */
  readonly paused: boolean;
  /** When the line should be looked at again though nothing else changes (ms), or null. */
  readonly nextWake: number | null;
}

/**
 * A line no function has written yet: what a process shows before it read the line.
 *
 * @param product The product's id.
 * @returns The state of a line with no ticket, commitment or draw.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual([emptyLine("a").version, emptyLine("a").drawn], [0, false]);
 * ```
 */
export function emptyLine(product: string): LineState {
  return {
    product,
    version: 0,
    commitment: null,
    seed: null,
    closed: false,
    drawn: false,
    servingUpTo: 0,
    queued: 0,
    count: 0,
    admitRate: null,
    paused: false,
    nextWake: null,
  };
}

/**
 * Reads a line's state from the library's JSON.
 *
 * @param json The state, as a function answered or published it.
 * @returns The state.
 * @throws {TypeError} When it is not such a state.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const state = parseLineState(
 *   '{"product":"a","version":3,"commitment":"ab","seed":null,"closed":false,"drawn":false,' +
 *     '"servingUpTo":0,"queued":2,"count":0,"admitRate":null,"paused":false,"nextWake":null}',
 * );
 * assert.equal(state.queued, 2);
 * assert.throws(() => parseLineState('{"product":"a"}'), TypeError);
 * ```
 */
export function parseLineState(json: string): LineState {
  const value = JSON.parse(json);
  const counts = [value?.version, value?.servingUpTo, value?.queued, value?.count];
  const ok = typeof value?.product === "string" &&
    counts.every((n) => Number.isSafeInteger(n) && n >= 0) &&
    (value.commitment === null || typeof value.commitment === "string") &&
    (value.seed === null || typeof value.seed === "string") &&
    typeof value.closed === "boolean" && typeof value.drawn === "boolean" &&
    typeof value.paused === "boolean" &&
    (value.admitRate === null || Number.isSafeInteger(value.admitRate)) &&
    (value.nextWake === null || Number.isFinite(value.nextWake));
  if (!ok) throw new TypeError(`Not a line's state: ${json.slice(0, 200)}`);
  return {
    product: value.product,
    version: value.version,
    commitment: value.commitment,
    seed: value.seed,
    closed: value.closed,
    drawn: value.drawn,
    servingUpTo: value.servingUpTo,
    queued: value.queued,
    count: value.count,
    admitRate: value.admitRate,
    paused: value.paused,
    nextWake: value.nextWake,
  };
}
