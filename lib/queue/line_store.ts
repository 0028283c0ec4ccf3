/** The lines' port: where a process keeps its lines, so that a restart mid-drop goes on. */
import type { LineHead, Ticket } from "./line.ts";

/** One product's line as a store kept it. */
export interface StoredLine {
  /** The product's id. */
  readonly product: string;
  /** Its head. */
  readonly head: LineHead;
  /** Its tickets; a window ticket's number is not kept (the draw recomputes it). */
  readonly tickets: readonly Ticket[];
}

/** Keeps lines: each save is durable before it resolves, and saves of one product keep their order. */
export interface LineStore {
  /**
   * Reads every line kept.
   *
   * @returns The lines.
   */
  load(): Promise<StoredLine[]>;
  /**
   * Keeps a line's new head and the tickets that changed, together.
   *
   * @param product The product's id.
   * @param head The head now.
   * @param tickets Tickets new or changed.
   */
  save(product: string, head: LineHead, tickets: readonly Ticket[]): Promise<void>;
  /** Waits for saves in flight and lets the engine go. */
  close(): Promise<void>;
}

/**
 * A process on `--data :memory:` keeps its lines where it keeps its stock: only in memory, so
 * nothing outlives it.
 *
 * @returns A store that keeps nothing beyond the lines the process holds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EMPTY_HEAD } from "./line.ts";
 * const store = linesInMemory();
 * await store.save("a", EMPTY_HEAD, []);
 * assert.deepEqual(await store.load(), []);
 * ```
 */
export function linesInMemory(): LineStore {
  return {
    load: () => Promise.resolve([]),
    save: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}
