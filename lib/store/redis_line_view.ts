/** This process's view of the drops' lines in Redis: the newest state of each, told once per newer version. */
import { emptyLine, type LineState, parseLineState } from "./redis_line_state.ts";

/**
 * The newest state of every drop's line this process has seen, from the queue channel and from
 * the functions' answers. A newer version replaces the state and is told to the listeners; the
 * same version refreshes what only the answers carry (the next wake, after a change of the
 * admissions alone); an older one is dropped. A message carries the line's whole state, so one
 * that skips versions needs no reload.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { emptyLine } from "./redis_line_state.ts";
 * const told: string[] = [];
 * const view = new RedisLineView(() => {}, () => {});
 * view.onChange((product) => told.push(product));
 * const state = (version: number) => JSON.stringify({ ...emptyLine("a"), version, queued: version });
 * view.learn(state(2));
 * view.hear(state(1));
 * assert.equal(view.get("a").queued, 2);
 * assert.deepEqual(told, ["a"]);
 * ```
 */
export class RedisLineView {
  readonly #lines = new Map<string, LineState>();
  readonly #listeners = new Set<(product: string) => void>();
  readonly #log: (line: string) => void;
  readonly #learned: () => void;

  /**
   * Creates the view, empty.
   *
   * @param log Writes a line to the log.
   * @param learned Called after every state taken in: the next wake may have moved.
   */
  constructor(log: (line: string) => void, learned: () => void) {
    this.#log = log;
    this.#learned = learned;
  }

  /**
   * A line's state as last seen.
   *
   * @param product The product's id.
   * @returns Its state; an empty line's when none was seen.
   */
  get(product: string): LineState {
    return this.#lines.get(product) ?? emptyLine(product);
  }

  /**
   * Takes in a line's state a function answered.
   *
   * @param json The state, as JSON.
   * @returns The newest state known of that line.
   * @throws {TypeError} When it is not a line's state.
   */
  learn(json: string): LineState {
    const state = parseLineState(json);
    const known = this.#lines.get(state.product);
    if (known !== undefined && known.version > state.version) return known;
    this.#lines.set(state.product, state);
    if (known === undefined || known.version < state.version) this.tell(state.product);
    this.#learned();
    return state;
  }

  /**
   * Takes in a message of the queue channel; one that cannot be read is logged.
   *
   * @param message The state, as JSON.
   */
  hear(message: string): void {
    try {
      this.learn(message);
    } catch (error) {
      this.#log(`Redis: a queue message could not be read: ${(error as Error).message}`);
    }
  }

  /**
   * Registers a listener told of every change of a drop's status.
   *
   * @param listener Called with the product's id.
   * @returns A function that unregisters it.
   */
  onChange(listener: (product: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Tells the listeners that a drop's status changed (its line, or its stock).
   *
   * @param product The product's id.
   */
  tell(product: string): void {
    for (const listener of this.#listeners) {
      try {
        listener(product);
      } catch (error) {
        this.#log(`a drop's listener failed: ${(error as Error).message}`);
      }
    }
  }
}
