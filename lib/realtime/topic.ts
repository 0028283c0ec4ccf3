/** A topic: one product's (or the whole catalog's) current state, its subscribers and its waiters. */
import type { Since, StateMessage } from "./message.ts";

/** Long polls waiting, over every topic: what the connection limit counts. */
export interface WaiterTally {
  /** Waiters now. */
  waiters: number;
}

/**
 * The news of one product, or of every product: what a new subscriber gets first, then every
 * change, and promises for long polls that wait for the next one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const topic = new Topic("a", () => "{}", () => ({ epoch: "e", version: 0 }), { waiters: 0 });
 * const seen: string[] = [];
 * topic.subscribe((message) => seen.push(message.json));
 * topic.publish({ product: "a", version: 1, cursor: "e.1", json: "{1}", last: false });
 * assert.deepEqual(seen, ["{1}"]);
 * ```
 */
export class Topic {
  /** The product's id, or `*` for the catalog. */
  readonly name: string;
  readonly #opening: () => string;
  readonly #position: () => { epoch: string; version: number };
  readonly #tally: WaiterTally;
  readonly #listeners = new Set<(message: StateMessage) => void>();
  #waiters = new Set<() => void>();
  #closed = false;

  /**
   * Creates the Topic.
   *
   * @param name The product's id, or `*`.
   * @param opening The JSON a new subscriber gets first.
   * @param position The topic's epoch and version now.
   * @param tally Counts waiting long polls across topics.
   */
  constructor(
    name: string,
    opening: () => string,
    position: () => { epoch: string; version: number },
    tally: WaiterTally,
  ) {
    this.name = name;
    this.#opening = opening;
    this.#position = position;
    this.#tally = tally;
  }

  /** The JSON a new subscriber gets first: the current state. */
  opening(): string {
    return this.#opening();
  }

  /** Where a subscriber that has the current state stands: `<epoch>.<version>`. */
  cursor(): string {
    const { epoch, version } = this.#position();
    return `${epoch}.${version}`;
  }

  /** The topic's version now. */
  get version(): number {
    return this.#position().version;
  }

  /** Whether it was closed (its product retired, or the server stopping). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Long polls waiting on this topic. */
  get waiterCount(): number {
    return this.#waiters.size;
  }

  /** Whether anyone follows it now: a subscriber or a waiting long poll. */
  get followed(): boolean {
    return this.#listeners.size > 0 || this.#waiters.size > 0;
  }

  /**
   * Registers a subscriber.
   *
   * @param listener Called synchronously with each change; it must not throw.
   * @returns A function that unregisters it.
   */
  subscribe(listener: (message: StateMessage) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Tells every subscriber and waiter of a change.
   *
   * @param message The new state.
   */
  publish(message: StateMessage): void {
    this.#release();
    for (const listener of this.#listeners) {
      try {
        listener(message);
      } catch (error) {
        console.error("topic subscriber failed:", error);
      }
    }
  }

  /**
   * Adds a waiter for the topic to move past where the client stands, unless it should be
   * answered at once: when the client is elsewhere (another version, or another epoch: it saw
   * another life of the store) or the topic is closed.
   *
   * @param since Where the client stands; undefined waits for the next change.
   * @param waiter Called once, at the next change or when the topic closes, unless it leaves
   *   first; it must not throw.
   * @returns Whether it waits; false when the client should be answered now.
   */
  wait(since: Since | undefined, waiter: () => void): boolean {
    const { epoch, version } = this.#position();
    const elsewhere = since !== undefined &&
      (since.version !== version || (since.epoch !== undefined && since.epoch !== epoch));
    if (elsewhere || this.#closed) return false;
    this.#waiters.add(waiter);
    this.#tally.waiters++;
    return true;
  }

  /**
   * Takes a waiter out before it is called: its client left, or its time ran out.
   *
   * @param waiter The waiter added.
   * @returns Whether it was still waiting.
   */
  leave(waiter: () => void): boolean {
    if (!this.#waiters.delete(waiter)) return false;
    this.#tally.waiters--;
    return true;
  }

  /** Answers every waiter; later waits answer at once. */
  close(): void {
    this.#closed = true;
    this.#release();
  }

  #release(): void {
    // Most changes find no long poll waiting: no new set for them.
    if (this.#waiters.size === 0) return;
    const waiters = this.#waiters;
    this.#waiters = new Set();
    this.#tally.waiters -= waiters.size;
    for (const waiter of waiters) waiter();
  }
}
