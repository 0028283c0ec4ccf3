/** `--add-rate`: adds per second per client address, a token bucket with a burst of twice it. */
import assert from "node:assert/strict";
import { inventoryCountOf } from "../lib/inventory/ledger.ts";
import { MemoryRateLimiter } from "../lib/limits/rate_limiter.ts";
import { FakeClock } from "./support/fake_clock.ts";
import { openMemoryShop } from "./support/memory_shop.ts";
import { createTestApp, DEMO, startTestServer } from "./support/server.ts";
import { metric } from "./support/clients.ts";
import { loopbackAddress, postCartFrom } from "./support/from_address.ts";

const PRODUCT = "tee";

function cartPost(action: string, session: string = crypto.randomUUID()): Request {
  return new Request("http://localhost/cart", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ action, product: PRODUCT, session }),
  });
}

Deno.test("past its burst a client's add gets 429 with Retry-After, and holds nothing", async () => {
  await using shop = await openMemoryShop({ [PRODUCT]: 100 });
  const clock = new FakeClock();
  const app = await createTestApp(shop.inventory, { addRate: 2, clock });
  try {
    const sessions = Array.from({ length: 4 }, () => crypto.randomUUID());
    for (const session of sessions) {
      assert.equal((await app.handle(cartPost("add", session))).status, 200);
    }
    const refused = await app.handle(cartPost("add"));
    assert.equal(refused.status, 429);
    // Half a second at 2 a second brings the next token: rounded up to a whole second.
    assert.equal(refused.headers.get("retry-after"), "1");
    assert.deepEqual(await refused.json(), {
      error: "Too many adds from your address, try again later",
    });
    assert.equal(inventoryCountOf(shop.inventory.get(PRODUCT)!), 96);

    // Removes and reads are not adds: they pass however many come.
    for (const session of sessions) {
      assert.equal((await app.handle(cartPost("remove", session))).status, 200);
    }
    assert.equal((await app.handle(new Request("http://localhost/cart"))).status, 200);
    assert.equal((await app.handle(cartPost("add"))).status, 429);

    clock.advance(499);
    assert.equal((await app.handle(cartPost("add"))).status, 429);
    clock.advance(1);
    assert.equal((await app.handle(cartPost("add"))).status, 200);
    assert.equal((await app.handle(cartPost("add"))).status, 429);

    const text = await (await app.handle(new Request("http://localhost/metrics"))).text();
    assert.ok(text.split("\n").includes('inventory_client_refusals_total{kind="add_rate"} 4'));
    assert.ok(
      text.split("\n").includes('inventory_http_requests_total{route="cart",status="429"} 4'),
    );
  } finally {
    app.stop();
  }
});

Deno.test("a bad add is refused for what it is, and costs no token", async () => {
  await using shop = await openMemoryShop({ [PRODUCT]: 10 });
  const app = await createTestApp(shop.inventory, { addRate: 1, clock: new FakeClock() });
  try {
    const bad = new Request("http://localhost/cart", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ action: "add", session: "nope" }),
    });
    assert.equal((await app.handle(bad)).status, 400);
    assert.equal((await app.handle(cartPost("add"))).status, 200);
    assert.equal((await app.handle(cartPost("add"))).status, 200);
    assert.equal((await app.handle(cartPost("add"))).status, 429);
  } finally {
    app.stop();
  }
});

Deno.test("--add-rate 0 admits every add", async () => {
  await using shop = await openMemoryShop({ [PRODUCT]: 50 });
  const app = await createTestApp(shop.inventory, {
    addRate: 0,
    maxHoldsPerClient: 0,
    clock: new FakeClock(),
  });
  try {
    for (let i = 0; i < 50; i++) assert.equal((await app.handle(cartPost("add"))).status, 200);
  } finally {
    app.stop();
  }
});

Deno.test("Retry-After is the whole seconds until the next token, at least 1", () => {
  const clock = new FakeClock(0);
  const slow = new MemoryRateLimiter({ perSecond: 0.25, burst: 1, maxClients: 10 }, clock);
  assert.equal(slow.take("a").allowed, true);
  assert.deepEqual(slow.take("a"), { allowed: false, retryAfterMs: 4000 });
  clock.advance(2500);
  assert.deepEqual(slow.take("a"), { allowed: false, retryAfterMs: 1500 });
});

Deno.test("idle clients are forgotten, and no more than maxClients are remembered", () => {
  const clock = new FakeClock(0);
  const limiter = new MemoryRateLimiter({ perSecond: 5, burst: 10, maxClients: 3 }, clock);
  for (const client of ["a", "b", "c", "d"]) limiter.take(client);
  assert.equal(limiter.clients, 3);
  // Two seconds fill a bucket of 10 at 5 a second: an idle client is the same as a new one.
  clock.advance(2000);
  limiter.take("e");
  assert.equal(limiter.clients, 1);
  // A client still refilling is kept, its tokens with it.
  for (let i = 0; i < 10; i++) limiter.take("f");
  clock.advance(1000);
  limiter.take("g");
  assert.equal(limiter.clients, 3);
  for (let i = 0; i < 5; i++) assert.equal(limiter.take("f").allowed, true);
  assert.equal(limiter.take("f").allowed, false);
});

Deno.test("over real sockets each address has its own bucket", async () => {
  await using server = await startTestServer({ inventory: 100, addRate: 1 });
  const [one, two] = [loopbackAddress(0), loopbackAddress(1)];
  const add = (address: string) =>
    postCartFrom(address, server.url, "add", DEMO, crypto.randomUUID());
  assert.deepEqual([(await add(one)).status, (await add(one)).status], [200, 200]);
  const refused = await add(one);
  assert.equal(refused.status, 429);
  assert.match(refused.headers.get("retry-after")!, /^[1-9]\d*$/);
  assert.deepEqual([(await add(two)).status, (await add(two)).status], [200, 200]);
  assert.equal(await metric(server.url, 'inventory_client_refusals_total{kind="add_rate"}'), 1);
});
