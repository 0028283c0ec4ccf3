/** What a durable store behind the cart must do: load the state once, commit changes atomically. */

/** The whole stored state, read at one moment. */
export interface InventorySnapshot {
  /** Units in stock, held or not. */
  readonly total: number;
  /** The version of the cart state. */
  readonly version: number;
  /** Every stored hold: session id and the time it expires, in ms since the epoch. */
  readonly holds: ReadonlyArray<readonly [session: string, expiresAt: number]>;
  /** Names this exact state; a commit against an older stamp is refused. */
  readonly stamp: string;
}

/** One change of the stored state, committed all at once or not at all. */
export interface InventoryChange {
  /** The total after the change. */
  readonly total: number;
  /** The version after the change. */
  readonly version: number;
  /** Holds created or refreshed: session id and new expiry time. */
  readonly put: ReadonlyArray<readonly [session: string, expiresAt: number]>;
  /** Sessions whose hold ends. */
  readonly drop: readonly string[];
}

/**
 * A store that keeps the cart across restarts and guards it against a second writer.
 *
 * Every commit names the stamp of the state it was computed from and is refused when the stored
 * state has moved on since, so two processes sharing a store can never both take the last unit.
 */
export interface InventoryStore {
  /**
   * Reads the whole state at one moment.
   *
   * @returns The snapshot, or undefined when nothing was ever stored.
   */
  load(): Promise<InventorySnapshot | undefined>;
  /**
   * Applies a change if the stored state still has the given stamp.
   *
   * @param change What to write.
   * @param stamp The stamp the change was computed from; null for a store never written.
   * @returns The new stamp, or null when the state moved on (nothing was written).
   */
  commit(change: InventoryChange, stamp: string | null): Promise<string | null>;
  /**
   * Tells whether the stored state still has the given stamp.
   *
   * @param stamp The stamp of the state the caller knows.
   * @returns True when nobody wrote since.
   */
  isCurrent(stamp: string): Promise<boolean>;
  /** Waits for commits in flight, then releases the store. */
  close(): Promise<void>;
}

/** The most holds one change may end; larger sweeps are split over several commits. */
export const MAX_DROPS_PER_CHANGE = 500;
