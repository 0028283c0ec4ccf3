/** Connection, request-size and body-time limits, and the Secure cookie, over real sockets. */
import assert from "node:assert/strict";
import { within } from "./support/within.ts";
import { join } from "node:path";
import { DEMO, startTestServer, stateOf } from "./support/server.ts";
import {
  eventually,
  metric,
  openStatusSocket,
  openStatusStream,
  plainState,
  postCart,
} from "./support/clients.ts";
import { RawHttpConnection } from "./support/raw_http.ts";

const wsOptions = { sanitizeOps: false, sanitizeResources: false }; // deno#22387

Deno.test({
  name:
    "past --max-connections, long polls, upgrades and catalog polls get 503, streams a retry; the others go on",
  ...wsOptions,
  async fn() {
    await using server = await startTestServer({ inventory: 5, maxConnections: 3 });
    await using socket = await openStatusSocket(server.url);
    await socket.states.next();
    await using stream = await openStatusStream(server.url);
    await stream.events.next();
    const poll = fetch(new URL("cart/status", server.url));
    await eventually(() => server.app.gauges().longPollWaiters === 1, "the long poll to wait");
    assert.equal(await metric(server.url, "inventory_connections"), 3);

    const refusedPoll = await fetch(new URL("cart/status", server.url));
    const refusedStream = await fetch(new URL("cart/status", server.url), {
      headers: { accept: "text/event-stream" },
    });
    const refusedCatalog = await fetch(new URL("catalog/status", server.url));
    const upgrade = await RawHttpConnection.open(server.url);
    const refusedUpgrade = await upgrade.request(
      "GET /cart/status HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    upgrade.close();
    for (const response of [refusedPoll, refusedCatalog]) {
      assert.equal(response.status, 503);
      assert.match(response.headers.get("retry-after")!, /^\d+$/);
      assert.deepEqual(await response.json(), { error: "Too many connections, try again later" });
    }
    // A 503 would stop an EventSource for good: a stream that ends makes it retry later.
    assert.equal(refusedStream.status, 200);
    assert.match(await refusedStream.text(), /^: too many connections\nretry: \d+\n\n$/);
    assert.equal(refusedUpgrade?.status, 503);
    assert.match(refusedUpgrade.headers.get("retry-after")!, /^\d+$/);
    assert.equal(await metric(server.url, "inventory_connections_refused_total"), 4);

    // The three held connections are untouched: each hears the next change.
    await postCart(server.url, "add", crypto.randomUUID());
    const expected = { inventoryCount: 4, version: 1 };
    assert.deepEqual(await socket.states.next(), expected);
    assert.deepEqual(plainState(JSON.parse((await stream.events.next()).data)), expected);
    assert.deepEqual(
      plainState(await (await within(poll, "the answer of the poll")).json()),
      expected,
    );

    // The answered poll freed its place.
    const late = await within(
      fetch(new URL("cart/status?since=0", server.url)),
      "an answer at once to a poll from 0",
    );
    assert.equal(late.status, 200);
    assert.deepEqual(plainState(await late.json()), expected);
  },
});

Deno.test({
  name: "a burst of upgrades cannot overshoot --max-connections, and leaves nothing behind",
  ...wsOptions,
  async fn() {
    await using server = await startTestServer({ maxConnections: 100 });
    const url = new URL("cart/status", server.url);
    url.protocol = "ws:";
    const sockets: WebSocket[] = [];
    const outcomes = await Promise.all(
      Array.from({ length: 300 }, () =>
        new Promise<string>((resolve) => {
          const socket = new WebSocket(url);
          sockets.push(socket);
          socket.onopen = () => resolve("open");
          socket.onerror = () => resolve("refused");
        })),
    );
    assert.equal(outcomes.filter((o) => o === "open").length, 100);
    assert.equal(await metric(server.url, "inventory_connections_refused_total"), 200);
    for (const socket of sockets) socket.close();
    await eventually(
      () => server.app.gauges().websocketSubscribers === 0,
      "the sockets to be forgotten",
    );
    assert.equal(await metric(server.url, "inventory_connections"), 0);
  },
});

Deno.test("long polls count against --max-connections until answered, through the poll gate too", async () => {
  const MAX = 3;
  const ROUNDS = 10;
  await using server = await startTestServer({ inventory: 100, maxConnections: MAX });
  const { app, inventory } = server;
  const poll = (since: string) =>
    app.handle(new Request(new URL(`cart/status?since=${since}`, server.url)));
  const first = `${inventory.epoch}.0`;

  // At each change, right after it has released the polls and before they are answered, another
  // client asks for a place. The released polls still hold theirs: it must be refused.
  const intruders: Promise<Response>[] = [];
  const held: number[] = [];
  const unsubscribe = inventory.onChange(() => {
    held.push(app.gauges().connections);
    intruders.push(poll(first));
  });
  try {
    // MAX clients that poll again as soon as they are answered, as the page's script does.
    const clients = Array.from({ length: MAX }, async () => {
      let since = first;
      for (let version = 0; version < ROUNDS;) {
        const response = await poll(since);
        assert.equal(response.status, 200, "a client's own re-poll was refused");
        const state = await response.json();
        version = state.version;
        since = `${state.epoch}.${version}`;
      }
    });
    for (let round = 0; round < ROUNDS; round++) {
      await eventually(() => app.gauges().longPollWaiters === MAX, "every client to poll again");
      await inventory.add(DEMO, crypto.randomUUID());
    }
    await Promise.all(clients);
  } finally {
    unsubscribe();
  }
  assert.deepEqual(held, Array(ROUNDS).fill(MAX), "released polls were not counted");
  const statuses = await Promise.all(intruders.map(async (answer) => {
    const response = await answer;
    await response.body?.cancel();
    return response.status;
  }));
  assert.deepEqual(statuses, Array(ROUNDS).fill(503));
  assert.equal(app.gauges().connectionsRefused, ROUNDS);
  assert.equal(app.gauges().connections, 0);
});

Deno.test("a URL, headers or query over the limits are refused and change nothing", async () => {
  await using server = await startTestServer({ maxUrlBytes: 1000, maxHeaderBytes: 2000 });
  const cases: [string, RequestInit, number][] = [
    [`cart/status?since=0&pad=${"a".repeat(1000)}`, {}, 414],
    [`x${"a".repeat(1000)}`, {}, 414],
    ["cart/status?since=0", { headers: { "x-pad": "a".repeat(2000) } }, 431],
    [`cart/status?${Array.from({ length: 17 }, (_, i) => `p${i}=1`).join("&")}`, {}, 400],
  ];
  for (const [path, init, status] of cases) {
    const response = await fetch(new URL(path, server.url), init);
    assert.equal(response.status, status, path.slice(0, 40));
    assert.match((await response.json()).error, /longer than|larger than|query parameters/);
  }
  assert.equal(stateOf(server).version, 0);
});

Deno.test("a body that arrives too slowly is answered 408 and changes nothing", async () => {
  await using server = await startTestServer({ bodyTimeoutMs: 200 });
  const connection = await RawHttpConnection.open(server.url);
  try {
    const body = JSON.stringify({ action: "add", session: crypto.randomUUID() });
    await connection.write(
      "POST /cart HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
        `Content-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
    );
    const response = await connection.read();
    assert.equal(response?.status, 408);
    assert.equal(response.headers.get("connection"), "close");
    assert.deepEqual(JSON.parse(response.body), { error: "Body did not arrive within 200 ms" });
  } finally {
    connection.close();
  }
  assert.equal(stateOf(server).version, 0);
});

/** Reads the page's Set-Cookie for a new shopper. */
async function pageCookie(
  base: string,
  init: RequestInit & { client?: Deno.HttpClient } = {},
): Promise<string> {
  const response = await fetch(base, init);
  await response.body?.cancel();
  return response.headers.get("set-cookie")!;
}

Deno.test("X-Forwarded-Proto makes the cookie Secure only with --trust-proxy", async () => {
  const https = { headers: { "x-forwarded-proto": "https" } };
  {
    await using server = await startTestServer();
    assert.doesNotMatch(await pageCookie(server.url, https), /Secure/);
  }
  await using server = await startTestServer({ trustProxy: true });
  assert.match(await pageCookie(server.url, https), /; Secure/);
  assert.doesNotMatch(await pageCookie(server.url), /Secure/);
  assert.doesNotMatch(
    await pageCookie(server.url, { headers: { "x-forwarded-proto": "http" } }),
    /Secure/,
  );
});

Deno.test("behind a trusted proxy, a post from the page's https:// origin is same-origin", async () => {
  const postFromPage = async (base: string) => {
    const response = await fetch(new URL("cart", base), {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-forwarded-proto": "https",
        origin: `https://${new URL(base).host}`,
      },
      body: JSON.stringify({ action: "add", session: crypto.randomUUID() }),
    });
    await response.body?.cancel();
    return response.status;
  };
  {
    await using server = await startTestServer();
    assert.equal(await postFromPage(server.url), 403, "the header is not believed by default");
  }
  await using server = await startTestServer({ trustProxy: true });
  assert.equal(await postFromPage(server.url), 200);
});

Deno.test("over HTTPS (--tls-cert, --tls-key) the session cookie is Secure", async () => {
  const testdata = join(import.meta.dirname!, "testdata");
  await using server = await startTestServer({
    hostname: "localhost",
    tls: { certFile: join(testdata, "localhost.crt"), keyFile: join(testdata, "localhost.key") },
  });
  assert.match(server.url, /^https:\/\//);
  using client = Deno.createHttpClient({
    caCerts: [await Deno.readTextFile(join(testdata, "ca.crt"))],
  });
  assert.match(await pageCookie(server.url, { client }), /; Secure/);
});
