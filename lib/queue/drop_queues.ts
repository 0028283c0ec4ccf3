/** The waiting rooms of one process: each drop's line, opened, drawn and admitted by the clock and the stock. */
import type { Inventory } from "../inventory/inventory.ts";
import { inventoryCountOf, type ProductState } from "../inventory/ledger.ts";
import type { Clock } from "../time/clock.ts";
import {
  commitmentOf,
  drawOrder,
  macKey,
  newSeed,
  orderByMacs,
  ticketHash,
  ticketMac,
  ticketMacs,
} from "./draw.ts";
import { Line, type Ticket, type Turn } from "./line.ts";
import type { LineStore } from "./line_store.ts";
import {
  type AddTurn,
  type DropPhase,
  dropPhase,
  type Drops,
  type DropSettings,
  type JoinAnswer,
  NO_LINE,
  type PublishedDraw,
  type QueueStatus,
  queueStatus,
} from "./drops.ts";

/**
 * Every drop of the shop: products with an `opensAt`. Lines open their window, draw at the
 * opening and admit shoppers against the free units on one timer and on every change of the
 * stock; operations on one line run one at a time, and each is saved before it answers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemClock } from "../time/clock.ts";
 * import { openMemoryStore } from "../store/memory_store.ts";
 * import { Inventory } from "../inventory/inventory.ts";
 * import { linesInMemory } from "./line_store.ts";
 * const store = openMemoryStore({ holdTtlMs: 60_000, clock: systemClock });
 * const inventory = await Inventory.open(store, 60_000);
 * const opensAt = new Date(Date.now() + 60_000).toISOString();
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null, opensAt };
 * await inventory.list({ info, total: 3 });
 * const settings = { windowMs: 120_000, admitRate: 20, admissionTtlMs: 60_000, maxTicketsPerClient: 0 };
 * const drops = await DropQueues.open(inventory, linesInMemory(), settings, systemClock);
 * const joined = await drops.join("a", crypto.randomUUID(), "127.0.0.1");
 * assert.equal(joined.ok && joined.ticket.number, null);
 * assert.equal(drops.status("a")?.phase, "queueing");
 * await drops.close();
 * await store.close();
 * ```
 */
export class DropQueues implements Drops {
  readonly #inventory: Inventory;
  readonly #store: LineStore;
  readonly #settings: DropSettings;
  readonly #clock: Clock;
  readonly #lines = new Map<string, Line>();
  readonly #published = new Map<string, { order: string[]; macs: readonly string[] }>();
  /** The HMACs of each open window's tickets, made as they join. */
  readonly #windowMacs = new Map<string, Map<string, string>>();
  readonly #macKeys = new Map<string, Promise<CryptoKey>>();
  readonly #turns = new Map<string, Promise<unknown>>();
  readonly #listeners = new Set<(product: string) => void>();
  #cancelWake: (() => void) | undefined;
  #wakeAt = Infinity;
  #unsubscribe: (() => void) | undefined;
  #closed = false;

  private constructor(
    inventory: Inventory,
    store: LineStore,
    settings: DropSettings,
    clock: Clock,
  ) {
    this.#inventory = inventory;
    this.#store = store;
    this.#settings = settings;
    this.#clock = clock;
  }

