/** The inventory kept in Deno KV: a SQLite file on local disk, one checked key per product. */
import { dirname } from "node:path";
import type { Hold, Sale } from "../inventory/ledger.ts";
import type { ProductInfo } from "../inventory/product.ts";
import {
  type FieldValues,
  newStoredState,
  STORED_FIELD_NAMES,
  STORED_FIELDS,
  type StoredState,
} from "../inventory/ledger.ts";
import type { ProductWrite, StoredProduct, StoreEngine } from "./engine.ts";
import { LocalStore, type LocalStoreOptions } from "./local_store.ts";
import { newEpoch } from "./memory_store.ts";

/** The store's epoch. */
const EPOCH_KEY = ["catalog", "epoch"] as const;
/** One key per product, holding its fields; every commit that touches it rewrites and checks it. */
const PRODUCT_PREFIX = ["product"] as const;
/** One key per hold: product, session → the hold (a plain expiry time in older files). */
const HOLD_PREFIX = ["hold"] as const;
/** One key per session that bought a product: product, session → its {@linkcode Sale}. */
const SALE_PREFIX = ["sale"] as const;
/** The one-product layout of earlier versions, carried over into the current one on open. */
const LEGACY_META_KEY = ["inventory", "meta"] as const;
const LEGACY_HOLDS_PREFIX = ["inventory", "holds"] as const;

/** Reading products, holds, then products again is retried this often while writers interfere. */
const MAX_LOAD_ATTEMPTS = 50;
/** Mutations per commit when carrying over the old layout, below Deno KV's bound. */
const MAX_LEGACY_MUTATIONS = 900;
/** A commit that finds the file locked by another process is retried this often. */
const MAX_LOCKED_ATTEMPTS = 100;

/** What opening a KV store needs. */
export interface KvStoreOptions extends LocalStoreOptions {
  /** The product that a data file of the one-product layout becomes. */
  legacyProduct: ProductInfo;
}

/**
 * Opens a store on Deno KV, creating the data file's folder and an epoch when they are missing.
 *
 * A data file written by the one-product versions is carried over first: its total, version and
 * holds become those of `legacyProduct`, in one commit.
 *
 * @param path A file path, or `:memory:` for a KV that ends with the process.
 * @param options Hold lifetime, clock and the legacy product.
 * @returns The store, with every product read.
 * @throws {Error} When the file is not a KV database or holds something else.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemClock } from "../time/clock.ts";
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * const store = await openKvStore(":memory:", { holdTtlMs: 60_000, clock: systemClock, legacyProduct: info });
 * await store.list({ info, total: 2 });
 * assert.equal((await store.load()).products[0].total, 2);
 * await store.close();
 * ```
 */
export async function openKvStore(path: string, options: KvStoreOptions): Promise<LocalStore> {
  if (path !== ":memory:") await Deno.mkdir(dirname(path), { recursive: true });
  const kv = await Deno.openKv(path);
  try {
    await carryOverLegacy(kv, options.legacyProduct);
    const epoch = await epochOf(kv);
    const engine = new KvEngine(kv);
    return new LocalStore("kv", epoch, await engine.loadAll(), options, engine);
  } catch (error) {
    kv.close();
    throw error;
  }
}

async function epochOf(kv: Deno.Kv): Promise<string> {
  for (;;) {
    const stored = await kv.get<string>(EPOCH_KEY);
    if (typeof stored.value === "string") return stored.value;
    const epoch = newEpoch();
    const result = await kv.atomic().check(stored).set(EPOCH_KEY, epoch).commit();
    if (result.ok) return epoch;
  }
}

