/** The last hour of the shop's activity, per second: holds, releases and sales, and watchers. */
import type { Clock } from "../time/clock.ts";
import type { ProductState } from "../inventory/ledger.ts";

/** Seconds of history kept: one hour. */
export const ACTIVITY_SECONDS = 3_600;

/** The width of one bucket, in ms. */
export const ACTIVITY_STEP_MS = 1_000;

/** The buckets of the last hour and the current second's. */
const SLOTS = ACTIVITY_SECONDS + 1;

/** A second with no watcher sample. */
const NO_SAMPLE = -1;

/** What one second saw. */
export interface SecondCounts {
  /** Units newly held. */
  readonly holds: number;
  /** Units held no more without a sale (removed, expired, retired). */
  readonly releases: number;
  /** Units sold. */
  readonly sales: number;
}

/** The last hour's completed seconds, oldest first. */
export interface ActivityHistory {
  /** When the oldest bucket starts, in ms since the epoch. */
  readonly start: number;
  /** The width of each bucket, in ms. */
  readonly stepMs: number;
  /** Units newly held in each second. */
  readonly holds: number[];
  /** Units released in each second. */
  readonly releases: number[];
  /** Units sold in each second. */
  readonly sales: number[];
  /** Watchers sampled in each second; null for a second with no sample. */
  readonly watchers: (number | null)[];
}

/**
 * Counts holds, releases and sales per second over the last hour, from each product's records
 * (this process's changes and those other processes made alike), and keeps a watcher sample per
 * second. Bounded: {@linkcode ACTIVITY_SECONDS} buckets in typed arrays, advanced lazily when
 * written or read, with no timer. In memory only: it restarts empty with the process.
 *
 * With `dh` and `ds` the changes of `held` and `sold` since the product's last record seen here:
 * sales rise by `ds`, holds by `dh + ds` when positive, releases by `-(dh + ds)` when positive. A
 * record that skips versions folds several changes into one delta; a restock changes neither.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const clock = { now: () => 10_500 };
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * const record = { info, total: 5, held: 0, sold: 0, version: 0, retired: false, listedTotal: null };
 * const activity = new Activity(clock, [record]);
 * activity.observe({ ...record, held: 2, version: 2 });
 * activity.observe({ ...record, held: 1, sold: 1, version: 3 });
 * assert.deepEqual(activity.countsAt(10_000), { holds: 2, releases: 0, sales: 1 });
 * ```
 */
export class Activity {
  readonly #clock: Pick<Clock, "now">;
  readonly #holds = new Uint32Array(SLOTS);
  readonly #releases = new Uint32Array(SLOTS);
  readonly #sales = new Uint32Array(SLOTS);
  readonly #watchers = new Int32Array(SLOTS).fill(NO_SAMPLE);
  /** Each product's `held` and `sold` as last seen. */
  readonly #last = new Map<string, { held: number; sold: number }>();
  /** The current second, as a count of seconds since the epoch. */
  #second: number;

  /**
   * Starts empty at the clock's current second.
   *
   * @param clock Tells the time.
   * @param products The products as they are now, so that their first change counts only itself.
   */
  constructor(clock: Pick<Clock, "now">, products: Iterable<ProductState> = []) {
    this.#clock = clock;
    this.#second = secondOf(clock.now());
    for (const record of products) this.#remember(record);
  }

  /**
   * Counts a product's change since its last record seen here, in the current second.
   *
   * @param record The product's new record.
   */
  observe(record: ProductState): void {
    let last = this.#last.get(record.info.id);
    if (last === undefined) {
      last = { held: 0, sold: 0 };
      this.#last.set(record.info.id, last);
    }
    const sold = record.sold - last.sold;
    const taken = record.held - last.held + sold;
    // Kept in place: a change on the hot path allocates nothing here.
    last.held = record.held;
    last.sold = record.sold;
    if (sold === 0 && taken === 0) return;
    const slot = this.#slotOf(this.#advance());
    if (sold > 0) this.#sales[slot] += sold;
    if (taken > 0) this.#holds[slot] += taken;
    else if (taken < 0) this.#releases[slot] -= taken;
  }

  /**
   * Records how many watchers a second had (the last sample of a second wins).
   *
   * @param count The watchers.
   * @param at A time within the second, in ms; the current second by default. A second outside
   *   the last hour, or not yet begun, is ignored.
   */
  sampleWatchers(count: number, at: number = this.#clock.now()): void {
    const slot = this.#slotWithin(at);
    if (slot !== undefined) this.#watchers[slot] = Math.min(Math.max(count, 0), 2 ** 31 - 1);
  }

  /**
   * What one second saw.
   *
   * @param at A time within the second, in ms.
   * @returns Its counts; zeros for a second outside the last hour or not yet begun.
   */
  countsAt(at: number): SecondCounts {
    const slot = this.#slotWithin(at);
    if (slot === undefined) return { holds: 0, releases: 0, sales: 0 };
    return { holds: this.#holds[slot], releases: this.#releases[slot], sales: this.#sales[slot] };
  }

  /**
   * The last hour's completed seconds: the current one is not among them.
   *
   * @returns {@linkcode ACTIVITY_SECONDS} buckets, oldest first.
   */
  history(): ActivityHistory {
    const current = this.#advance();
    const first = current - ACTIVITY_SECONDS;
    const slots = Array.from({ length: ACTIVITY_SECONDS }, (_, i) => this.#slotOf(first + i));
    return {
      start: first * ACTIVITY_STEP_MS,
      stepMs: ACTIVITY_STEP_MS,
      holds: slots.map((slot) => this.#holds[slot]),
      releases: slots.map((slot) => this.#releases[slot]),
      sales: slots.map((slot) => this.#sales[slot]),
      watchers: slots.map((slot) =>
        this.#watchers[slot] === NO_SAMPLE ? null : this.#watchers[slot]
      ),
    };
  }

  #remember(record: ProductState): void {
    this.#last.set(record.info.id, { held: record.held, sold: record.sold });
  }

  /** Moves to the clock's second, emptying the buckets it passes; returns that second. */
  #advance(): number {
    const now = secondOf(this.#clock.now());
    // A clock that goes back keeps writing into the latest second.
    if (now <= this.#second) return this.#second;
    const steps = Math.min(now - this.#second, SLOTS);
    for (let i = 1; i <= steps; i++) {
      const slot = this.#slotOf(this.#second + i);
      this.#holds[slot] = 0;
      this.#releases[slot] = 0;
      this.#sales[slot] = 0;
      this.#watchers[slot] = NO_SAMPLE;
    }
    this.#second = now;
    return now;
  }

  #slotWithin(at: number): number | undefined {
    const current = this.#advance();
    const second = secondOf(at);
    if (second > current || second < current - ACTIVITY_SECONDS) return undefined;
    return this.#slotOf(second);
  }

  #slotOf(second: number): number {
    return ((second % SLOTS) + SLOTS) % SLOTS;
  }
}

function secondOf(ms: number): number {
  return Math.floor(ms / ACTIVITY_STEP_MS);
}