  /**
   * Reads the lines a store kept (recomputing each draw from its seed) and starts following the
   * clock and the stock.
   *
   * @param inventory The inventory whose products have drops.
   * @param store Where lines are kept; the caller's to close after {@linkcode DropQueues.close}.
   * @param settings The window, admit rate, admission time and per-address limit.
   * @param clock The clock.
   * @returns The drops, running.
   */
  static async open(
    inventory: Inventory,
    store: LineStore,
    settings: DropSettings,
    clock: Clock,
  ): Promise<DropQueues> {
    const drops = new DropQueues(inventory, store, settings, clock);
    for (const { product, head, tickets } of await store.load()) {
      const line = new Line(product, head);
      for (const ticket of tickets) line.restore(ticket);
      if (line.drawn) line.restoreDraw(await drawOrder(line.seed!, line.unnumbered()));
      drops.#lines.set(product, line);
    }
    drops.#unsubscribe = inventory.onChange((record) => drops.#stockChanged(record));
    drops.#schedule();
    return drops;
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
   * A drop's status now.
   *
   * @param product The product's id.
   * @returns Its status; undefined when it is unknown or has no `opensAt`.
   */
  status(product: string): QueueStatus | undefined {
    const record = this.#inventory.get(product);
    const opensAt = record?.info.opensAt;
    if (record === undefined || opensAt === undefined) return undefined;
    const line = this.#lines.get(product) ?? NO_LINE;
    return queueStatus(record, line, this.#clock.now(), this.#settings, this.#inventory.epoch);
  }

  /**
   * Gives a session a ticket for a drop, or the one it has.
   *
   * @param product The product's id, of a product on sale.
   * @param session The session.
   * @param client The client address's key.
   * @returns The ticket and the time of the draw, or why none was given.
   */
  join(product: string, session: string, client: string): Promise<JoinAnswer> {
    return this.#inTurn(product, async (): Promise<JoinAnswer> => {
      const record = this.#inventory.get(product);
      const opensAt = record?.info.opensAt;
      if (record === undefined || opensAt === undefined) return { ok: false, reason: "no queue" };
      await this.#prepare(record);
      const phase = this.#phaseOf(record, this.#clock.now());
      if (phase === "before") return { ok: false, reason: "not open yet", opensAt };
      if (phase === "soldOut") return { ok: false, reason: "sold out" };
      const line = this.#lines.get(product)!;
      const joined = line.join(
        session,
        client,
        this.#clock.randomUUID(),
        this.#settings.maxTicketsPerClient,
      );
      if (!joined.ok) return joined;
      if (joined.created) {
        await this.#signWindowTicket(line, joined.ticket);
        await this.#store.save(product, line.head, [joined.ticket]);
        this.#tell(product);
        // A ticket after the draw may find a unit free and nobody before it: its turn is now.
        await this.#admit(record);
        this.#schedule();
      }
      return { ok: true, ticket: joined.ticket, drawAt: opensAt };
    });
  }

  /**
   * A session's standing in a drop's line.
   *
   * @param product The product's id.
   * @param session The session.
   * @returns Its ticket, number and admission; undefined for a product without a drop.
   */
  turnOf(product: string, session: string): Promise<Turn | undefined> {
    if (this.#inventory.get(product)?.info.opensAt === undefined) {
      return Promise.resolve(undefined);
    }
    const line = this.#lines.get(product);
    const now = this.#clock.now();
    return Promise.resolve(
      line?.turnOf(session, now) ??
        { ticket: null, number: null, admitted: false, admissionExpiresAt: null },
    );
  }

  /**
   * Whether a session may add a product now: any product without a drop, and a drop's only once
   * it opened and the session's number was admitted (or it holds the unit its admission gave).
   * An admitted session's admission is claimed for the add: {@linkcode DropQueues.settle} ends
   * the claim.
   *
   * @param product The product's id.
   * @param session The session.
   * @param holds Whether the session holds a unit of the product (asked only when needed).
   * @returns Yes (and whether the admission was claimed), or why not.
   */
  async mayAdd(
    product: string,
    session: string,
    holds: () => Promise<boolean>,
  ): Promise<AddTurn> {
    const record = this.#inventory.get(product);
    const opensAt = record?.info.opensAt;
    if (record === undefined || opensAt === undefined) return { ok: true, claimed: false };
    const now = this.#clock.now();
    const phase = this.#phaseOf(record, now);
    if (phase === "before" || phase === "queueing") {
      return { ok: false, reason: "not open yet", opensAt };
    }
    if (phase === "soldOut") return { ok: true, claimed: false };
    const line = this.#lines.get(product);
    if (line?.claim(session, now)) return { ok: true, claimed: true };
    if (line?.turnOf(session, now).ticket != null && await holds()) {
      return { ok: true, claimed: false };
    }
    return { ok: false, reason: "not your turn", opensAt };
  }

