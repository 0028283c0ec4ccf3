/**
 * Pages, the cart, the catalog feed, assets, health, metrics and unknown paths: routing in process
 * through `app.handle`, and the page and health over a real socket.
 */
import assert from "node:assert/strict";
import { within } from "./support/within.ts";
import type { ProductInfo } from "../lib/inventory/product.ts";
import { assetOf } from "../lib/http/static_assets.ts";
import type { RunningServer } from "../lib/server/start_server.ts";
import { FakeClock } from "./support/fake_clock.ts";
import { DEMO, startTestServer } from "./support/server.ts";
import { eventually, postCart } from "./support/clients.ts";

/** A product to list beside the demo's, so that the catalog has several. */
const productInfo = (id: string, name: string): ProductInfo => ({
  id,
  name,
  description: `The ${name.toLowerCase()}.`,
  price: { amount: "12.50", currency: "EUR" },
  image: null,
});

/** Lists two products beside the demo's: a catalog of three. */
async function listTwoMore(server: RunningServer): Promise<void> {
  await server.inventory.list({ info: productInfo("canvas-tote", "Canvas Tote"), total: 4 });
  await server.inventory.list({ info: productInfo("moon-pin", "Moon Pin"), total: 2 });
}

/** Sends a request to the app in process: routing needs no socket. */
function ask(server: RunningServer, path: string, init?: RequestInit): Promise<Response> {
  return server.app.handle(new Request(new URL(path, server.url), init));
}

