/** Holds expire on an injected clock: every transport hears of it, and the page says how long. */
import assert from "node:assert/strict";
import { durationText, holdValues } from "../lib/http/hold_text.ts";
import { FakeClock } from "./support/fake_clock.ts";
import { DEMO, holds, startTestServer, stateOf } from "./support/server.ts";
import { openLongPollFeed, openSseFeed, openWebSocketFeed } from "./support/status_clients.ts";
import { eventually, postCart } from "./support/clients.ts";

const TTL_MS = 60_000;

Deno.test({
  name:
    "an expired hold frees its unit and reaches WebSocket, SSE, long-poll and catalog subscribers",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const clock = new FakeClock();
    // Polls time out on the same clock: they must outlast the hold to hear its expiry.
    const config = { holdTtlMs: TTL_MS, pollTimeoutMs: 2 * TTL_MS };
    await using server = await startTestServer(config, { clock });
    const session = crypto.randomUUID();
    assert.deepEqual((await postCart(server.url, "add", session)).body, {
      product: DEMO,
      inventoryCount: 9,
      version: 1,
      inCart: true,
    });
    await using socket = await openWebSocketFeed(server.url);
    await using stream = await openSseFeed(server.url);
    await using poll = openLongPollFeed(server.url, 1);
    // Without `since`, a poll of the catalog waits for the next change of any product.
    const catalogPoll = fetch(new URL("catalog/status", server.url)).then((r) => r.json());
    await eventually(() => server.app.gauges().longPollWaiters === 2, "both polls to wait");

    clock.advance(TTL_MS - 1);
    assert.deepEqual(stateOf(server), { inventoryCount: 9, version: 1 }, "not yet due");
    assert.equal(await holds(server, session), true);

    clock.advance(1);
    for (const feed of [socket, stream, poll]) {
      assert.deepEqual(await feed.waitFor((state) => state.version === 2), {
        inventoryCount: 10,
        version: 2,
      });
    }
    // A catalog poll answers the whole catalog; its version is the sum of (version + 1).
    const catalog = await catalogPoll;
    assert.equal(catalog.version, 3);
    assert.deepEqual(
      catalog.products.map(({ product, inventoryCount, version }: Record<string, unknown>) => ({
        product,
        inventoryCount,
        version,
      })),
      [{ product: DEMO, inventoryCount: 10, version: 2 }],
    );
    assert.equal(await holds(server, session), false);
    const again = await postCart(server.url, "add", session);
    assert.deepEqual(again.body, { product: DEMO, inventoryCount: 9, version: 3, inCart: true });
  },
});

Deno.test("adding again over HTTP answers as before but does not extend the hold", async () => {
  const clock = new FakeClock();
  await using server = await startTestServer({ holdTtlMs: TTL_MS }, { clock });
  const session = crypto.randomUUID();
  await postCart(server.url, "add", session);
  const expiresAt = new Date(clock.now() + TTL_MS).toISOString();
  clock.advance(TTL_MS - 1);
  const again = await postCart(server.url, "add", session);
  assert.deepEqual(again.body, { product: DEMO, inventoryCount: 9, version: 1, inCart: true });
  const cart = await fetch(new URL("cart", server.url), { headers: { cookie: `sid=${session}` } });
  assert.deepEqual(await cart.json(), { items: [{ product: DEMO, expiresAt }] });
  clock.advance(1);
  assert.equal(await holds(server, session), false, "the hold ended TTL after its take");
  assert.equal(stateOf(server).version, 2);
});

Deno.test("the page says how long the cart keeps the item, and when this hold ends", async () => {
  const clock = new FakeClock();
  await using server = await startTestServer({ holdTtlMs: TTL_MS }, { clock });
  const session = crypto.randomUUID();
  await postCart(server.url, "add", session);
  const response = await fetch(server.url, { headers: { cookie: `sid=${session}` } });
  const html = await response.text();
  assert.match(html, /for 1 minute from when you add it/);
  assert.match(html, /data-hold-ttl-seconds="60"/);
  assert.ok(
    html.includes(`data-hold-expires-at="${new Date(clock.now() + TTL_MS).toISOString()}"`),
  );
});

Deno.test("hold values: lifetime in seconds and words, and this session's expiry", () => {
  const expiresAt = Date.UTC(2026, 0, 1, 12);
  assert.deepEqual(holdValues(90_000, undefined), {
    holdTtlSeconds: "90",
    holdExpiresAt: "",
    holdText: "Your cart keeps the item for 90 seconds from when you add it.",
  });
  assert.equal(holdValues(90_000, expiresAt).holdExpiresAt, "2026-01-01T12:00:00.000Z");
  assert.deepEqual(holdValues(Infinity, undefined), {
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