  /**
   * Ends the claim of an add: it took a unit (the admission is used) or not (it is open again).
   *
   * @param product The product's id.
   * @param session The session.
   * @param took Whether the add took a unit.
   */
  settle(product: string, session: string, took: boolean): Promise<void> {
    return this.#inTurn(product, async () => {
      const line = this.#lines.get(product);
      const ticket = line?.settle(session, took);
      if (line !== undefined && ticket !== undefined) {
        await this.#store.save(product, line.head, [ticket]);
      }
      // A change of the stock met while the add was in flight may not have been acted on.
      const record = this.#inventory.get(product);
      if (record !== undefined) await this.#admit(record);
    });
  }

  /**
   * The published draw of a drop.
   *
   * @param product The product's id.
   * @returns The commitment, seed and order; undefined before the draw or without a drop.
   */
  async draw(product: string): Promise<PublishedDraw | undefined> {
    const line = this.#lines.get(product);
    if (line === undefined || !line.drawn) return undefined;
    const ids = line.numbered();
    let known = this.#published.get(product);
    if (known === undefined) {
      const drawn = ids.filter((_, i) => !line.isLate(i + 1));
      known = { order: [], macs: await ticketMacs(line.seed!, drawn) };
      this.#published.set(product, known);
    }
    // Tickets keep their numbers: only those numbered since the last call are hashed.
    const more = await Promise.all(ids.slice(known.order.length).map(ticketHash));
    known.order = [...known.order, ...more];
    return { commitment: line.commitment!, seed: line.seed!, order: known.order, macs: known.macs };
  }

  /**
   * Sets the owner's controls of a drop: its admit rate, and whether admissions pause.
   *
   * @param product The product's id, of a product with a drop.
   * @param controls The new admit rate (null for the server's), and whether to pause.
   * @returns The drop's status after it.
   */
  control(
    product: string,
    controls: { admitRate?: number | null; paused?: boolean },
  ): Promise<QueueStatus | undefined> {
    return this.#inTurn(product, async () => {
      const record = this.#inventory.get(product);
      if (record?.info.opensAt === undefined) return undefined;
      const line = this.#lineOf(product);
      if (line.control(controls)) {
        await this.#store.save(product, line.head, []);
        this.#tell(product);
        await this.#admit(record);
        this.#schedule();
      }
      return this.status(product);
    });
  }

  /** Stops the timer, waits for operations in flight, and lets the store go. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#unsubscribe?.();
    this.#cancelWake?.();
    await Promise.allSettled(this.#turns.values());
    await this.#store.close();
  }

  #phaseOf(record: ProductState, now: number): DropPhase {
    const line = this.#lines.get(record.info.id) ?? NO_LINE;
    return dropPhase(record, line, now, this.#settings.windowMs);
  }

  #rateOf(line: Line | undefined): number {
    return line?.admitRate ?? this.#settings.admitRate;
  }

  #lineOf(product: string): Line {
    let line = this.#lines.get(product);
    if (line === undefined) this.#lines.set(product, line = new Line(product));
    return line;
  }

  /** Runs one operation of a line after those before it. */
  #inTurn<T>(product: string, operation: () => Promise<T>): Promise<T> {
    const before = this.#turns.get(product) ?? Promise.resolve();
    const result = before.then(operation, operation);
    const settled = result.then(() => {}, () => {});
    this.#turns.set(product, settled);
    // The last operation of a line lets its entry go.
    settled.then(() => {
      if (this.#turns.get(product) === settled) this.#turns.delete(product);
    });
    return result;
  }

  /** Opens the window and draws when their time has come; within a turn of the line. */
  async #prepare(record: ProductState): Promise<void> {
    const product = record.info.id;
    const now = this.#clock.now();
    const opensAt = Date.parse(record.info.opensAt!);
    if (now < opensAt - this.#settings.windowMs) return;
    const line = this.#lineOf(product);
    if (line.seed === null) {
      const seed = newSeed();
      line.openWindow(seed, await commitmentOf(seed));
      await this.#store.save(product, line.head, []);
      this.#tell(product);
    }
    if (now >= opensAt && !line.drawn) {
      // The window's HMACs were made as tickets came (a restart lost them: made now), so the
      // opening is a sort, not 20,000 signatures.
      const macs = this.#windowMacs.get(product) ?? new Map<string, string>();
      const ids = line.unnumbered();
      const missing = ids.filter((id) => !macs.has(id));
      (await ticketMacs(line.seed!, missing)).forEach((mac, i) => macs.set(missing[i], mac));
      const order = orderByMacs(ids, ids.map((id) => macs.get(id)!));
      line.applyDraw(order);
      this.#windowMacs.delete(product);
      this.#macKeys.delete(product);
      this.#published.set(product, { order: [], macs: order.map((id) => macs.get(id)!) });
      await this.#store.save(product, line.head, []);
      this.#tell(product);
    }
  }

  /** Signs a window ticket as it comes, so that the draw has its HMAC ready; within a turn. */
  async #signWindowTicket(line: Line, ticket: Ticket): Promise<void> {
    if (line.drawn || line.seed === null) return;
    let key = this.#macKeys.get(line.product);
    if (key === undefined) this.#macKeys.set(line.product, key = macKey(line.seed));
    let macs = this.#windowMacs.get(line.product);
    if (macs === undefined) this.#windowMacs.set(line.product, macs = new Map());
    macs.set(ticket.id, await ticketMac(await key, ticket.id));
  }

  /** Admits the next numbers the free units allow; within a turn of the line. */
  async #admit(record: ProductState): Promise<void> {
    const line = this.#lines.get(record.info.id);
    if (line === undefined || record.retired) return;
    const changed = line.advance(
      this.#clock.now(),
      inventoryCountOf(record),
      this.#rateOf(line),
      this.#settings.admissionTtlMs,
    );
    if (changed === false) return;
    await this.#store.save(record.info.id, line.head, []);
    if (changed === true) this.#tell(record.info.id);
  }

  #stockChanged(record: ProductState): void {
    if (record.info.opensAt === undefined) return;
    this.#tell(record.info.id);
    // A unit freed (a hold gone, a restock) may admit the next shopper at once.
    this.#step(record.info.id);
  }

  /** Brings a drop up to date within a turn of its line, then sets the timer for what comes next. */
  #step(product: string): void {
    this.#inTurn(product, async () => {
      try {
        const current = this.#inventory.get(product);
        if (current?.info.opensAt === undefined) return;
        await this.#prepare(current);
        await this.#admit(current);
      } finally {
        // Within the turn: whoever waits for the line's turns finds the timer set.
        this.#schedule();
      }
    }).catch((error) => console.error(`the line of "${product}" failed:`, error));
  }

  /** Looks at every drop: windows to open, draws to make, shoppers to admit; then sleeps. */
  #wake(): void {
    this.#cancelWake = undefined;
    this.#wakeAt = Infinity;
    if (this.#closed) return;
    for (const record of this.#inventory.products()) {
      if (record.info.opensAt !== undefined) this.#step(record.info.id);
    }
  }

  /** Sets the timer for the earliest moment a drop changes on its own. */
  #schedule(): void {
    if (this.#closed) return;
    const now = this.#clock.now();
    let next = Infinity;
    for (const record of this.#inventory.products()) {
      const opensAtText = record.info.opensAt;
      if (opensAtText === undefined) continue;
      const opensAt = Date.parse(opensAtText);
      const line = this.#lines.get(record.info.id);
      if (line?.seed == null) next = Math.min(next, opensAt - this.#settings.windowMs);
      else if (!line.drawn) next = Math.min(next, opensAt);
      else next = Math.min(next, line.nextWake(this.#rateOf(line)) ?? Infinity);
    }
    if (next === Infinity || next >= this.#wakeAt) return;
    this.#cancelWake?.();
    this.#wakeAt = next;
    this.#cancelWake = this.#clock.setTimer(() => this.#wake(), Math.max(0, next - now));
  }

  #tell(product: string): void {
    for (const listener of this.#listeners) {
      try {
        listener(product);
      } catch (error) {
        console.error("a drop's listener failed:", error);
      }
    }
  }
}