/** Posts a cart command with any body, in process, and reads the JSON answer. */
async function postCartBody(server: RunningServer, body: Record<string, string>) {
  const response = await ask(server, "cart", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

Deno.test("GET / renders the page with the live count and gives a new shopper a session cookie", async () => {
  await using server = await startTestServer({ inventory: 7 });
  const response = await fetch(server.url);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "text/html; charset=utf-8");
  const cookie = response.headers.get("set-cookie")!;
  const match = cookie.match(/^sid=([0-9a-f-]{36}); /);
  assert.ok(match, cookie);
  for (const attribute of ["Path=/", "HttpOnly", "SameSite=Lax"]) {
    assert.ok(cookie.includes(attribute), `${attribute} in ${cookie}`);
  }
  assert.ok(!cookie.includes("Secure"), "no Secure flag over plain HTTP");
  const html = await response.text();
  assert.ok(html.includes(`data-session="${match[1]}"`), "the session is embedded for clients");
  assert.match(html, />7</);
});

Deno.test("two new shoppers get different sessions", async () => {
  await using server = await startTestServer();
  const cookies = await Promise.all([1, 2].map(async () => {
    const response = await ask(server, "");
    await response.body?.cancel();
    return response.headers.get("set-cookie");
  }));
  assert.notEqual(cookies[0], cookies[1]);
});

Deno.test("the page shows the count after changes, and HEAD sends no body", async () => {
  await using server = await startTestServer({ inventory: 2 });
  await postCart(server.url, "add", crypto.randomUUID());
  assert.match(await (await ask(server, "")).text(), />1</);
  const head = await ask(server, "", { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), "");
});

Deno.test("HEAD / answers the headers GET / would, Content-Length too, and sets no cookie", async () => {
  await using server = await startTestServer({ inventory: 2 });
  const session = crypto.randomUUID();
  await postCart(server.url, "add", session);
  // Asked as they are: fetch would unzip a compressed page, whose length then differs.
  const plain = { "accept-encoding": "identity" };
  const shoppers: HeadersInit[] = [plain, { ...plain, cookie: `sid=${session}` }];
  for (const headers of shoppers) {
    const get = await fetch(server.url, { headers });
    const length = (await get.bytes()).byteLength;
    const head = await fetch(server.url, { method: "HEAD", headers });
    assert.equal(head.status, 200);
    for (const name of ["content-type", "cache-control"]) {
      assert.equal(head.headers.get(name), get.headers.get(name), name);
    }
    assert.equal(head.headers.get("content-length"), String(length));
    assert.equal(head.headers.get("set-cookie"), null, "a look is no new shopper");
    assert.equal(await head.text(), "");
  }
});

Deno.test("a malformed sid cookie is replaced, not echoed into the page", async () => {
  await using server = await startTestServer();
  const response = await ask(server, "", { headers: { cookie: 'sid="><script>x</script>' } });
  assert.match(response.headers.get("set-cookie")!, /^sid=[0-9a-f-]{36};/);
  assert.ok(!(await response.text()).includes("<script>x"));
});

Deno.test("static assets have their content type and a strong ETag, and answer 304 when current", async () => {
  await using server = await startTestServer();
  for (
    const [path, type] of [
      ["static/app.js", "text/javascript; charset=utf-8"],
      ["static/style.css", "text/css; charset=utf-8"],
    ]
  ) {
    const response = await ask(server, path);
    assert.equal(response.status, 200, path);
    assert.equal(response.headers.get("content-type"), type);
    const etag = response.headers.get("etag")!;
    assert.match(etag, /^"[^"]+"$/, "a strong ETag");
    const onDisk = await Deno.readFile(new URL(`../${path}`, import.meta.url));
    assert.deepEqual(new Uint8Array(await response.arrayBuffer()), onDisk);
    const again = await ask(server, path, { headers: { "if-none-match": etag } });
    assert.equal(again.status, 304);
    assert.equal(await again.text(), "");
    const changed = await ask(server, path, {
      headers: { "if-none-match": '"other"' },
    });
    assert.equal(changed.status, 200);
    await changed.body?.cancel();
  }
});

for (
  const path of [
    "static/missing.js",
    "static/../main.ts",
    "static/%2e%2e/main.ts",
    "static/%2e%2e%2fdeno.json",
    "static/%zz",
    "static/",
    "templates/product.html",
    "media/",
    "media/nothing.svg",
    "media/..%2fstatic%2fapp.js",
    "nothing-here",
  ]
) {
  Deno.test(`GET /${path} answers 404 JSON`, async () => {
    await using server = await startTestServer();
    const response = await ask(server, path);
    assert.equal(response.status, 404);
    assert.deepEqual(await response.json(), { error: "Not found" });
  });
}

Deno.test("GET /healthz and GET /readyz answer 200 JSON naming the store", async () => {
  await using server = await startTestServer();
  const store = { kind: "memory", reachable: true, lastError: null };
  const health = await fetch(new URL("healthz", server.url));
  assert.equal(health.status, 200);
  assert.deepEqual(await health.json(), { status: "ok", store });
  const readiness = await fetch(new URL("readyz", server.url));
  assert.equal(readiness.status, 200);
  assert.deepEqual(await readiness.json(), { status: "ready", store });
});

Deno.test("GET /metrics counts stock, version and requests by route and status", async () => {
  await using server = await startTestServer({ inventory: 1 });
  await postCart(server.url, "add", crypto.randomUUID());
  await postCart(server.url, "add", crypto.randomUUID());
  await (await ask(server, "nope")).body?.cancel();
  const response = await ask(server, "metrics");
  assert.match(response.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  for (
    const line of [
      `inventory_available_units{product="${DEMO}"} 0`,
      `inventory_version{product="${DEMO}"} 1`,
      "inventory_long_poll_waiters 0",
      "inventory_websocket_subscribers 0",
      "inventory_sse_subscribers 0",
      'inventory_http_requests_total{route="cart",status="200"} 1',
      'inventory_http_requests_total{route="cart",status="409"} 1',
      'inventory_http_requests_total{route="not_found",status="404"} 1',
    ]
  ) {
    assert.ok(text.split("\n").includes(line), `missing "${line}" in:\n${text}`);
  }
});

Deno.test("GET /products/:id renders the product's page, and 404 HTML for an unknown one", async () => {
  await using server = await startTestServer({ inventory: 6 });
  const page = await ask(server, `products/${DEMO}`);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
  assert.match(page.headers.get("set-cookie")!, /^sid=[0-9a-f-]{36}; /);
  const html = await page.text();
  assert.ok(html.includes(`data-product="${DEMO}"`), "the page names its product for app.js");
  assert.match(html, /<h1 id="product-name">Night Sky Print<\/h1>/);
  assert.match(html, />6</);

  const unknown = await ask(server, "products/no-such-thing");
  assert.equal(unknown.status, 404);
  assert.equal(unknown.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(unknown.headers.get("set-cookie"), null);
  assert.match(await unknown.text(), /There is no product “no-such-thing” in this shop/);
  const head = await ask(server, `products/${DEMO}`, { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), "");
});

Deno.test("GET /products/:id answers 410 HTML for a retired product, and / lists the others", async () => {
  await using server = await startTestServer();
  await listTwoMore(server);
  const retired = await server.inventory.retire("moon-pin");
  assert.equal(retired.ok, true);
  const gone = await ask(server, "products/moon-pin");
  assert.equal(gone.status, 410);
  assert.equal(gone.headers.get("content-type"), "text/html; charset=utf-8");
  assert.match(await gone.text(), /“moon-pin” is no longer on sale/);
  const catalog = await (await ask(server, "")).text();
  assert.ok(catalog.includes('href="/products/canvas-tote"'), "the catalog links each product");
  assert.ok(catalog.includes(`href="/products/${DEMO}"`));
  assert.ok(!catalog.includes("moon-pin"), "a retired product is not listed");
});

Deno.test("GET /cart lists the session's units with ISO expiry times, from the sid cookie", async () => {
  const clock = new FakeClock(Date.UTC(2026, 11, 24, 18, 0, 0));
  await using server = await startTestServer({ holdTtlMs: 15 * 60_000 }, { clock });
  const session = crypto.randomUUID();
  assert.equal((await postCart(server.url, "add", session)).status, 200);
  const cart = await ask(server, "cart", { headers: { cookie: `sid=${session}` } });
  assert.equal(cart.status, 200);
  assert.equal(cart.headers.get("cache-control"), "no-store");
  assert.deepEqual(await cart.json(), {
    items: [{ product: DEMO, expiresAt: "2026-12-24T18:15:00.000Z" }],
  });
  const others: Record<string, string>[] = [
    {},
    { cookie: `sid=${crypto.randomUUID()}` },
    { cookie: "sid=nope" },
  ];
  for (const headers of others) {
    const empty = await ask(server, "cart", { headers });
    assert.deepEqual(await empty.json(), { items: [] }, JSON.stringify(headers));
  }
});

Deno.test("other methods on /cart get 405 with Allow: GET and POST", async () => {
  await using server = await startTestServer();
  for (const method of ["DELETE", "PUT", "PATCH"]) {
    const response = await ask(server, "cart", { method });
    assert.equal(response.status, 405, method);
    const allowed = response.headers.get("allow")!.split(",").map((m) => m.trim()).sort();
    assert.deepEqual(allowed, ["GET", "POST"]);
    assert.deepEqual(await response.json(), { error: `Method ${method} is not allowed here` });
  }
});

Deno.test("POST /cart on a catalog of three: 400 without a product, 404 for an unknown one", async () => {
  await using server = await startTestServer();
  await listTwoMore(server);
  const session = crypto.randomUUID();
  assert.deepEqual(await postCartBody(server, { action: "add", session }), {
    status: 400,
    body: { error: "Product is missing" },
  });
  assert.deepEqual(
    await postCartBody(server, { action: "add", session, product: "no-such-thing" }),
    { status: 404, body: { error: 'No product "no-such-thing" is on sale' } },
  );
  const added = await postCartBody(server, { action: "add", session, product: "moon-pin" });
  assert.deepEqual(added, {
    status: 200,
    body: { product: "moon-pin", inventoryCount: 1, version: 1, inCart: true },
  });
  assert.equal(server.inventory.get(DEMO)!.held, 0, "only the named product changed");
});

Deno.test("GET /catalog/status answers a long poll with the catalog's snapshot", async () => {
  await using server = await startTestServer({ inventory: 3 });
  await listTwoMore(server);
  const epoch = server.inventory.epoch;
  // Three products at version 0: the catalog's version is the sum of each version plus one.
  const response = await within(
    ask(server, "catalog/status?since=0"),
    "an answer at once to a catalog poll from 0",
  );
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("cache-control"), "no-store");
  const snapshot = await response.json();
  assert.equal(snapshot.epoch, epoch);
  assert.equal(snapshot.version, 3);
  assert.deepEqual(
    snapshot.products.map((p: Record<string, unknown>) => [p.product, p.inventoryCount, p.version]),
    [[DEMO, 3, 0], ["canvas-tote", 4, 0], ["moon-pin", 2, 0]],
  );
  assert.deepEqual(snapshot.products[1], {
    product: "canvas-tote",
    inventoryCount: 4,
    version: 0,
    epoch,
    name: "Canvas Tote",
    price: { amount: "12.50", currency: "EUR" },
    priceText: "€12.50",
    image: null,
    limitText: "one per shopper",
  });

  // A poll at the current cursor waits for the next change, and gets the new snapshot.
  const waiting = ask(server, `catalog/status?since=${epoch}.3`);
  await eventually(() => server.app.gauges().longPollWaiters === 1, "the catalog poll to wait");
  await postCartBody(server, {
    action: "add",
    session: crypto.randomUUID(),
    product: "canvas-tote",
  });
  const next = await (await within(waiting, "the answer of the waiting catalog poll")).json();
  assert.equal(next.version, 4);
  assert.equal(next.products[1].inventoryCount, 3);
});

Deno.test("GET /media/:name serves the catalog's images and 404s any other name", async () => {
  const svg = await assetOf(new TextEncoder().encode("<svg/>"), "image/svg+xml");
  const name = "0123abcd.svg";
  await using server = await startTestServer({}, {
    catalog: {
      entries: [{
        info: { ...productInfo("canvas-tote", "Canvas Tote"), image: `/media/${name}` },
        total: 1,
      }],
      media: new Map([[name, svg]]),
    },
  });
  const image = await ask(server, `media/${name}`);
  assert.equal(image.status, 200);
  assert.equal(image.headers.get("content-type"), "image/svg+xml");
  assert.equal(await image.text(), "<svg/>");
  const other = await ask(server, "media/0123abce.svg");
  assert.equal(other.status, 404);
  assert.deepEqual(await other.json(), { error: "Not found" });
});
