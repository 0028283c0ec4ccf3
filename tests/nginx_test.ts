/**
 * The server behind Debian's nginx on docs/nginx.conf: page, post, WebSocket, SSE and long poll,
 * several servers behind its upstream block, and a fleet of two processes on one redis-server.
 */
import assert from "node:assert/strict";
import type { Config } from "../lib/server/config.ts";
import { CATALOG_FEED, eventually, metric, postCart } from "./support/clients.ts";
import { nginxMissing, type RunningNginx, startNginx } from "./support/nginx.ts";
import { redisMissing, startRedis } from "./support/redis_server.ts";
import { startFleet } from "./support/redis_fleet.ts";
import { type ChildServer, DEMO, startTestServer, stateOf } from "./support/server.ts";
import {
  type HeldConnection,
  loopbackAddress,
  openFrom,
  requestFrom,
} from "./support/from_address.ts";
import {
  openLongPollFeed,
  openSseFeed,
  openWebSocketFeed,
  type StateFeed,
} from "./support/status_clients.ts";
import type { RunningServer } from "../lib/server/start_server.ts";

/**
 * Registers a test with a server (`--trust-proxy` unless overridden) behind its own nginx, or
 * skips it (never passes it) without nginx.
 */
function nginxTest(
  name: string,
  fn: (nginx: RunningNginx, server: RunningServer) => Promise<void>,
  overrides: Partial<Config> = {},
): void {
  Deno.test({
    name,
    ignore: nginxMissing,
    // WebSocket clients keep ops past their close event (deno#22387).
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      await using server = await startTestServer({ trustProxy: true, ...overrides });
      await using nginx = await startNginx(server.url);
      await fn(nginx, server);
    },
  });
}

/** What a browser sends with a post or a WebSocket handshake from the page: its origin, no more. */
const fromPage = (nginx: RunningNginx) => ({ origin: nginx.origin });

/** Adds one unit for a new shopper as the page would, through nginx. */
async function addFromPage(nginx: RunningNginx): Promise<void> {
  const answer = await postCart(nginx.url, "add", crypto.randomUUID(), undefined, fromPage(nginx));
  assert.equal(answer.status, 200, answer.body.error);
}

/** Asks for a WebSocket upgrade with an `Origin` and answers the status it got. */
async function upgradeStatus(base: string, origin: string): Promise<number> {
  // The echo socket: status feeds take upgrades from any origin; it takes our pages' only.
  const response = await fetch(new URL("echo", base), {
    headers: {
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      "sec-websocket-version": "13",
      origin,
    },
  });
  await response.body?.cancel();
  return response.status;
}

