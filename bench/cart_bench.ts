/** The inventory in process, per operation: add and remove, reading the state, waking waiters. */
import { openMemoryShop } from "../tests/support/memory_shop.ts";

/** BENCH_QUICK=1 (CI) wakes fewer waiters at once. */
const QUICK = Deno.env.get("BENCH_QUICK") === "1";
const WAITERS = QUICK ? 100 : 10_000;

const shop = await openMemoryShop({ print: 1_000_000 });
const topic = shop.topic("print");
const add = (session: string) => shop.inventory.add("print", session);
const remove = (session: string) => shop.inventory.remove("print", session);
const session = crypto.randomUUID();
const holders = new Set<string>();

/** A waiter on the topic, as a long poll holds one: resolves at the next change. */
function nextChange(): Promise<void> {
  const { promise, resolve } = Promise.withResolvers<void>();
  topic.wait(undefined, resolve);
  return promise;
}

Deno.bench({
  name: "Set add + delete (baseline)",
  group: "add + remove",
  baseline: true,
  fn() {
    holders.add(session);
    holders.delete(session);
  },
});

Deno.bench({
  name: "inventory.add + inventory.remove (store in memory)",
  group: "add + remove",
  async fn() {
    await add(session);
    await remove(session);
  },
});

Deno.bench({
  name: "JSON.stringify of a state (baseline)",
  group: "state",
  baseline: true,
  fn() {
    JSON.stringify({ product: "print", inventoryCount: 10, version: 1, epoch: "8f71e78e" });
  },
});

Deno.bench({
  name: "topic.opening() (serialized once per change)",
  group: "state",
  fn() {
    topic.opening();
  },
});

Deno.bench({
  name: "resolve a promise (baseline)",
  group: "one waiter",
  baseline: true,
  async fn() {
    const { promise, resolve } = Promise.withResolvers<void>();
    resolve();
    await promise;
  },
});

Deno.bench({
  name: "a waiter woken by an add",
  group: "one waiter",
  async fn() {
    const woken = nextChange();
    await add(session);
    await woken;
    await remove(session);
  },
});

Deno.bench({
  name: `resolve ${WAITERS} promises (baseline)`,
  group: `${WAITERS} waiters`,
  baseline: true,
  async fn() {
    const pending = Array.from({ length: WAITERS }, () => Promise.withResolvers<void>());
    for (const { resolve } of pending) resolve();
    await Promise.all(pending.map(({ promise }) => promise));
  },
});

Deno.bench({
  name: `${WAITERS} waiters woken by one add`,
  group: `${WAITERS} waiters`,
  async fn() {
    const woken = Array.from({ length: WAITERS }, nextChange);
    await add(session);
    await Promise.all(woken);
    await remove(session);
  },
});
