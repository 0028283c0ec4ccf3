/** Holds expire on an injected clock: every transport hears of it, and the page says how long. */
import assert from "node:assert/strict";
import { ShoppingCart } from "../lib/inventory/cart.ts";
import { durationText, holdValues } from "../lib/http/page.ts";
import { FakeClock } from "./support/fake_clock.ts";
import { startTestServer } from "./support/server.ts";
import { openLongPollFeed, openSseFeed, openWebSocketFeed } from "./support/status_clients.ts";
import { postCart } from "./support/clients.ts";

const TTL_MS = 60_000;

Deno.test({
  name: "an expired hold frees its unit and reaches WebSocket, SSE and long-poll subscribers",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const clock = new FakeClock();
    await using server = await startTestServer({ holdTtlMs: TTL_MS }, { clock });
    const session = crypto.randomUUID();
    assert.deepEqual((await postCart(server.url, "add", session)).body, {
      inventoryCount: 9,
      version: 1,
      inCart: true,
    });
    await using socket = await openWebSocketFeed(server.url);
    await using stream = await openSseFeed(server.url);
    await using poll = openLongPollFeed(server.url, 1);

    clock.advance(TTL_MS - 1);
    assert.equal(server.cart.current.state.version, 1, "not yet due");
    assert.equal(server.cart.holds(session), true);

    clock.advance(1);
    for (const feed of [socket, stream, poll]) {
      assert.deepEqual(await feed.waitFor((state) => state.version === 2), {
        inventoryCount: 10,
        version: 2,
      });
    }
    assert.equal(server.cart.holds(session), false);
    const again = await postCart(server.url, "add", session);
    assert.deepEqual(again.body, { inventoryCount: 9, version: 3, inCart: true });
  },
});

Deno.test("an add refreshes the hold over HTTP", async () => {
  const clock = new FakeClock();
  await using server = await startTestServer({ holdTtlMs: TTL_MS }, { clock });
  const session = crypto.randomUUID();
  await postCart(server.url, "add", session);
  clock.advance(TTL_MS - 1);
  const refreshed = await postCart(server.url, "add", session);
  assert.deepEqual(refreshed.body, { inventoryCount: 9, version: 1, inCart: true });
  clock.advance(TTL_MS - 1);
  assert.equal(server.cart.holds(session), true);
  assert.equal(server.cart.current.state.version, 1);
});

Deno.test("the page says how long the cart keeps the item, and when this hold ends", async () => {
  const clock = new FakeClock();
  await using server = await startTestServer({ holdTtlMs: TTL_MS }, { clock });
  const session = crypto.randomUUID();
  await postCart(server.url, "add", session);
  const response = await fetch(server.url, { headers: { cookie: `sid=${session}` } });
  const html = await response.text();
  assert.match(html, /for 1 minute after your last add/);
  assert.match(html, /data-hold-ttl-seconds="60"/);
  assert.ok(
    html.includes(`data-hold-expires-at="${new Date(clock.now() + TTL_MS).toISOString()}"`),
  );
});

Deno.test("hold values: lifetime in seconds and words, and this session's expiry", async () => {
  const clock = new FakeClock();
  const cart = new ShoppingCart(3, { holdTtlMs: 90_000, clock });
  const session = crypto.randomUUID();
  assert.deepEqual(holdValues(cart, session), {
    holdTtlSeconds: "90",
    holdExpiresAt: "",
    holdText: "Your cart keeps the item for 90 seconds after your last add.",
  });
  await cart.add(session);
  assert.equal(
    holdValues(cart, session).holdExpiresAt,
    new Date(clock.now() + 90_000).toISOString(),
  );
  cart.close();

  const forever = new ShoppingCart(3);
  assert.deepEqual(holdValues(forever, session), {
    holdTtlSeconds: "",
    holdExpiresAt: "",
    holdText: "Your cart keeps the item until you remove it.",
  });
});

Deno.test("durations read in the largest unit that fits", () => {
  const cases: [number, string][] = [
    [900_000, "15 minutes"],
    [1_000, "1 second"],
    [90_000, "90 seconds"],
    [3_600_000, "1 hour"],
    [5_400_000, "90 minutes"],
    [2 * 86_400_000, "2 days"],
    [1_500, "2 seconds"],
  ];
  for (const [ms, text] of cases) assert.equal(durationText(ms), text);
  assert.equal(durationText(Infinity), "");
});
