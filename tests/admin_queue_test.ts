/** The owner steers a drop through the admin API: its admit rate, and pausing and resuming it. */
import assert from "node:assert/strict";
import { Inventory } from "../lib/inventory/inventory.ts";
import { DropQueues } from "../lib/queue/drop_queues.ts";
import { linesInMemory } from "../lib/queue/line_store.ts";
import { openMemoryStore } from "../lib/store/memory_store.ts";
import { FakeClock } from "./support/fake_clock.ts";
import { productInfo } from "./support/products.ts";
import { createTestApp } from "./support/server.ts";

const TOKEN = "admin-token-for-tests-0123456789";

Deno.test("POST /admin/products/:id/queue sets the admit rate and pauses, with clear refusals", async () => {
  const clock = new FakeClock();
  const store = openMemoryStore({ holdTtlMs: 60_000, clock });
  const inventory = await Inventory.open(store, 60_000);
  const opensAt = new Date(clock.now() + 60_000).toISOString();
  await inventory.list({ info: productInfo("drop", { opensAt }), total: 5 });
  await inventory.list({ info: productInfo("plain"), total: 5 });
  const drops = await DropQueues.open(inventory, linesInMemory(), {
    windowMs: 120_000,
    admitRate: 20,
    admissionTtlMs: 60_000,
    maxTicketsPerClient: 0,
  }, clock);
  const app = await createTestApp(inventory, { clock, drops, adminToken: TOKEN });
  const control = async (id: string, body: unknown, token = TOKEN) => {
    const response = await app.handle(
      new Request(`http://localhost/admin/products/${id}/queue`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      }),
    );
    return [response.status, await response.json()] as const;
  };
  try {
    const [code, paused] = await control("drop", { admitRate: 5, paused: true });
    assert.equal(code, 200);
    assert.deepEqual([paused.admitRate, paused.paused, paused.product], [5, true, "drop"]);
    const [, back] = await control("drop", { admitRate: null, paused: false });
    assert.deepEqual([back.admitRate, back.paused], [20, false]);
    assert.ok(back.version > paused.version, "each change is a new version for the pages");

    assert.equal((await control("drop", { paused: true }, "wrong-token-0123456789abcdef"))[0], 403);
    assert.deepEqual(await control("drop", { admitRate: 0 }), [400, {
      error:
        'Field "admitRate" must be a whole number from 1 to 10000, or null for the server\'s, got 0',
    }]);
    assert.deepEqual(await control("drop", { paused: "yes" }), [400, {
      error: 'Field "paused" must be true or false, got "yes"',
    }]);
    assert.deepEqual(await control("nothing", { paused: true }), [404, {
      error: 'No product "nothing"',
    }]);
    assert.deepEqual(await control("plain", { paused: true }), [409, {
      error: 'Product "plain" has no drop: give it an opensAt first',
    }]);
    assert.equal(drops.status("drop")!.paused, false, "refusals changed nothing");
  } finally {
    app.stop();
    await drops.close();
    await store.close();
  }
});
