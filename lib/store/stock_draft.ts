/** A copy-on-write draft of a stock: what one batch of operations would change, before it is committed. */
import {
  copyStoredFields,
  endOf,
  type Hold,
  type Sale,
  type Stock,
  storedFieldsDiffer,
  storedStateOf,
  type WritableState,
} from "../inventory/ledger.ts";
import { type LocalStock, nextSale, type StockChange } from "./local_stock.ts";

/** The product's stored fields, as its own properties: copied from the stock, so the class lists none. */
export interface StockDraft extends WritableState {}

/**
 * A copy-on-write view of a stock for one batch of operations: the stock stays as it was until
 * the batch is committed, so a refused commit needs no undo. Only changed holds are copied.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LocalStock } from "./local_stock.ts";
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * const stock = LocalStock.of(info, 5);
 * const draft = new StockDraft(stock);
 * draft.hold("s1", { expiresAt: 100, heldAt: 0, orderId: null, checkingOut: false });
 * assert.equal(draft.held, 1);
 * assert.equal(stock.held, 0);
 * stock.apply(draft.change());
 * assert.equal(stock.held, 1);
 * ```
 */
export class StockDraft implements Stock {
  readonly #stock: LocalStock;
  /** Session → its new hold, or undefined for a hold that ends. */
  readonly #changes = new Map<string, Hold | undefined>();
  readonly #sales = new Map<string, Sale>();
  #held: number;

  /**
   * Opens a draft that starts as the stock is.
   *
   * @param stock The stock to draft on; read, never written.
   */
  constructor(stock: LocalStock) {
    this.#stock = stock;
    copyStoredFields(this, stock);
    this.#held = stock.held;
  }

  /** Units held in this draft. */
  get held(): number {
    return this.#held;
  }

  /** Whether anything must be written. */
  get changed(): boolean {
    return this.#changes.size > 0 || this.#sales.size > 0 || storedFieldsDiffer(this, this.#stock);
  }

  /** How many keys the draft writes besides the product's own. */
  get writes(): number {
    return this.#changes.size + this.#sales.size;
  }

  /**
   * The hold of a session.
   *
   * @param session The session id.
   * @returns Its hold, or undefined when it holds nothing.
   */
  holdOf(session: string): Hold | undefined {
    return this.#changes.has(session) ? this.#changes.get(session) : this.#stock.holdOf(session);
  }

  /**
   * Creates or changes a hold.
   *
   * @param session The session id.
   * @param hold The hold.
   */
  hold(session: string, hold: Hold): void {
    if (this.holdOf(session) === undefined) this.#held++;
    this.#changes.set(session, hold);
  }

  /**
   * Ends a hold, if there is one.
   *
   * @param session The session id.
   */
  release(session: string): void {
    if (this.holdOf(session) !== undefined) this.#held--;
    this.#changes.set(session, undefined);
  }

  /**
   * What a session bought of this product.
   *
   * @param session The session id.
   * @returns Its latest order and how many units it bought, or undefined when it bought none.
   */
  saleOf(session: string): Sale | undefined {
    return this.#sales.get(session) ?? this.#stock.saleOf(session);
  }

  /**
   * Records a sale of one more unit to a session.
   *
   * @param session The session id.
   * @param orderId The order's id.
   */
  recordSale(session: string, orderId: string): void {
    this.#sales.set(session, nextSale(this.saleOf(session), orderId));
  }

  /**
   * Lists the holds due by a time.
   *
   * @param now The time, in ms since the epoch.
   * @param limit The most to list.
   * @returns Their sessions, the earliest first.
   */
  due(now: number, limit: number): string[] {
    const due: string[] = [];
    for (const [session, hold] of this.#changes) {
      if (hold !== undefined && endOf(hold) <= now && due.length < limit) due.push(session);
    }
    // Holds of the stock this draft ended or changed are not due as the stock has them.
    for (const session of this.#stock.due(now, limit + this.#changes.size)) {
      if (due.length >= limit) break;
      if (!this.#changes.has(session)) due.push(session);
    }
    return due;
  }

  /**
   * How this draft changes the count of a client's live holds.
   *
   * @param client The client's key.
   * @param now The time, in ms since the epoch.
   * @returns Holds it took minus holds it ended, of that client, live at `now`.
   */
  clientDelta(client: string, now: number): number {
    let delta = 0;
    for (const [session, hold] of this.#changes) {
      const before = this.#stock.holdOf(session);
      if (before?.client === client && endOf(before) > now) delta--;
      if (hold?.client === client && endOf(hold) > now) delta++;
    }
    return delta;
  }

  /** Every session holding a unit in this draft, with its hold. */
  *holds(): IterableIterator<[string, Hold]> {
    for (const entry of this.#stock.holds()) {
      if (!this.#changes.has(entry[0])) yield entry;
    }
    for (const [session, hold] of this.#changes) {
      if (hold !== undefined) yield [session, hold];
    }
  }

  /** Everything this draft changed. */
  change(): StockChange {
    const put: [string, Hold][] = [];
    const drop: string[] = [];
    for (const [session, hold] of this.#changes) {
      if (hold === undefined) drop.push(session);
      else put.push([session, hold]);
    }
    return {
      state: storedStateOf(this),
      put,
      drop,
      sales: [...this.#sales],
    };
  }
}
