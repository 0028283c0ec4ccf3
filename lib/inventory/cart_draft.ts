/** The state a batch of cart operations decides on: the cart's holds plus the batch's changes. */
import type { CartState, StateMessage } from "./cart.ts";
import type { InventoryChange } from "../store/port.ts";

/**
 * A copy-on-write view of the cart's state for one batch of operations.
 *
 * Operations read and change the draft in turn, each seeing the ones before it; the cart's own
 * state stays untouched until the batch's change is committed, so a refused or failed commit
 * needs no undo. Only the changed sessions are copied, never the whole set of holds.
 *
 * @example
 * ```ts
 * const draft = new Draft(new Map(), 10, 0);
 * draft.put(crypto.randomUUID(), Infinity);
 * draft.version++;
 * console.log(draft.state()); // { inventoryCount: 9, version: 1 }
 * ```
 */
export class Draft {
  /** Units in stock, as the batch has set it so far. */
  total: number;
  /** The version, as the batch has raised it so far. */
  version: number;
  readonly #base: ReadonlyMap<string, number>;
  readonly #baseTotal: number;
  readonly #baseVersion: number;
  /** Session → new expiry, or undefined for a hold that ends. */
  readonly #changes = new Map<string, number | undefined>();
  #size: number;
  #message: StateMessage | undefined;

  /**
   * @param holds The cart's holds (session → expiry); read, never written.
   * @param total The cart's total.
   * @param version The cart's version.
   */
  constructor(holds: ReadonlyMap<string, number>, total: number, version: number) {
    this.#base = holds;
    this.#size = holds.size;
    this.total = this.#baseTotal = total;
    this.version = this.#baseVersion = version;
  }

  /** Units held in this draft. */
  get size(): number {
    return this.#size;
  }

  /** Whether the batch changed anything that must be written. */
  get changed(): boolean {
    return this.#changes.size > 0 || this.total !== this.#baseTotal ||
      this.version !== this.#baseVersion;
  }

  /**
   * Tells when a session's hold expires in this draft.
   *
   * @param session The session id.
   * @returns The expiry time, or undefined when it holds nothing.
   */
  get(session: string): number | undefined {
    return this.#changes.has(session) ? this.#changes.get(session) : this.#base.get(session);
  }

  /**
   * Creates or refreshes a hold.
   *
   * @param session The session id.
   * @param expiresAt When the hold ends, in ms since the epoch.
   */
  put(session: string, expiresAt: number): void {
    if (this.get(session) === undefined) this.#size++;
    this.#changes.set(session, expiresAt);
  }

  /**
   * Ends a hold, if there is one.
   *
   * @param session The session id.
   */
  drop(session: string): void {
    if (this.get(session) !== undefined) this.#size--;
    this.#changes.set(session, undefined);
  }

  /** The public state of this draft. */
  state(): CartState {
    return { inventoryCount: Math.max(0, this.total - this.#size), version: this.version };
  }

  /** The public state and its JSON form, serialized once per distinct state. */
  message(): StateMessage {
    const state = this.state();
    const last = this.#message?.state;
    if (last?.inventoryCount !== state.inventoryCount || last.version !== state.version) {
      this.#message = { state, json: JSON.stringify(state) };
    }
    return this.#message!;
  }

  /** Everything the batch changed, as one change for the store. */
  change(): InventoryChange {
    const put: [string, number][] = [];
    const drop: string[] = [];
    for (const [session, expiresAt] of this.#changes) {
      if (expiresAt === undefined) drop.push(session);
      else put.push([session, expiresAt]);
    }
    return { total: this.total, version: this.version, put, drop };
  }
}
