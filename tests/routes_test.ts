/** The page, static assets, health, metrics and unknown paths, over real sockets. */
import assert from "node:assert/strict";
import { startTestServer } from "./support/server.ts";
import { postCart } from "./support/clients.ts";

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
    const response = await fetch(server.url);
    await response.body?.cancel();
    return response.headers.get("set-cookie");
  }));
  assert.notEqual(cookies[0], cookies[1]);
});

Deno.test("the page shows the count after changes, and HEAD sends no body", async () => {
  await using server = await startTestServer({ inventory: 2 });
  await postCart(server.url, "add", crypto.randomUUID());
  assert.match(await (await fetch(server.url)).text(), />1</);
  const head = await fetch(server.url, { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), "");
});

Deno.test("HEAD / answers the headers GET / would, Content-Length too, and sets no cookie", async () => {
  await using server = await startTestServer({ inventory: 2 });
  const session = crypto.randomUUID();
  await postCart(server.url, "add", session);
  const shoppers: HeadersInit[] = [{}, { cookie: `sid=${session}` }];
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
  const response = await fetch(server.url, { headers: { cookie: 'sid="><script>x</script>' } });
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
    const response = await fetch(new URL(path, server.url));
    assert.equal(response.status, 200, path);
    assert.equal(response.headers.get("content-type"), type);
    const etag = response.headers.get("etag")!;
    assert.match(etag, /^"[^"]+"$/, "a strong ETag");
    const onDisk = await Deno.readFile(new URL(`../${path}`, import.meta.url));
    assert.deepEqual(new Uint8Array(await response.arrayBuffer()), onDisk);
    const again = await fetch(new URL(path, server.url), { headers: { "if-none-match": etag } });
    assert.equal(again.status, 304);
    assert.equal(await again.text(), "");
    const changed = await fetch(new URL(path, server.url), {
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
    "templates/index.html",
    "nothing-here",
  ]
) {
  Deno.test(`GET /${path} answers 404 JSON`, async () => {
    await using server = await startTestServer();
    const response = await fetch(`${server.url}${path}`);
    assert.equal(response.status, 404);
    assert.deepEqual(await response.json(), { error: "Not found" });
  });
}

Deno.test("GET /healthz answers 200 JSON", async () => {
  await using server = await startTestServer();
  const response = await fetch(new URL("healthz", server.url));
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { status: "ok" });
});

Deno.test("GET /metrics counts stock, version and requests by route and status", async () => {
  await using server = await startTestServer({ inventory: 1 });
  await postCart(server.url, "add", crypto.randomUUID());
  await postCart(server.url, "add", crypto.randomUUID());
  await (await fetch(new URL("nope", server.url))).body?.cancel();
  const response = await fetch(new URL("metrics", server.url));
  assert.match(response.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  for (
    const line of [
      "inventory_available_units 0",
      "inventory_version 1",
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
