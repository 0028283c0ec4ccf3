/** One timer for the first hold due in a schedule: when it fires, each due product is visited. */
import type { Clock } from "../time/clock.ts";
import { MAX_PRODUCTS_PER_COMMIT } from "./group_commit.ts";

/** What a hold timer watches: when the first hold is due, and which products are due. */
export interface DueSchedule {
  /** When the first hold is due; Infinity when none is. */
  firstExpiry(): number;
  /** Products with a hold due by `now`, at most `limit` of them. */
  due(now: number, limit: number): string[];
}

/** After a pass that failed (the engine refuses to write), the next waits this long, doubling. */
const FIRST_RETRY_MS = 1_000;
/** The longest wait between failed passes. */
const MAX_RETRY_MS = 30_000;

/**
 * Keeps one timer, set for the first hold due in any product of a schedule, until stopped. A pass
 * that failed is tried again after a backoff, never at once in a loop.
 */
export class HoldTimer {
  readonly #schedule: DueSchedule;
  readonly #clock: Clock;
  readonly #visit: (product: string) => Promise<void>;
  #timerAt = Infinity;
  #cancelTimer: (() => void) | undefined;
  /** No pass before this time: the last one failed. */
  #retryAt = -Infinity;
  #retryMs = 0;
  #stopped = false;

  /**
   * Makes a timer that is set by the first {@linkcode HoldTimer.arm}.
   *
   * @param schedule The products whose holds it watches (a shelf of stocks, or a heap of due times).
   * @param clock The time source and its timers.
   * @param visit Runs an operation on a product, which expires its due holds.
   */
  constructor(schedule: DueSchedule, clock: Clock, visit: (product: string) => Promise<void>) {
    this.#schedule = schedule;
    this.#clock = clock;
    this.#visit = visit;
  }

  /**
   * Sets the timer for the first hold now due, if that moved earlier. A timer set for earlier
   * than that is left to fire: it finds nothing due and sets the next. Moving it back at every
   * change would cost a timer per change where shoppers put back the oldest holds first.
   */
  arm(): void {
    const at = this.#stopped ? Infinity : Math.max(this.#schedule.firstExpiry(), this.#retryAt);
    if (at === this.#timerAt || (at > this.#timerAt && this.#cancelTimer !== undefined)) return;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    this.#timerAt = at;
    if (at === Infinity) return;
    const clock = this.#clock;
    this.#cancelTimer = clock.setTimer(() => {
      this.#cancelTimer = undefined;
      this.#timerAt = Infinity;
      // Visiting each due product expires its holds (and, in memory, applies at once). One
      // operation per product, so that a batch can split them over commits KV takes.
      const due = this.#schedule.due(clock.now(), MAX_PRODUCTS_PER_COMMIT);
      // A timer that fired early (the first hold moved later) finds nothing due: set it again.
      if (due.length === 0) return this.arm();
      let failed = false;
      Promise.all(
        due.map((id) =>
          this.#visit(id).catch((error) => {
            failed = true;
            console.error("expiring holds failed:", error);
          })
        ),
      )
        .finally(() => {
          this.#retryMs = failed ? Math.min(MAX_RETRY_MS, this.#retryMs * 2 || FIRST_RETRY_MS) : 0;
          this.#retryAt = failed ? clock.now() + this.#retryMs : -Infinity;
          this.arm();
        });
    }, at - clock.now());
  }

  /** Cancels the timer for good. */
  stop(): void {
    this.#stopped = true;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
  }
}
