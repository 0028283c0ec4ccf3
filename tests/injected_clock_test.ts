/**
 * One injected clock drives the app's waits and draws: a long poll times out and a refused
 * stream draws its `retry:` on a fake clock, in process, with no real waiting.
 */
import assert from "node:assert/strict";
import { openMemoryShop } from "./support/memory_shop.ts";
import { FakeClock } from "./support/fake_clock.ts";
import { createTestApp } from "./support/server.ts";

Deno.test("a long poll times out when the injected clock says so, not before", async () => {
  await using shop = await openMemoryShop({ poster: 3 });
  const clock = new FakeClock(0);
  const app = await createTestApp(shop.inventory, { clock, pollTimeoutMs: 25_000 });
  try {
    const cursor = `${shop.inventory.epoch}.0`;
    let answered = false;
    const poll = app.handle(new Request(`http://localhost/cart/status?since=${cursor}`))
      .then((response) => {
        answered = true;
        return response;
      });
    await new Promise((resolve) => setTimeout(resolve, 0));
    clock.advance(24_999);
    await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(answered, false, "answered before its time");
    clock.advance(1);
    const response = await poll;
    assert.equal(response.status, 200);
    assert.equal((await response.json()).version, 0);
  } finally {
    app.stop();
  }
});

Deno.test("a stream refused for the connection limit draws its retry from the clock", async () => {
  await using shop = await openMemoryShop({ poster: 3 });
  const clock = new FakeClock(0, () => 0);
  const app = await createTestApp(shop.inventory, { clock, maxConnections: 0 });
  try {
    const response = await app.handle(
      new Request("http://localhost/cart/status", { headers: { accept: "text/event-stream" } }),
    );
    assert.equal(await response.text(), ": too many connections\nretry: 5000\n\n");
    const refused = await app.handle(new Request("http://localhost/cart/status"));
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get("retry-after"), "5");
    await refused.body?.cancel();
  } finally {
    app.stop();
  }
});
