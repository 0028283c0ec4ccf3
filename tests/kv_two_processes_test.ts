/** Two server processes on one data file by mistake: the checked commits still never oversell. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { DEMO, spawnServer } from "./support/server.ts";
import { postCart } from "./support/clients.ts";

/** Every add of these tests comes from one address: the per-address limit of holds is not their subject. */
const UNCOUNTED = ["--max-holds-per-client", "0"];

Deno.test("two processes racing 200 adds for 10 units sell exactly 10", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kv_two_" });
  const path = join(dir, "inventory.kv");
  try {
    await using first = await spawnServer([...UNCOUNTED, "--data", path, "--inventory", "10"]);
    await using second = await spawnServer([...UNCOUNTED, "--data", path]);
    const servers = [first.url, second.url];

    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) => postCart(servers[i % 2], "add", crypto.randomUUID())),
    );
    const statuses = answers.map((answer) => answer.status);
    assert.equal(statuses.filter((status) => status === 200).length, 10, String(statuses));
    assert.equal(statuses.filter((status) => status === 409).length, 190, String(statuses));
    const sold = answers.filter((answer) => answer.status === 200);
    assert.deepEqual(
      sold.map((answer) => answer.body.version).sort((a, b) => a - b),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
      "every sale got its own version",
    );

    // Both processes now answer from the stored truth.
    for (const url of servers) {
      const late = await postCart(url, "add", crypto.randomUUID());
      assert.equal(late.status, 409);
      assert.deepEqual(late.body, {
        error: "sold out",
        product: DEMO,
        inventoryCount: 0,
        version: 10,
      });
    }
    using kv = await Deno.openKv(path);
    const holds = await Array.fromAsync(kv.list({ prefix: ["hold", DEMO] }));
    assert.equal(holds.length, 10);
    const stored = (await kv.get<{ total: number; version: number }>(["product", DEMO])).value;
    assert.deepEqual([stored?.total, stored?.version], [10, 10]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("two processes on one catalog race adds over two products and sell exactly each stock", async () => {
  const dir = await Deno.makeTempDir({ prefix: "kv_two_" });
  const path = join(dir, "inventory.kv");
  const catalog = join(import.meta.dirname!, "..", "docs", "catalog.example.json");
  try {
    await using first = await spawnServer([...UNCOUNTED, "--data", path, "--catalog", catalog]);
    await using second = await spawnServer([...UNCOUNTED, "--data", path, "--catalog", catalog]);
    assert.doesNotMatch(second.output(), /Catalog: /, "the second start finds the file applied");
    const servers = [first.url, second.url];
    const totals = { "night-sky-print": 10, "canvas-tote": 25 };
    const answers = await Promise.all(
      Array.from(
        { length: 120 },
        (_, i) =>
          Object.keys(totals).map((product) =>
            postCart(servers[i % 2], "add", crypto.randomUUID(), product)
          ),
      ).flat(),
    );
    for (const [product, total] of Object.entries(totals)) {
      const sold = answers.filter((a) => a.body.product === product && a.status === 200);
      assert.deepEqual(
        sold.map((answer) => answer.body.version).sort((a, b) => a - b),
        Array.from({ length: total }, (_, i) => i + 1),
        `${product}: every sale got its own version`,
      );
    }
    assert.equal(answers.filter((answer) => answer.status === 409).length, 240 - 35);
    using kv = await Deno.openKv(path);
    for (const [product, total] of Object.entries(totals)) {
      const holds = await Array.fromAsync(kv.list({ prefix: ["hold", product] }));
      assert.equal(holds.length, total, product);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
