/** A store whose books live in this process: decided by plain code, written by an engine if any. */
import type { Clock } from "../inventory/clock.ts";
import { ExpiryHeap } from "../inventory/expiry_heap.ts";
import {
  endOf,
  type Hold,
  type ProductLedger,
  type ProductRecord,
  recordOf,
} from "../inventory/ledger.ts";
import {
  beginCheckout,
  type CheckoutStart,
  completeSale,
  describe,
  endCheckout,
  expireHolds,
  MAX_EXPIRIES_PER_CHANGE,
  type Refusal,
  releaseUnit,
  restock,
  retire,
  takeUnit,
} from "../inventory/rules.ts";
import { Book, type BookChange, BookDraft, type ProductMeta } from "./book.ts";
import type {
  HeldUnit,
  InventoryStore,
  Listing,
  PendingCheckout,
  StoreOutcome,
  StoreSnapshot,
} from "./port.ts";

/** A product as an engine stores it, with the stamp that names its stored state. */
export interface StoredProduct {
  /** Its fields. */
  readonly meta: ProductMeta;
  /** Its holds, by session. */
  readonly holds: ReadonlyArray<readonly [string, Hold]>;
  /** Its sales: session and order id. */
  readonly sales: ReadonlyArray<readonly [string, string]>;
  /** Names the stored state; a commit against another is refused. */
  readonly stamp: string;
}

/** One product's part of a commit. */
export interface ProductWrite {
  /** The product's id. */
  readonly id: string;
  /** What changed. */
  readonly change: BookChange;
  /** The stamp it was decided on; null for a product not stored yet. */
  readonly stamp: string | null;
}

/** Writes changes durably; a store without one keeps everything in memory. */
export interface StoreEngine {
  /**
   * Writes every product's change at once, if each is still at its stamp.
   *
   * @param writes The changes.
   * @returns The new stamp of each product, or null when one moved on (nothing was written).
   */
  commit(writes: readonly ProductWrite[]): Promise<Map<string, string> | null>;
  /**
   * Reads products again, after a refused commit.
   *
   * @param ids The products.
   * @returns Each one found.
   */
  reload(ids: readonly string[]): Promise<Map<string, StoredProduct>>;
  /**
   * Reads the stamps of products, to tell whether memory is still current.
   *
   * @param ids The products.
   * @returns Each one's stamp, null for a product not stored.
   */
  stamps(ids: readonly string[]): Promise<Map<string, string | null>>;
  /** Releases the engine. */
  close(): Promise<void>;
}

/** How a local store expires holds. */
export interface LocalStoreOptions {
  /** How long a hold lasts after the shopper's last add, in ms. */
  holdTtlMs: number;
  /** The time source. */
  clock: Clock;
}

/** The ledgers one operation decides on. */
interface Ledgers {
  /** The product's ledger, its due holds expired; undefined for an unknown product. */
  get(id: string): ProductLedger | undefined;
  /** A ledger for a product that is not stored yet. */
  create(listing: Listing): ProductLedger;
}

type Decide<T> = (ledgers: Ledgers, now: number) => T;

