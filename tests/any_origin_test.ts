/** The status feeds answer any origin for reading (CORS); writes keep today's origin rules. */
import assert from "node:assert/strict";
import { EMBED_SCRIPT } from "../lib/http/embed_script.ts";
import { eventually } from "./support/clients.ts";
import { startTestServer } from "./support/server.ts";

const ELSEWHERE = "https://storefront.example";
const FEEDS = ["cart/status", "catalog/status", "queue/status?product=nope"];

Deno.test("a long poll from another origin is answered with Access-Control-Allow-Origin: *", async () => {
  await using server = await startTestServer();
  const poll = await fetch(`${server.url}cart/status?since=999999999`, {
    headers: { origin: ELSEWHERE, "sec-fetch-site": "cross-site", "sec-fetch-mode": "cors" },
  });
  assert.equal(poll.status, 200);
  assert.equal(poll.headers.get("access-control-allow-origin"), "*");
  assert.equal(poll.headers.get("access-control-allow-credentials"), null, "counts are public");
  assert.equal((await poll.json()).inventoryCount, 10);
});

Deno.test("refusals of a status feed are readable too: a page elsewhere sees 404, not a network error", async () => {
  await using server = await startTestServer();
  for (const path of ["cart/status?product=nope", "queue/status?product=nope"]) {
    const refused = await fetch(`${server.url}${path}`, { headers: { origin: ELSEWHERE } });
    assert.equal(refused.status, 404, path);
    assert.equal(refused.headers.get("access-control-allow-origin"), "*", path);
    await refused.body?.cancel();
  }
  const full = await startTestServer({ maxConnections: 0 });
  try {
    const busy = await fetch(`${full.url}catalog/status`, { headers: { origin: ELSEWHERE } });
    assert.equal(busy.status, 503);
    assert.equal(busy.headers.get("access-control-allow-origin"), "*");
    await busy.body?.cancel();
  } finally {
    await full.stop();
  }
});

Deno.test("an event stream from another origin is allowed, and a preflight is answered", async () => {
  await using server = await startTestServer();
  const stream = await fetch(`${server.url}catalog/status`, {
    headers: { origin: ELSEWHERE, accept: "text/event-stream" },
  });
  assert.equal(stream.status, 200);
  assert.equal(stream.headers.get("access-control-allow-origin"), "*");
  await stream.body?.cancel();

  for (const path of FEEDS) {
    const preflight = await fetch(`${server.url}${path}`, {
      method: "OPTIONS",
      headers: {
        origin: ELSEWHERE,
        "access-control-request-method": "GET",
        "access-control-request-headers": "last-event-id",
      },
    });
    assert.equal(preflight.status, 204, path);
    assert.equal(preflight.headers.get("access-control-allow-origin"), "*");
    assert.equal(preflight.headers.get("access-control-allow-methods"), "GET");
    assert.match(preflight.headers.get("access-control-allow-headers")!, /Last-Event-ID/i);
    await preflight.body?.cancel();
  }
});

Deno.test("writes from another origin are still refused, and carry no CORS header", async () => {
  await using server = await startTestServer();
  const add = await fetch(`${server.url}cart`, {
    method: "POST",
    headers: { origin: ELSEWHERE, "content-type": "application/json" },
    body: JSON.stringify({ action: "add", session: crypto.randomUUID() }),
  });
  assert.equal(add.status, 403);
  assert.equal(add.headers.get("access-control-allow-origin"), null);
  await add.body?.cancel();
  const cart = await fetch(`${server.url}cart`, {
    method: "OPTIONS",
    headers: { origin: ELSEWHERE },
  });
  assert.equal(cart.status, 405, "no preflight lets a write through");
  await cart.body?.cancel();
});

Deno.test("/embed.js and the files it imports load as module scripts from any origin", async () => {
  await using server = await startTestServer();
  const embed = await fetch(`${server.url}embed.js`, { headers: { origin: ELSEWHERE } });
  assert.equal(embed.status, 200);
  assert.equal(embed.headers.get("access-control-allow-origin"), "*");
  assert.match(embed.headers.get("content-type")!, /^text\/javascript/);
  assert.match(await embed.text(), /from "\.\/static\/live_stock\.js"/);
  for (const name of ["live_stock.js", "connection.js", "live_state.js", "set_text.js"]) {
    const file = await fetch(`${server.url}static/${name}`, { headers: { origin: ELSEWHERE } });
    assert.equal(file.status, 200, name);
    assert.equal(file.headers.get("access-control-allow-origin"), "*", name);
    await file.body?.cancel();
  }
  const head = await fetch(`${server.url}embed.js`, { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.ok(Number(head.headers.get("content-length")) > 0);
  assert.equal(await head.text(), "");
});

Deno.test("/embed.js names every module the element imports, so a browser fetches them at once", async () => {
  const seen = new Set<string>();
  const queue = ["live_stock.js"];
  // Bounded: each file of static/ is read at most once.
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    const text = await Deno.readTextFile(new URL(`../static/${name}`, import.meta.url));
    for (const [, imported] of text.matchAll(/^import .* from "\.\/([^"]+)";$/gm)) {
      queue.push(imported);
    }
  }
  for (const name of seen) assert.match(EMBED_SCRIPT, new RegExp(`"\\./static/${name}"`), name);
});

Deno.test("a page elsewhere is held to the connections per address like our own", async () => {
  await using server = await startTestServer({ maxConnectionsPerClient: 1 });
  const waiting = new AbortController();
  // Version 0 is the current one: this long poll waits for the next change, holding its place.
  const held = fetch(`${server.url}cart/status?since=0`, {
    headers: { origin: ELSEWHERE },
    signal: waiting.signal,
  });
  await eventually(() => server.app.gauges().longPollWaiters === 1, "the first poll to wait");
  const refused = await fetch(`${server.url}cart/status?since=0`, {
    headers: { origin: ELSEWHERE },
  });
  assert.equal(refused.status, 429);
  assert.equal(refused.headers.get("access-control-allow-origin"), "*", "the page can tell");
  await refused.body?.cancel();
  waiting.abort();
  await held.catch(() => {});
});
