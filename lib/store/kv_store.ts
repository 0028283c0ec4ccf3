/** The inventory kept in Deno KV: a SQLite file on local disk, or memory for throwaway runs. */
import { dirname } from "node:path";
import type { InventoryChange, InventorySnapshot, InventoryStore } from "./port.ts";

/** The path that keeps the store in memory only. */
export const MEMORY_PATH = ":memory:";

/** Total and version; every commit rewrites it, so its versionstamp names the whole state. */
const META_KEY = ["inventory", "meta"] as const;
/** One key per hold under this prefix: the session id, valued with its expiry time. */
const HOLDS_PREFIX = ["inventory", "holds"] as const;

/** Reading meta, the holds, then meta again is retried this often while writers interfere. */
const MAX_LOAD_ATTEMPTS = 50;
/** A commit that finds the file locked by another process is retried this often. */
const MAX_LOCKED_ATTEMPTS = 100;

interface Meta {
  total: number;
  version: number;
}

/**
 * An {@linkcode InventoryStore} on Deno KV.
 *
 * One key holds the total and version and is rewritten and checked by every commit, so a commit
 * computed from an old state is refused even when another process writes the same file.
 *
 * @example
 * ```ts
 * const store = await KvStore.open(":memory:");
 * const stamp = await store.commit({ total: 10, version: 0, put: [], drop: [] }, null);
 * console.log(stamp !== null); // true
 * await store.close();
 * ```
 */
export class KvStore implements InventoryStore {
  readonly #kv: Deno.Kv;
  readonly #pending = new Set<Promise<unknown>>();

  private constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  /**
   * Opens the store, creating the data file's folder when it is missing.
   *
   * @param path A file path, or `:memory:` for a store that ends with the process.
   * @returns The open store.
   */
  static async open(path: string): Promise<KvStore> {
    if (path !== MEMORY_PATH) await Deno.mkdir(dirname(path), { recursive: true });
    return new KvStore(await Deno.openKv(path));
  }

  /**
   * Reads meta, every hold, and meta again, until no commit fell in between.
   *
   * @returns The snapshot, or undefined when nothing was ever stored.
   * @throws {Error} When the stored values are not an inventory, or writers never pause.
   */
  load(): Promise<InventorySnapshot | undefined> {
    return this.#track(async () => {
      for (let attempt = 0; attempt < MAX_LOAD_ATTEMPTS; attempt++) {
        const before = await this.#kv.get<Meta>(META_KEY);
        if (before.versionstamp === null) return undefined;
        const holds: [string, number][] = [];
        for await (const entry of this.#kv.list<number>({ prefix: HOLDS_PREFIX })) {
          holds.push([holdSession(entry.key), holdExpiry(entry.value)]);
        }
        const after = await this.#kv.get<Meta>(META_KEY);
        if (after.versionstamp === before.versionstamp) {
          const { total, version } = metaOf(before.value);
          return { total, version, holds, stamp: before.versionstamp };
        }
      }
      throw new Error("Inventory kept changing while it was read");
    });
  }

  /**
   * Writes a change atomically if meta still has the given versionstamp.
   *
   * @param change What to write.
   * @param stamp The versionstamp the change was computed from; null for an empty store.
   * @returns The new versionstamp, or null when the state moved on.
   * @throws {Error} When the file stays locked by another process.
   */
  commit(change: InventoryChange, stamp: string | null): Promise<string | null> {
    return this.#track(async () => {
      let operation = this.#kv.atomic()
        .check({ key: META_KEY, versionstamp: stamp })
        .set(META_KEY, { total: change.total, version: change.version });
      for (const [session, expiresAt] of change.put) {
        operation = operation.set([...HOLDS_PREFIX, session], expiresAt);
      }
      for (const session of change.drop) {
        operation = operation.delete([...HOLDS_PREFIX, session]);
      }
      for (let attempt = 1;; attempt++) {
        try {
          const result = await operation.commit();
          return result.ok ? result.versionstamp : null;
        } catch (error) {
          // SQLite refuses a writer while another process writes; nothing was written, and the
          // check still guards the retry.
          if (!isLocked(error) || attempt >= MAX_LOCKED_ATTEMPTS) throw error;
          await new Promise((resolve) => setTimeout(resolve, 1 + Math.random() * 4));
        }
      }
    });
  }

  /**
   * Tells whether meta still has the given versionstamp.
   *
   * @param stamp The versionstamp the caller knows.
   * @returns True when nobody wrote since.
   */
  isCurrent(stamp: string): Promise<boolean> {
    return this.#track(async () => (await this.#kv.get(META_KEY)).versionstamp === stamp);
  }

  /** Waits for reads and commits in flight, then closes the database. */
  async close(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
    this.#kv.close();
  }

  #track<T>(work: () => Promise<T>): Promise<T> {
    const promise = work();
    this.#pending.add(promise);
    const forget = () => this.#pending.delete(promise);
    promise.then(forget, forget);
    return promise;
  }
}

function isLocked(error: unknown): boolean {
  return error instanceof Error && error.message.includes("database is locked");
}

function metaOf(value: unknown): Meta {
  const { total, version } = (value ?? {}) as Partial<Meta>;
  if (!isCount(total) || !isCount(version)) {
    throw new Error(`Stored inventory meta is not {total, version}: ${JSON.stringify(value)}`);
  }
  return { total, version };
}

function holdSession(key: Deno.KvKey): string {
  const session = key[HOLDS_PREFIX.length];
  if (typeof session !== "string") throw new Error(`Stored hold key is not a session: ${key}`);
  return session;
}

function holdExpiry(value: unknown): number {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new Error(`Stored hold expiry is not a time: ${JSON.stringify(value)}`);
  }
  return value;
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}