interface Queued {
  readonly decide: Decide<unknown>;
  /** An answer that writes nothing must first check that memory was current. */
  readonly verify: boolean;
  readonly resolve: (answer: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/** Commits refused (another process wrote first) before an operation gives up. */
const MAX_REFUSED_COMMITS = 50;
/** Deno KV allows 100 checks and 1,000 mutations per commit; a batch stays well inside them. */
const MAX_PRODUCTS_PER_COMMIT = 90;
const MAX_MUTATIONS_PER_COMMIT = 900 - MAX_EXPIRIES_PER_CHANGE;
/** Operations committed together at most. */
const MAX_BATCH_OPERATIONS = 200;

/**
 * An {@linkcode InventoryStore} that keeps every product's book in this process.
 *
 * Without an engine every operation is decided and applied at once. With one, operations are
 * batched: those that arrive while a commit is in flight are decided in order on drafts and
 * committed together by the next one (group commit), each answered with the state right after
 * it. A commit the engine refuses (another process wrote since) reloads those products and
 * decides the batch again.
 */
export class LocalStore implements InventoryStore {
  readonly kind: string;
  readonly #epoch: string;
  readonly #books = new Map<string, Book>();
  readonly #stamps = new Map<string, string | null>();
  /** Product → when its first hold ends. */
  readonly #expiries = new ExpiryHeap();
  readonly #listeners = new Set<(record: ProductRecord) => void>();
  readonly #options: LocalStoreOptions;
  readonly #engine: StoreEngine | undefined;
  #queue: Queued[] = [];
  #draining: Promise<void> | undefined;
  #timerAt = Infinity;
  #cancelTimer: (() => void) | undefined;
  #closed = false;
  #warnedOfWriter = false;

  /**
   * @param kind The engine's name.
   * @param epoch The store's epoch.
   * @param products What the engine holds.
   * @param options Hold lifetime and clock.
   * @param engine Where changes are written; none keeps them in memory.
   */
  constructor(
    kind: string,
    epoch: string,
    products: Iterable<StoredProduct>,
    options: LocalStoreOptions,
    engine?: StoreEngine,
  ) {
    this.kind = kind;
    this.#epoch = epoch;
    this.#options = options;
    this.#engine = engine;
    for (const product of products) this.#adopt(product);
    this.#armTimer();
  }

  /** @inheritdoc */
  load(): Promise<StoreSnapshot> {
    return this.#transact(() => ({
      epoch: this.#epoch,
      products: [...this.#books.values()].map(recordOf),
    }), false);
  }

  /** @inheritdoc */
  holdsOf(session: string): Promise<HeldUnit[]> {
    const now = this.#options.clock.now();
    const units: HeldUnit[] = [];
    for (const [product, book] of this.#books) {
      const hold = book.holdOf(session);
      if (hold !== undefined && endOf(hold) > now) {
        units.push({ product, expiresAt: hold.expiresAt });
      }
    }
    return Promise.resolve(units);
  }

  /** @inheritdoc */
  take(product: string, session: string): Promise<StoreOutcome> {
    return this.#onProduct(
      product,
      (ledger, now) => takeUnit(ledger, session, now, this.#options.holdTtlMs),
    );
  }

  /** @inheritdoc */
  release(product: string, session: string): Promise<StoreOutcome> {
    return this.#onProduct(product, (ledger) => releaseUnit(ledger, session));
  }