async function carryOverLegacy(kv: Deno.Kv, info: ProductInfo): Promise<void> {
  const legacy = await kv.get<{ total: number; version: number }>(LEGACY_META_KEY);
  if (legacy.versionstamp === null) return;
  const { total, version } = legacy.value;
  const state: StoredState = { ...newStoredState(info), total, version };
  // Deno KV bounds the mutations of a commit: the holds move in chunks, each only while the old
  // product is there, and the product comes last, so a start cut short moves the rest next time.
  let operation = kv.atomic().check(legacy);
  let mutations = 0;
  for await (const entry of kv.list<number>({ prefix: LEGACY_HOLDS_PREFIX })) {
    const session = entry.key[LEGACY_HOLDS_PREFIX.length] as string;
    operation = operation.delete(entry.key).set([...HOLD_PREFIX, info.id, session], entry.value);
    mutations += 2;
    if (mutations >= MAX_LEGACY_MUTATIONS) {
      // Refused: another process carried the file over meanwhile.
      if (!(await operation.commit()).ok) return;
      operation = kv.atomic().check(legacy);
      mutations = 0;
    }
  }
  await operation.delete(LEGACY_META_KEY).set([...PRODUCT_PREFIX, info.id], state).commit();
}

class KvEngine implements StoreEngine {
  readonly #kv: Deno.Kv;

  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  /** Reads products, every hold, and products again, until no commit fell in between. */
  async loadAll(): Promise<StoredProduct[]> {
    for (let attempt = 0; attempt < MAX_LOAD_ATTEMPTS; attempt++) {
      const before = await this.#states();
      const holds = await this.#byProduct(HOLD_PREFIX, holdOf);
      const sales = await this.#byProduct(SALE_PREFIX, saleOf);
      const after = await this.#states();
      if (sameStamps(before, after)) {
        return [...before.values()].map(({ state, stamp }) => ({
          state,
          stamp,
          holds: holds.get(state.info.id) ?? [],
          sales: sales.get(state.info.id) ?? [],
        }));
      }
    }
    throw new Error("Inventory kept changing while it was read");
  }

  async commit(writes: readonly ProductWrite[]): Promise<Map<string, string> | null> {
    let operation = this.#kv.atomic();
    for (const { id, change, stamp } of writes) {
      const key = [...PRODUCT_PREFIX, id];
      operation = operation.check({ key, versionstamp: stamp }).set(key, change.state);
      for (const [session, expiresAt] of change.put) {
        operation = operation.set([...HOLD_PREFIX, id, session], expiresAt);
      }
      for (const session of change.drop) {
        operation = operation.delete([...HOLD_PREFIX, id, session]);
      }
      for (const [session, sale] of change.sales) {
        operation = operation.set([...SALE_PREFIX, id, session], sale);
      }
    }
    for (let attempt = 1;; attempt++) {
      try {
        const result = await operation.commit();
        if (!result.ok) return null;
        return new Map(writes.map(({ id }) => [id, result.versionstamp]));
      } catch (error) {
        // SQLite refuses a writer while another process writes; nothing was written, and the
        // checks still guard the retry.
        if (!isLocked(error) || attempt >= MAX_LOCKED_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * 4));
      }
    }
  }

  async reload(ids: readonly string[]): Promise<Map<string, StoredProduct>> {
    const found = new Map<string, StoredProduct>();
    for (const id of ids) {
      for (let attempt = 0;; attempt++) {
        const before = await this.#kv.get<StoredState>([...PRODUCT_PREFIX, id]);
        if (before.versionstamp === null) break;
        const holds = (await this.#byProduct([...HOLD_PREFIX, id], holdOf)).get(id) ?? [];
        const sales = (await this.#byProduct([...SALE_PREFIX, id], saleOf)).get(id) ?? [];
        const after = await this.#kv.get([...PRODUCT_PREFIX, id]);
        if (after.versionstamp === before.versionstamp) {
          found.set(id, {
            state: storedStateFrom(before.value),
            holds,
            sales,
            stamp: before.versionstamp,
          });
          break;
        }
        if (attempt >= MAX_LOAD_ATTEMPTS) throw new Error(`Product "${id}" kept changing`);
      }
    }
    return found;
  }

  async stamps(ids: readonly string[]): Promise<Map<string, string | null>> {
    const entries = await this.#kv.getMany(ids.map((id) => [...PRODUCT_PREFIX, id]));
    return new Map(ids.map((id, i) => [id, entries[i].versionstamp]));
  }

  close(): Promise<void> {
    this.#kv.close();
    return Promise.resolve();
  }

  /** Reads `[kind, product, session] → value` keys under a prefix, by product. */
  async #byProduct<T>(
    prefix: Deno.KvKey,
    valueOf: (value: unknown) => T,
  ): Promise<Map<string, [string, T][]>> {
    const found = new Map<string, [string, T][]>();
    for await (const entry of this.#kv.list({ prefix })) {
      const [, product, session] = entry.key;
      if (typeof product !== "string" || typeof session !== "string") {
        throw new Error(`Stored key is not a product and session: ${String(entry.key)}`);
      }
      const list = found.get(product) ?? [];
      list.push([session, valueOf(entry.value)]);
      found.set(product, list);
    }
    return found;
  }

  async #states(): Promise<Map<string, { state: StoredState; stamp: string }>> {
    const states = new Map<string, { state: StoredState; stamp: string }>();
    for await (const entry of this.#kv.list<StoredState>({ prefix: PRODUCT_PREFIX })) {
      const state = storedStateFrom(entry.value);
      states.set(state.info.id, { state, stamp: entry.versionstamp });
    }
    return states;
  }
}