nginxTest(
  "through nginx the page sets a session, and a post from the page is accepted",
  async (nginx) => {
    const page = await fetch(nginx.url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /data-session="/);
    const sid = page.headers.get("set-cookie")?.match(/^sid=([^;]+)/)?.[1];
    assert.ok(sid, "the session cookie");
    const answer = await postCart(nginx.url, "add", sid, undefined, fromPage(nginx));
    assert.equal(answer.status, 200, answer.body.error);
    assert.deepEqual(answer.body, { product: DEMO, inventoryCount: 9, version: 1, inCart: true });
  },
);

nginxTest(
  "through nginx a WebSocket from the page gets the state, then a change",
  async (nginx) => {
    await using feed = await openWebSocketFeed(nginx.url, fromPage(nginx));
    await feed.waitFor((state) => state.version === 0);
    await addFromPage(nginx);
    assert.deepEqual(await feed.waitFor((state) => state.version === 1), {
      inventoryCount: 9,
      version: 1,
    });
  },
);

nginxTest(
  "through nginx an event stream is not buffered: a change arrives while it is open",
  async (nginx) => {
    await using feed = await openSseFeed(nginx.url);
    assert.deepEqual(feed.states, [{ inventoryCount: 10, version: 0 }]);
    await addFromPage(nginx);
    assert.equal((await feed.waitFor((state) => state.version === 1)).inventoryCount, 9);
  },
);

nginxTest(
  "through nginx the catalog's event stream gets a change while it is open",
  async (nginx) => {
    await using feed = await openSseFeed(nginx.url, CATALOG_FEED);
    await addFromPage(nginx);
    const entry = await feed.waitForMessage((message) =>
      message.product === DEMO && message.version === 1
    );
    assert.equal(entry.inventoryCount, 9);
  },
);

nginxTest("through nginx a waiting long poll is released by a change", async (nginx, server) => {
  await using feed = openLongPollFeed(nginx.url, 0);
  await eventually(
    async () => await metric(server.url, "inventory_long_poll_waiters") === 1,
    "the long poll to wait at the server",
  );
  await addFromPage(nginx);
  assert.equal((await feed.waitFor((state) => state.version === 1)).inventoryCount, 9);
});

nginxTest("through nginx an upgrade from another origin is still refused", async (nginx) => {
  assert.equal(await upgradeStatus(nginx.url, "http://evil.example"), 403);
  assert.equal(await upgradeStatus(nginx.url, nginx.origin), 101);
});

nginxTest(
  "through nginx without --trust-proxy the page's own upgrade is refused: Host lacks the port",
  async (nginx) => {
    assert.equal(await upgradeStatus(nginx.url, nginx.origin), 403);
  },
  { trustProxy: false },
);

Deno.test({
  name: "nginx in front of two servers sends new requests to the one not holding a WebSocket",
  ignore: nginxMissing,
  // WebSocket clients keep ops past their close event (deno#22387).
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using first = await startTestServer({ trustProxy: true });
    await using second = await startTestServer({ trustProxy: true });
    await using nginx = await startNginx([first.url, second.url]);
    await using _socket = await openWebSocketFeed(nginx.url, fromPage(nginx));
    const holding = [first, second].filter((s) => s.app.gauges().websocketSubscribers === 1);
    assert.equal(holding.length, 1, "the WebSocket is on one server");
    const free = holding[0] === first ? second : first;
    // least_conn, with counts shared by every nginx worker: each request that comes and goes goes
    // to the server with no open connection. (Each server has its own store, so its own epoch.)
    for (let i = 0; i < 8; i++) {
      const state = await (await fetch(new URL("cart/status?since=99", nginx.url))).json();
      assert.equal(state.epoch, free.inventory.epoch, `request ${i}`);
    }
  },
});

/** The state the product page renders: its `data-version` and `data-inventory-count`. */
async function pageState(base: string): Promise<{ inventoryCount: number; version: number }> {
  const page = await fetch(base);
  assert.equal(page.status, 200);
  const html = await page.text();
  return {
    inventoryCount: Number(html.match(/data-inventory-count="(\d+)"/)?.[1]),
    version: Number(html.match(/data-version="(\d+)"/)?.[1]),
  };
}

/** Which of the processes hold one subscriber of a kind: by their `/metrics` gauge. */
async function holdersOf(servers: ChildServer[], gauge: string): Promise<ChildServer[]> {
  const counts = await Promise.all(servers.map((server) => metric(server.url, gauge)));
  return servers.filter((_, i) => counts[i] === 1);
}

Deno.test({
  name: "nginx in front of two processes on one Redis: a change through either reaches every feed",
  ignore: nginxMissing || redisMissing,
  // WebSocket clients keep ops past their close event (deno#22387).
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using redis = await startRedis();
    await using fleet = await startFleet(redis.url, 2, ["--trust-proxy"]);
    await using nginx = await startNginx(fleet.map((server) => server.url));
    assert.deepEqual(await pageState(nginx.url), { inventoryCount: 10, version: 0 });

    const feeds: StateFeed[] = [];
    try {
      feeds.push(await openWebSocketFeed(nginx.url, fromPage(nginx)));
      feeds.push(await openSseFeed(nginx.url));
      feeds.push(openLongPollFeed(nginx.url, 0));
      // least_conn sends the event stream to the process not holding the WebSocket.
      const [socketAt] = await holdersOf(fleet, "inventory_websocket_subscribers");
      const [streamAt] = await holdersOf(fleet, "inventory_sse_subscribers");
      assert.ok(socketAt !== undefined && streamAt !== undefined, "one WebSocket, one stream");
      assert.notEqual(socketAt, streamAt, "the WebSocket and the stream are on both processes");
      await eventually(async () => {
        const waiters = await Promise.all(
          fleet.map((server) => metric(server.url, "inventory_long_poll_waiters")),
        );
        return waiters[0] + waiters[1] === 1;
      }, "the long poll to wait at a process");

      await addFromPage(nginx);
      for (const feed of feeds) {
        assert.deepEqual(await feed.waitFor((state) => state.version === 1), {
          inventoryCount: 9,
          version: 1,
        });
      }
      // Posted to each process in turn, not through nginx: both changes reach every feed, so each
      // feed hears one of them from the other process.
      for (const [i, server] of fleet.entries()) {
        const answer = await postCart(server.url, "add", crypto.randomUUID());
        assert.equal(answer.status, 200, answer.body.error);
        const expected = { inventoryCount: 8 - i, version: 2 + i };
        assert.deepEqual(answer.body, { product: DEMO, ...expected, inCart: true });
        for (const feed of feeds) {
          assert.deepEqual(
            await feed.waitFor((state) => state.version === expected.version),
            expected,
          );
        }
      }
      // Both processes have the last change now (a feed on each has it), so the page shows it
      // whichever process nginx picks.
      assert.deepEqual(await pageState(nginx.url), { inventoryCount: 7, version: 3 });
    } finally {
      await Promise.all(feeds.map((feed) => feed[Symbol.asyncDispose]()));
    }
  },
});

