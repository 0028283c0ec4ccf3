/** Watchers by transport and by process: this process's live counts, and the fleet's presence. */
import type { Clock } from "../time/clock.ts";
import type { Presence, ProcessWatchers } from "./presence.ts";

/** How often a process shares its counts with the fleet (a store shared by several processes). */
export const WATCHERS_SHARE_INTERVAL_MS = 5_000;

/** Counts older than this are a process that stopped: dropped, and deleted from the store. */
export const WATCHERS_MAX_AGE_MS = 3 * WATCHERS_SHARE_INTERVAL_MS;

/** One process's watchers by transport. */
export interface WatcherCounts {
  /** WebSocket subscribers. */
  readonly websocket: number;
  /** Event-stream subscribers. */
  readonly sse: number;
  /** Long polls waiting. */
  readonly longPoll: number;
}

/** The watchers of every process, and their sum. */
export interface FleetView {
  /** This process first, then the others by id. */
  readonly processes: ProcessWatchers[];
  /** Every process's counts added up. */
  readonly total: WatcherCounts;
}

/**
 * Names this process among the fleet: its pid and a random part made at start (pids repeat
 * across machines and containers; reading the hostname would need one more permission).
 *
 * @param clock Draws the random part.
 * @returns An id such as `pid-4711-9f86d0`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemClock } from "../time/clock.ts";
 * assert.match(newProcessId(systemClock), /^pid-\d+-[0-9a-f]{6}$/);
 * assert.notEqual(newProcessId(systemClock), newProcessId(systemClock));
 * ```
 */
export function newProcessId(clock: Pick<Clock, "randomUUID">): string {
  return `pid-${Deno.pid}-${clock.randomUUID().slice(0, 6)}`;
}

/**
 * Keeps the fleet's watchers: shares this process's counts through the presence every
 * {@linkcode WATCHERS_SHARE_INTERVAL_MS} once started (only with a presence that other processes
 * read, i.e. Redis), and reads the others' on {@linkcode FleetWatchers.refresh}. This process's
 * own entry is always its live counts. A presence that cannot be reached leaves the last counts
 * read, until they are too old.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemClock } from "../time/clock.ts";
 * import { MemoryPresence } from "./presence.ts";
 * const watchers = new FleetWatchers(new MemoryPresence(), {
 *   process: "pid-1-abcdef", clock: systemClock, local: () => ({ websocket: 2, sse: 1, longPoll: 0 }),
 * });
 * await watchers.refresh();
 * assert.deepEqual(watchers.current().total, { websocket: 2, sse: 1, longPoll: 0 });
 * assert.equal(watchers.current().processes[0].process, "pid-1-abcdef");
 * ```
 */
export class FleetWatchers {
  readonly #presence: Presence;
  readonly #process: string;
  readonly #clock: Clock;
  readonly #local: () => WatcherCounts;
  #others: ProcessWatchers[] = [];
  #reading: Promise<void> | undefined;
  #cancelShare: (() => void) | undefined;
  #closed = false;

  /**
   * Creates it; nothing is shared until {@linkcode FleetWatchers.start}.
   *
   * @param presence Where the fleet's processes share their counts.
   * @param options This process's id, the clock, and this process's live counts.
   */
  constructor(
    presence: Presence,
    options: { process: string; clock: Clock; local: () => WatcherCounts },
  ) {
    this.#presence = presence;
    this.#process = options.process;
    this.#clock = options.clock;
    this.#local = options.local;
  }

  /** This process's id. */
  get process(): string {
    return this.#process;
  }

  /** Shares this process's counts now and every {@linkcode WATCHERS_SHARE_INTERVAL_MS}. */
  start(): void {
    if (this.#closed || !this.#presence.shared || this.#cancelShare !== undefined) return;
    const share = () => {
      this.#presence.share(this.#own()).catch(() => {
        // The store's health tells the failure; the next share tries again.
      });
      this.#cancelShare = this.#clock.setTimer(share, WATCHERS_SHARE_INTERVAL_MS);
    };
    share();
  }

  /**
   * The watchers of every process as last read, with this process's counted now.
   *
   * @returns Each process's counts and the sum.
   */
  current(): FleetView {
    const since = this.#clock.now() - WATCHERS_MAX_AGE_MS;
    const processes = [this.#own(), ...this.#others.filter((other) => other.at >= since)];
    const total = { websocket: 0, sse: 0, longPoll: 0 };
    for (const { websocket, sse, longPoll } of processes) {
      total.websocket += websocket;
      total.sse += sse;
      total.longPoll += longPoll;
    }
    return { processes, total };
  }

  /**
   * Reads the other processes' counts from the presence (one read at a time: a call while one is in
   * flight waits for it). Never rejects: a failure keeps the counts read before.
   */
  refresh(): Promise<void> {
    this.#reading ??= this.#presence.fleet(this.#clock.now() - WATCHERS_MAX_AGE_MS)
      .then((all) => {
        this.#others = all.filter((watchers) => watchers.process !== this.#process);
      })
      .catch(() => {
        // The store's health tells the failure.
      })
      .finally(() => this.#reading = undefined);
    return this.#reading;
  }

  /** Stops sharing. */
  close(): void {
    this.#closed = true;
    this.#cancelShare?.();
    this.#cancelShare = undefined;
  }

  #own(): ProcessWatchers {
    return { process: this.#process, ...this.#local(), at: this.#clock.now() };
  }
}