function sameStamps(
  a: Map<string, { stamp: string }>,
  b: Map<string, { stamp: string }>,
): boolean {
  return a.size === b.size && [...a].every(([id, { stamp }]) => b.get(id)?.stamp === stamp);
}

function isLocked(error: unknown): boolean {
  return error instanceof Error && error.message.includes("database is locked");
}

/** How a stored value of each kind of field is checked. */
const KIND_CHECKS: { readonly [K in keyof FieldValues]: (value: unknown) => boolean } = {
  info: (value) => typeof (value as { id?: unknown } | null)?.id === "string",
  count: isCount,
  flag: (value) => typeof value === "boolean",
  "optional count": (value) => value === null || isCount(value),
  "optional listing": (value) => {
    const listed = value as { info?: { id?: unknown }; place?: unknown } | null;
    return listed === null || (typeof listed?.info?.id === "string" && isCount(listed.place));
  },
};

/** Checks a stored product's fields against {@linkcode STORED_FIELDS}. */
function storedStateFrom(value: unknown): StoredState {
  const stored = (typeof value === "object" && value !== null ? value : {}) as Record<
    string,
    unknown
  >;
  const state: Record<string, unknown> = {};
  for (const field of STORED_FIELD_NAMES) {
    const kind = STORED_FIELDS[field];
    // An optional field is missing from files written before it existed.
    const found = stored[field] === undefined && kind.startsWith("optional ")
      ? null
      : stored[field];
    if (!KIND_CHECKS[kind](found)) {
      throw new Error(`Stored product is not a product: ${JSON.stringify(value)}`);
    }
    state[field] = found;
  }
  return state as StoredState;
}

function holdOf(value: unknown): Hold {
  // Files of the versions before checkout kept a hold as its expiry time alone.
  if (typeof value === "number" && Number.isFinite(value)) {
    return { expiresAt: value, heldAt: value, orderId: null, checkingOut: false };
  }
  const hold = value as Partial<Hold> | null;
  if (
    typeof hold?.expiresAt !== "number" || typeof hold.heldAt !== "number" ||
    (hold.orderId !== null && typeof hold.orderId !== "string") ||
    typeof hold.checkingOut !== "boolean" ||
    (hold.client !== undefined && typeof hold.client !== "string") ||
    (hold.payBy !== undefined && typeof hold.payBy !== "number")
  ) {
    throw new Error(`Stored hold is not a hold: ${JSON.stringify(value)}`);
  }
  return hold as Hold;
}

function saleOf(value: unknown): Sale {
  // A sale stored before sales were counted is its order id alone: one unit.
  if (typeof value === "string") return { orderId: value, count: 1 };
  const sale = value as Partial<Sale> | null;
  if (typeof sale?.orderId !== "string" || !isCount(sale.count)) {
    throw new Error(`Stored sale is not a sale: ${JSON.stringify(value)}`);
  }
  return sale as Sale;
}

function isCount(value: unknown): boolean {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