/** Posts an add for a new shopper from `address` through nginx, as the page would. */
function addThrough(nginx: RunningNginx, address: string, headers: Record<string, string> = {}) {
  return requestFrom(address, new URL("cart", nginx.url), {
    method: "POST",
    headers: { "content-type": "application/json", origin: nginx.origin, ...headers },
    body: JSON.stringify({ action: "add", product: DEMO, session: crypto.randomUUID() }),
  });
}

nginxTest(
  "behind nginx two addresses each get the server's add rate, and a forged X-Forwarded-For is no new one",
  async (nginx) => {
    const [one, two] = [loopbackAddress(0), loopbackAddress(1)];
    const statuses = async (address: string, headers?: Record<string, string>) => {
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await addThrough(nginx, address, headers));
      return answers;
    };
    // A burst of 2 each: the third is the server's refusal (nginx's rate sits above it).
    const first = await statuses(one);
    assert.deepEqual(first.map((answer) => answer.status), [200, 200, 429]);
    assert.equal(
      JSON.parse(first[2].body).error,
      "Too many adds from your address, try again later",
    );
    assert.deepEqual((await statuses(two)).map((answer) => answer.status), [200, 200, 429]);
    // nginx appends the real peer to what the client sent; the server believes only that.
    const forged = await addThrough(nginx, one, { "x-forwarded-for": "198.51.100.7" });
    assert.equal(forged.status, 429);
  },
  { addRate: 1, inventory: 100 },
);

nginxTest(
  "nginx's limit_req stops a flood of posts from one address with a JSON 429 of its own",
  async (nginx, server) => {
    const address = loopbackAddress(2);
    const answers = await Promise.all(
      Array.from({ length: 60 }, () => addThrough(nginx, address)),
    );
    const refused = answers.filter((answer) => answer.status === 429);
    assert.ok(refused.length >= 20, `${refused.length} of 60 refused by nginx`);
    assert.deepEqual(JSON.parse(refused[0].body), {
      error: "Too many requests from your address, try again later",
    });
    assert.equal(refused[0].headers.get("retry-after"), "1");
    assert.equal(refused[0].headers.get("content-type"), "application/json");
    // What nginx refused never reached the server.
    const held = 100 - stateOf(server).inventoryCount;
    assert.equal(held, answers.length - refused.length);
    // Another address is not held back by this one's flood.
    assert.equal((await addThrough(nginx, loopbackAddress(3))).status, 200);
  },
  // Our own holds limit off: only nginx's refusals are counted here.
  { inventory: 100, maxHoldsPerClient: 0 },
);

nginxTest(
  "nginx's limit_conn refuses an address's 41st live connection; another address connects",
  async (nginx, server) => {
    const streams: HeldConnection[] = [];
    const open = (address: string) =>
      openFrom(address, new URL("cart/status", nginx.url), {
        headers: { accept: "text/event-stream" },
      });
    try {
      for (let i = 0; i < 40; i++) streams.push(await open(loopbackAddress(4)));
      assert.ok(streams.every((stream) => stream.status === 200));
      await eventually(() => server.app.gauges().sseSubscribers === 40, "40 streams held");
      const refused = await open(loopbackAddress(4));
      assert.equal(refused.status, 429);
      assert.equal(refused.headers.get("retry-after"), "1");
      streams.push(await open(loopbackAddress(5)));
      assert.equal(streams[40].status, 200);
    } finally {
      for (const stream of streams) stream.close();
    }
  },
);
