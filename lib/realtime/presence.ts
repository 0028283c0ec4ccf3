/** Presence: how many watch, by process, shared among the processes of a fleet. */

/** One process's watchers by transport, as it shares them with its fleet. */
export interface ProcessWatchers {
  /** The process's id. */
  readonly process: string;
  /** WebSocket subscribers. */
  readonly websocket: number;
  /** Event-stream subscribers. */
  readonly sse: number;
  /** Long polls waiting. */
  readonly longPoll: number;
  /** When the process counted them, in ms since the epoch (its own clock). */
  readonly at: number;
}

/** Where the processes of a fleet share their watchers: the port of presence adapters. */
export interface Presence {
  /** Whether other processes read what this one shares (else sharing on a timer is pointless). */
  readonly shared: boolean;
  /**
   * Shares a process's watchers, replacing the ones it shared before.
   *
   * @param watchers The process's counts.
   * @throws {StoreUnavailableError} When the engine cannot be reached.
   */
  share(watchers: ProcessWatchers): Promise<void>;
  /**
   * Reads what every process shared.
   *
   * @param since Counts taken before this time (a process that stopped) are dropped, and deleted.
   * @returns Each process's latest counts, by process id.
   * @throws {StoreUnavailableError} When the engine cannot be reached.
   */
  fleet(since: number): Promise<ProcessWatchers[]>;
}

/**
 * Presence in this process's memory: for a process alone on its data (in memory, on Deno KV),
 * which no other process reads, and for tests of several watchers in one process.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const presence = new MemoryPresence();
 * assert.equal(presence.shared, false);
 * await presence.share({ process: "b", websocket: 1, sse: 0, longPoll: 0, at: 2_000 });
 * await presence.share({ process: "a", websocket: 0, sse: 2, longPoll: 0, at: 1_000 });
 * assert.deepEqual((await presence.fleet(0)).map((w) => w.process), ["a", "b"]);
 * assert.deepEqual((await presence.fleet(1_500)).map((w) => w.process), ["b"]);
 * ```
 */
export class MemoryPresence implements Presence {
  readonly shared = false;
  readonly #processes = new Map<string, ProcessWatchers>();

  /**
   * Keeps a process's counts.
   *
   * @param watchers The process's counts.
   */
  share(watchers: ProcessWatchers): Promise<void> {
    this.#processes.set(watchers.process, watchers);
    return Promise.resolve();
  }

  /**
   * The counts kept, deleting those taken before `since`.
   *
   * @param since The oldest counts kept, in ms since the epoch.
   * @returns Each process's counts, by process id.
   */
  fleet(since: number): Promise<ProcessWatchers[]> {
    for (const [process, watchers] of this.#processes) {
      if (watchers.at < since) this.#processes.delete(process);
    }
    const fresh = [...this.#processes.values()];
    return Promise.resolve(fresh.sort((a, b) => a.process < b.process ? -1 : 1));
  }
}
