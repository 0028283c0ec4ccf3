/** Group commit: operations that wait are decided in order on drafts and written by one commit. */
import type { Clock } from "../time/clock.ts";
import { expireHolds, MAX_EXPIRIES_PER_CHANGE } from "../inventory/rules.ts";
import { LocalStock } from "./local_stock.ts";
import { StockDraft } from "./stock_draft.ts";
import type { ProductWrite, StoreEngine } from "./engine.ts";
import type { Decide, Shelf, Stocks } from "./shelf.ts";

interface Queued {
  readonly decide: Decide<unknown>;
  /** An answer that writes nothing must first check that memory was current. */
  readonly verify: boolean;
  readonly resolve: (answer: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** Commits refused (another process wrote first) before an operation gives up. */
const MAX_REFUSED_COMMITS = 50;
/**
 * Products written by one commit at most.
 *
 * Deno KV bounds the checks and the mutations of one commit; a batch stays well inside both.
 */
export const MAX_PRODUCTS_PER_COMMIT = 90;
const MAX_MUTATIONS_PER_COMMIT = 900 - MAX_EXPIRIES_PER_CHANGE;
/** Operations committed together at most. */
const MAX_BATCH_OPERATIONS = 200;

/**
 * Runs a local store's operations through its engine, batch after batch.
 *
 * Operations that arrive while a commit is in flight are decided in order on drafts and
 * committed together by the next one, each answered with the state right after it. A commit the
 * engine refuses (another process wrote since) reloads those products and decides the batch
 * again.
 */
export class GroupCommit {
  readonly #engine: StoreEngine;
  readonly #shelf: Shelf;
  readonly #clock: Clock;
  readonly #onIdle: () => void;
  #queue: Queued[] = [];
  #draining: Promise<void> | undefined;
  #warnedOfWriter = false;

  /**
   * Makes a group commit that starts nothing until the first operation.
   *
   * @param engine Where changes are written.
   * @param shelf The stocks in memory, kept in step with what is committed.
   * @param clock The time source.
   * @param onIdle Called each time the last waiting operation has been answered.
   */
  constructor(engine: StoreEngine, shelf: Shelf, clock: Clock, onIdle: () => void) {
    this.#engine = engine;
    this.#shelf = shelf;
    this.#clock = clock;
    this.#onIdle = onIdle;
  }

  /**
   * Runs one operation in the next batch.
   *
   * @param decide The operation.
   * @param verify Whether an answer that writes nothing must first check memory was current.
   * @returns Its answer, once its batch is committed.
   * @throws {Error} When commits were refused too often, or the engine failed.
   */
  run<T>(decide: Decide<T>, verify: boolean): Promise<T> {
    const { promise, resolve, reject } = Promise.withResolvers<T>();
    this.#queue.push({ decide, verify, resolve: resolve as (answer: unknown) => void, reject });
    this.#draining ??= this.#drain();
    return promise;
  }

  /** Waits for every operation to be answered, then releases the engine. */
  async close(): Promise<void> {
    while (this.#draining !== undefined) await this.#draining;
    await this.#engine.close();
  }

  /** Commits batch after batch while operations wait; one at a time, so we never race. */
  async #drain(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, MAX_BATCH_OPERATIONS);
        try {
          const { answers, deferred } = await this.#runBatch(batch);
          batch.slice(0, answers.length).forEach((queued, i) => queued.resolve(answers[i]));
          // Operations that did not fit in one commit go first in the next.
          this.#queue.unshift(...deferred);
        } catch (error) {
          for (const queued of batch) queued.reject(error);
        }
      }
    } finally {
      this.#draining = undefined;
      this.#onIdle();
    }
  }

  /** Decides a batch on drafts and commits it, reloading after each refusal. */
  async #runBatch(batch: Queued[]): Promise<{ answers: unknown[]; deferred: Queued[] }> {
    const shelf = this.#shelf;
    for (let refused = 0; refused < MAX_REFUSED_COMMITS; refused++) {
      const now = this.#clock.now();
      const drafts = new Map<string, StockDraft>();
      const created = new Map<string, LocalStock>();
      let mutations = 0;
      const stocks: Stocks = {
        get: (id) => {
          let draft = drafts.get(id);
          if (draft !== undefined) return draft;
          const stock = created.get(id) ?? shelf.get(id);
          if (stock === undefined) return undefined;
          draft = new StockDraft(stock);
          drafts.set(id, draft);
          expireHolds(draft, now);
          return draft;
        },
        create: (listing) => {
          const stock = LocalStock.of(listing.info, 0);
          created.set(listing.info.id, stock);
          const draft = new StockDraft(stock);
          drafts.set(listing.info.id, draft);
          return draft;
        },
        heldBy: (client) => {
          // The holds committed, and those this batch took or ended before this operation.
          const committed = shelf.heldBy(client, now);
          let count = committed.count;
          for (const draft of drafts.values()) count += draft.clientDelta(client, now);
          return { count, firstEnd: committed.firstEnd };
        },
      };
      const answers: unknown[] = [];
      let deferred: Queued[] = [];
      for (let i = 0; i < batch.length; i++) {
        if (drafts.size >= MAX_PRODUCTS_PER_COMMIT || mutations >= MAX_MUTATIONS_PER_COMMIT) {
          deferred = batch.slice(i);
          break;
        }
        answers.push(batch[i].decide(stocks, now));
        mutations = 0;
        for (const draft of drafts.values()) mutations += draft.writes + 1;
      }
      const writes: ProductWrite[] = [];
      for (const [id, draft] of drafts) {
        if (draft.changed || created.has(id)) {
          writes.push({ id, change: draft.change(), stamp: shelf.stampOf(id) });
        }
      }
      const decided = batch.slice(0, answers.length);
      if (writes.length > 0) {
        const stamps = await this.#engine.commit(writes);
        if (stamps !== null) {
          for (const write of writes) {
            const stock = created.get(write.id) ?? shelf.get(write.id)!;
            const before = shelf.has(write.id) ? { ...stock } : undefined;
            stock.apply(write.change);
            shelf.place(write.id, stock, before, stamps.get(write.id)!);
          }
          return { answers, deferred };
        }
      } else if (
        !decided.some((queued) => queued.verify) || await this.#isCurrent([...drafts.keys()])
      ) {
        return { answers, deferred };
      }
      if (!this.#warnedOfWriter) {
        this.#warnedOfWriter = true;
        // Safe (the commit was refused), but subscribers here miss the other writer's changes.
        console.warn("another process writes the same inventory store; re-reading it");
      }
      await this.#reload([...drafts.keys()]);
    }
    throw new Error(`Gave up after ${MAX_REFUSED_COMMITS} refused commits`);
  }

  async #isCurrent(ids: string[]): Promise<boolean> {
    const stamps = await this.#engine.stamps(ids);
    return ids.every((id) => stamps.get(id) === this.#shelf.stampOf(id));
  }

  async #reload(ids: string[]): Promise<void> {
    const found = await this.#engine.reload(ids);
    const shelf = this.#shelf;
    for (const id of ids) {
      const stored = found.get(id);
      const stock = shelf.get(id);
      const before = stock && { ...stock };
      if (stored === undefined) continue;
      shelf.adopt(stored);
      shelf.changed(id, shelf.get(id)!, before);
    }
  }
}
