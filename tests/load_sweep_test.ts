/** Holds that expired while no server ran are over before the store's first snapshot. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { Inventory } from "../lib/inventory/inventory.ts";
import { UNCOUNTED_CLIENT } from "../lib/inventory/store_port.ts";
import { openKvStore } from "../lib/store/kv_store.ts";
import { FakeClock } from "./support/fake_clock.ts";
import { productInfo } from "./support/products.ts";

Deno.test("a store opened after its holds expired counts none of them in its first snapshot", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "inventory.kv");
  const clock = new FakeClock();
  const info = productInfo("print");
  try {
    {
      const store = await openKvStore(path, { holdTtlMs: 60_000, clock, legacyProduct: info });
      await store.list({ info, total: 5 });
      for (let i = 0; i < 3; i++) await store.take("print", crypto.randomUUID(), UNCOUNTED_CLIENT);
      assert.equal((await store.load()).products[0].held, 3);
      await store.close();
    }
    clock.advance(61_000);
    const store = await openKvStore(path, { holdTtlMs: 60_000, clock, legacyProduct: info });
    try {
      const inventory = await Inventory.open(store, 60_000);
      const record = inventory.get("print")!;
      assert.deepEqual([record.held, record.total, record.version], [0, 5, 4]);
    } finally {
      await store.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