  /** @inheritdoc */
  restock(product: string, total: number): Promise<StoreOutcome> {
    return this.#onProduct(product, (ledger) => {
      restock(ledger, total);
      return { ok: true, inCart: false };
    });
  }

  /** @inheritdoc */
  async retire(product: string): Promise<StoreOutcome> {
    // A commit takes at most 1,000 mutations: each step of the retirement is a commit of its own.
    for (;;) {
      let retired = false;
      const outcome = await this.#onProduct(product, (ledger) => {
        retired = retire(ledger);
        return { ok: true, inCart: false };
      });
      if (!outcome.ok || retired) return outcome;
    }
  }

  /** @inheritdoc */
  list(listing: Listing): Promise<{ record: ProductRecord; created: boolean }> {
    return this.#transact((ledgers) => {
      const id = listing.info.id;
      const found = ledgers.get(id);
      const ledger = found ?? ledgers.create(listing);
      describe(ledger, listing.info);
      if (listing.total !== undefined) restock(ledger, listing.total);
      if (listing.fromFile) ledger.listedTotal = listing.total ?? null;
      // A new product's life starts at version 0, as a page first sees it.
      if (found === undefined) ledger.version = 0;
      return { record: recordOf(ledger), created: found === undefined };
    }, false);
  }

  /** @inheritdoc */
  beginCheckout(product: string, session: string, newOrderId: string): Promise<CheckoutStart> {
    return this.#transact((ledgers): CheckoutStart => {
      const ledger = ledgers.get(product);
      if (ledger === undefined) return { kind: "refused", reason: "retired" };
      return beginCheckout(ledger, session, newOrderId);
    }, false);
  }

  /** @inheritdoc */
  completeSale(product: string, session: string, orderId: string): Promise<StoreOutcome> {
    return this.#onProduct(
      product,
      (ledger) =>
        completeSale(ledger, session, orderId)
          ? { ok: true, inCart: false }
          : { ok: false, reason: "checkout in progress" },
    );
  }

  /** @inheritdoc */
  endCheckout(product: string, session: string, orderId: string): Promise<void> {
    return this.#transact((ledgers) => {
      const ledger = ledgers.get(product);
      if (ledger !== undefined) endCheckout(ledger, session, orderId);
    }, false);
  }

  /** @inheritdoc */
  pendingCheckouts(): Promise<PendingCheckout[]> {
    const pending: PendingCheckout[] = [];
    for (const [product, book] of this.#books) {
      for (const [session, hold] of book.holds()) {
        if (hold.checkingOut && hold.orderId !== null) {
          pending.push({ product, session, orderId: hold.orderId, heldAt: hold.heldAt });
        }
      }
    }
    return Promise.resolve(pending);
  }

  /** @inheritdoc */
  onChange(listener: (record: ProductRecord) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** @inheritdoc */
  async close(): Promise<void> {
    this.#closed = true;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    while (this.#draining !== undefined) await this.#draining;
    await this.#engine?.close();
  }

  #onProduct(
    product: string,
    decide: (ledger: ProductLedger, now: number) =>
      | { ok: true; inCart: boolean }
      | { ok: false; reason: Refusal },
  ): Promise<StoreOutcome> {
    return this.#transact((ledgers, now): StoreOutcome => {
      const ledger = ledgers.get(product);
      if (ledger === undefined) return { ok: false, reason: "unknown product" };
      const decision = decide(ledger, now);
      const record = recordOf(ledger);
      return decision.ok
        ? { ok: true, record, inCart: decision.inCart }
        : { ok: false, reason: decision.reason, record };
    });
  }

  /** Runs one operation: at once in memory, else in the next batch of the engine. */
  #transact<T>(decide: Decide<T>, verify = true): Promise<T> {
    if (this.#engine === undefined) {
      try {
        return Promise.resolve(this.#decideInMemory(decide));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    const { promise, resolve, reject } = Promise.withResolvers<T>();
    this.#queue.push({ decide, verify, resolve: resolve as (answer: unknown) => void, reject });
    this.#draining ??= this.#drain();
    return promise;
  }

  #decideInMemory<T>(decide: Decide<T>): T {
    const now = this.#options.clock.now();
    const touched = new Map<string, Book>();
    const before = new Map<string, ProductMeta>();
    const ledgers: Ledgers = {
      get: (id) => {
        const book = this.#books.get(id);
        if (book === undefined) return undefined;
        if (!touched.has(id)) {
          touched.set(id, book);
          before.set(id, { ...book });
          while (expireHolds(book, now) === MAX_EXPIRIES_PER_CHANGE);
        }
        return book;
      },
      create: (listing) => {
        const book = new Book(listing.info, 0);
        this.#books.set(listing.info.id, book);
        touched.set(listing.info.id, book);
        return book;
      },
    };
    const answer = decide(ledgers, now);
    for (const [id, book] of touched) this.#changed(id, book, before.get(id));
    this.#armTimer();
    return answer;
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
      this.#armTimer();
    }
  }

  /** Decides a batch on drafts and commits it, reloading after each refusal. */
  async #runBatch(batch: Queued[]): Promise<{ answers: unknown[]; deferred: Queued[] }> {
    const engine = this.#engine!;
    for (let refused = 0; refused < MAX_REFUSED_COMMITS; refused++) {
      const now = this.#options.clock.now();
      const drafts = new Map<string, BookDraft>();
      const created = new Map<string, Book>();
      let mutations = 0;
      const ledgers: Ledgers = {
        get: (id) => {
          let draft = drafts.get(id);
          if (draft !== undefined) return draft;
          const book = created.get(id) ?? this.#books.get(id);
          if (book === undefined) return undefined;
          draft = new BookDraft(book);
          drafts.set(id, draft);
          expireHolds(draft, now);
          return draft;
        },
        create: (listing) => {
          const book = new Book(listing.info, 0);
          created.set(listing.info.id, book);
          const draft = new BookDraft(book);
          drafts.set(listing.info.id, draft);
          return draft;
        },
      };
      const answers: unknown[] = [];
      let deferred: Queued[] = [];
      for (let i = 0; i < batch.length; i++) {
        if (drafts.size >= MAX_PRODUCTS_PER_COMMIT || mutations >= MAX_MUTATIONS_PER_COMMIT) {
          deferred = batch.slice(i);
          break;
        }
        answers.push(batch[i].decide(ledgers, now));
        mutations = 0;
        for (const draft of drafts.values()) mutations += draft.writes + 1;
      }
      const writes: ProductWrite[] = [];
      for (const [id, draft] of drafts) {
        if (draft.changed) {
          writes.push({ id, change: draft.change(), stamp: this.#stamps.get(id) ?? null });
        }
      }
      const decided = batch.slice(0, answers.length);
      if (writes.length > 0) {
        const stamps = await engine.commit(writes);
        if (stamps !== null) {
          for (const write of writes) {
            const book = created.get(write.id) ?? this.#books.get(write.id)!;
            const before = this.#books.has(write.id) ? { ...book } : undefined;
            book.apply(write.change);
            this.#books.set(write.id, book);
            this.#stamps.set(write.id, stamps.get(write.id)!);
            this.#changed(write.id, book, before);
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
    const stamps = await this.#engine!.stamps(ids);
    return ids.every((id) => stamps.get(id) === (this.#stamps.get(id) ?? null));
  }

  async #reload(ids: string[]): Promise<void> {
    const found = await this.#engine!.reload(ids);
    for (const id of ids) {
      const stored = found.get(id);
      const book = this.#books.get(id);
      const before = book && { ...book };
      if (stored === undefined) continue;
      this.#adopt(stored);
      this.#changed(id, this.#books.get(id)!, before);
    }
  }

  #adopt(stored: StoredProduct): void {
    const book = new Book(stored.meta.info, stored.meta.total);
    book.setMeta(stored.meta);
    for (const [session, hold] of stored.holds) book.hold(session, hold);
    for (const [session, orderId] of stored.sales) book.recordSale(session, orderId);
    this.#books.set(stored.meta.info.id, book);
    this.#stamps.set(stored.meta.info.id, stored.stamp);
    this.#expiries.set(stored.meta.info.id, book.firstExpiry());
  }

  /** Keeps the expiry index and tells listeners when a product's public state moved. */
  #changed(id: string, book: Book, before: ProductMeta | undefined): void {
    this.#expiries.set(id, book.firstExpiry());
    if (before !== undefined && before.version === book.version && before.info === book.info) {
      return;
    }
    const record = recordOf(book);
    for (const listener of this.#listeners) {
      try {
        listener(record);
      } catch (error) {
        // One broken listener must not keep the news from the others.
        console.error("store listener failed:", error);
      }
    }
  }

  /** Keeps one timer, set for the first hold due in any product. */
  #armTimer(): void {
    const at = this.#closed ? Infinity : this.#expiries.firstExpiry();
    if (at === this.#timerAt) return;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    this.#timerAt = at;
    if (at === Infinity) return;
    const { clock } = this.#options;
    this.#cancelTimer = clock.setTimer(() => {
      this.#cancelTimer = undefined;
      this.#timerAt = Infinity;
      // Visiting each due product expires its holds (and, in memory, applies at once). One
      // operation per product, so that a batch can split them over commits KV takes.
      const due = this.#expiries.due(clock.now(), MAX_PRODUCTS_PER_COMMIT);
      Promise.all(due.map((id) =>
        this.#transact((ledgers) => {
          ledgers.get(id);
        }, false).catch((error) => console.error("expiring holds failed:", error))
      ))
        // A timer that fired early finds nothing due and must be set again.
        .finally(() => this.#armTimer());
    }, at - clock.now());
  }
}
