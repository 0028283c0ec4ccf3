/** What durability costs: one add and one remove on a Deno KV store, beside the cart in memory. */
import { join } from "node:path";
import { ShoppingCart } from "../lib/inventory/cart.ts";
import { KvStore, MEMORY_PATH } from "../lib/store/kv_store.ts";

const TOTAL = 1_000;
const HOLD_TTL_MS = 15 * 60_000;

const memoryCart = new ShoppingCart(TOTAL, { holdTtlMs: HOLD_TTL_MS });
const memoryStore = await KvStore.open(MEMORY_PATH);
const kvMemoryCart = await ShoppingCart.open(memoryStore, {
  total: TOTAL,
  holdTtlMs: HOLD_TTL_MS,
});
const dir = await Deno.makeTempDir({ prefix: "kv_bench_" });
const fileStore = await KvStore.open(join(dir, "inventory.kv"));
const kvFileCart = await ShoppingCart.open(fileStore, { total: TOTAL, holdTtlMs: HOLD_TTL_MS });

globalThis.addEventListener("unload", () => {
  for (const cart of [memoryCart, kvMemoryCart, kvFileCart]) cart.close();
  // Nothing is in flight once the benches are done, so the stores close at once.
  void memoryStore.close();
  void fileStore.close();
  Deno.removeSync(dir, { recursive: true });
});

/** One iteration: a session takes a unit and gives it back (two operations, two versions). */
function addRemove(cart: ShoppingCart): () => Promise<void> {
  const session = crypto.randomUUID();
  return async () => {
    await cart.add(session);
    await cart.remove(session);
  };
}

Deno.bench({
  name: "memory cart",
  group: "add + remove (2 operations)",
  baseline: true,
  fn: addRemove(memoryCart),
});
Deno.bench({
  name: "KV store :memory:",
  group: "add + remove (2 operations)",
  fn: addRemove(kvMemoryCart),
});
Deno.bench({
  name: "KV store on disk",
  group: "add + remove (2 operations)",
  fn: addRemove(kvFileCart),
});

/** Ten shoppers adding at once on one store: the operations queue, one commit each. */
function concurrentAdds(cart: ShoppingCart): () => Promise<void> {
  const sessions = Array.from({ length: 10 }, () => crypto.randomUUID());
  return async () => {
    await Promise.all(sessions.map((session) => cart.add(session)));
    await Promise.all(sessions.map((session) => cart.remove(session)));
  };
}

Deno.bench({
  name: "memory cart",
  group: "10 concurrent adds, then 10 removes",
  baseline: true,
  fn: concurrentAdds(memoryCart),
});
Deno.bench({
  name: "KV store on disk",
  group: "10 concurrent adds, then 10 removes",
  fn: concurrentAdds(kvFileCart),
});
