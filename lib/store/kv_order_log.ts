/** The order log on Deno KV: a ring of 100 keys and the newest entry's number, in the stock's file. */
import {
  ORDER_LOG_SIZE,
  type OrderChange,
  type OrderEntry,
  orderEntryOf,
  type OrderLog,
  repeatsStatus,
} from "../inventory/order_log.ts";

const LATEST_KEY = ["order_log", "latest"] as const;
const ENTRY_PREFIX = ["order_log", "entry"] as const;

/**
 * How often an append is tried again when another writer of the same file (a second process)
 * committed first; each try reads the log anew.
 */
const MAX_APPEND_TRIES = 20;

/**
 * Keeps the order log in a Deno KV file: entry N at `["order_log", "entry", N % 100]`, so the file
 * never holds more than 100 of them, and N at `["order_log", "latest"]`. An append is one atomic
 * commit checked against `latest`, so it is decided on the log as it was read: its number is the
 * next, and a status the order has already is not appended. This process's appends go one at a
 * time: at a drop's opening many checkouts end at once, and racing commits would refuse each
 * other until their tries ran out; only another process's commit can make one try again.
 *
 * @param path The KV file (the one the stock lives in), or `:memory:`.
 * @returns The log; close it to let the file go.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const log = await openKvOrderLog(":memory:");
 * const time = "2026-12-06T03:00:00.000Z";
 * await log.append({ time, product: "a", orderId: "o1", status: "awaiting payment" });
 * await log.append({ time, product: "a", orderId: "o1", status: "paid" });
 * assert.equal(await log.append({ time, product: "a", orderId: "o1", status: "paid" }), undefined);
 * assert.deepEqual((await log.recent()).map((entry) => [entry.seq, entry.status]), [
 *   [2, "paid"],
 *   [1, "awaiting payment"],
 * ]);
 * assert.equal(await log.latest(), 2);
 * await log.close();
 * ```
 */
export async function openKvOrderLog(path: string): Promise<OrderLog> {
  const kv = await Deno.openKv(path);
  const entries = async (): Promise<OrderEntry[]> => {
    const found: OrderEntry[] = [];
    for await (const entry of kv.list({ prefix: ENTRY_PREFIX })) {
      found.push(orderEntryOf(entry.value));
    }
    return found.sort((a, b) => b.seq - a.seq);
  };
  const latestOf = (value: unknown): number => typeof value === "number" ? value : 0;
  let queue: Promise<unknown> = Promise.resolve();
  // The log as this process last read or wrote it, and the `latest` it goes with: while no other
  // process writes, an append reads one key, not 100 entries.
  let known: { versionstamp: string | null; entries: OrderEntry[] } | undefined;
  const append = async (change: OrderChange & { readonly time: string }) => {
    for (let tries = 0; tries < MAX_APPEND_TRIES; tries++) {
      const latest = await kv.get(LATEST_KEY);
      if (known?.versionstamp !== latest.versionstamp) {
        // Read after `latest`: a log newer than it fails the commit's check, and is read again.
        known = { versionstamp: latest.versionstamp, entries: await entries() };
      }
      if (repeatsStatus(known.entries, change)) return undefined;
      const entry = orderEntryOf({ ...change, seq: latestOf(latest.value) + 1 });
      const committed = await kv.atomic()
        .check(latest)
        .set(LATEST_KEY, entry.seq)
        .set([...ENTRY_PREFIX, entry.seq % ORDER_LOG_SIZE], entry)
        .commit();
      if (committed.ok) {
        known = {
          versionstamp: committed.versionstamp,
          entries: [entry, ...known.entries].slice(0, ORDER_LOG_SIZE),
        };
        return entry;
      }
    }
    throw new Error(`The order log was changed by others ${MAX_APPEND_TRIES} times in a row`);
  };
  return {
    append(change) {
      const appended = queue.then(() => append(change));
      queue = appended.catch(() => {});
      return appended;
    },
    recent: entries,
    async latest() {
      return latestOf((await kv.get(LATEST_KEY)).value);
    },
    close() {
      kv.close();
      return Promise.resolve();
    },
  };
}
