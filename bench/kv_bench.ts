/** What durability costs: one add and one remove on a Deno KV store, beside the store in memory. */
import { join } from "node:path";
import { systemClock } from "../lib/time/clock.ts";
import { Inventory } from "../lib/inventory/inventory.ts";
import { DEMO_PRODUCT } from "../lib/server/demo_catalog.ts";
import { MEMORY_PATH } from "../lib/server/start_server.ts";
import { openKvStore } from "../lib/store/kv_store.ts";
import { openMemoryStore } from "../lib/store/memory_store.ts";
import type { InventoryStore } from "../lib/inventory/store_port.ts";

const TOTAL = 1_000;
const HOLD_TTL_MS = 15 * 60_000;
const PRODUCT = DEMO_PRODUCT.id;

const options = { holdTtlMs: HOLD_TTL_MS, clock: systemClock, legacyProduct: DEMO_PRODUCT };
const dir = await Deno.makeTempDir({ prefix: "kv_bench_" });
const stores: InventoryStore[] = [
  openMemoryStore(options),
  await openKvStore(MEMORY_PATH, options),
  await openKvStore(join(dir, "inventory.kv"), options),
];
const [memory, kvMemory, kvFile] = await Promise.all(stores.map(async (store) => {
  const inventory = await Inventory.open(store, HOLD_TTL_MS);
  await inventory.list({ info: DEMO_PRODUCT, total: TOTAL });
  return inventory;
}));

globalThis.addEventListener("unload", () => {
  // Nothing is in flight once the benches are done, so the stores close at once.
  for (const store of stores) void store.close();
  Deno.removeSync(dir, { recursive: true });
});

/** One iteration: a session takes a unit and gives it back (two operations, two versions). */
function addRemove(inventory: Inventory): () => Promise<void> {
  const session = crypto.randomUUID();
  return async () => {
    await inventory.add(PRODUCT, session);
    await inventory.remove(PRODUCT, session);
  };
}

Deno.bench({
  name: "store in memory",
  group: "add + remove (2 operations)",
  baseline: true,
  fn: addRemove(memory),
});
Deno.bench({
  name: "KV store :memory:",
  group: "add + remove (2 operations)",
  fn: addRemove(kvMemory),
});
Deno.bench({
  name: "KV store on disk",
  group: "add + remove (2 operations)",
  fn: addRemove(kvFile),
});

/** Ten shoppers adding at once on one store: the operations queue, one commit each. */
function concurrentAdds(inventory: Inventory): () => Promise<void> {
  const sessions = Array.from({ length: 10 }, () => crypto.randomUUID());
  return async () => {
    await Promise.all(sessions.map((session) => inventory.add(PRODUCT, session)));
    await Promise.all(sessions.map((session) => inventory.remove(PRODUCT, session)));
  };
}

Deno.bench({
  name: "store in memory",
  group: "10 concurrent adds, then 10 removes",
  baseline: true,
  fn: concurrentAdds(memory),
});
Deno.bench({
  name: "KV store on disk",
  group: "10 concurrent adds, then 10 removes",
  fn: concurrentAdds(kvFile),
});
