/** POST /cart over real sockets: every answer the protocol promises, and refusals that change nothing. */
import assert from "node:assert/strict";
import { DEMO, startTestServer, stateOf } from "./support/server.ts";
import { postCart } from "./support/clients.ts";
import { catalogOf } from "./support/products.ts";

Deno.test("add and remove answer the new state and are idempotent per session", async () => {
  await using server = await startTestServer({ inventory: 3 });
  const shopper = crypto.randomUUID();
  const first = await postCart(server.url, "add", shopper);
  assert.equal(first.status, 200);
  assert.equal(first.headers.get("content-type"), "application/json");
  assert.deepEqual(first.body, { product: DEMO, inventoryCount: 2, version: 1, inCart: true });
  assert.deepEqual((await postCart(server.url, "add", shopper)).body, {
    product: DEMO,
    inventoryCount: 2,
    version: 1,
    inCart: true,
  });
  assert.deepEqual((await postCart(server.url, "remove", shopper)).body, {
    product: DEMO,
    inventoryCount: 3,
    version: 2,
    inCart: false,
  });
  assert.deepEqual((await postCart(server.url, "remove", shopper)).body, {
    product: DEMO,
    inventoryCount: 3,
    version: 2,
    inCart: false,
  });
});

Deno.test("a form-encoded body works like JSON", async () => {
  await using server = await startTestServer({ inventory: 3 });
  const response = await fetch(new URL("cart", server.url), {
    method: "POST",
    body: new URLSearchParams({ action: "add", session: crypto.randomUUID() }),
  });
  assert.deepEqual(await response.json(), {
    product: DEMO,
    inventoryCount: 2,
    version: 1,
    inCart: true,
  });
});

Deno.test("the session falls back to the sid cookie", async () => {
  await using server = await startTestServer({ inventory: 3 });
  const page = await fetch(server.url);
  await page.body?.cancel();
  const cookie = page.headers.get("set-cookie")!.split(";")[0];
  const response = await fetch(new URL("cart", server.url), {
    method: "POST",
    headers: { "content-type": "application/json", cookie },
    body: JSON.stringify({ action: "add" }),
  });
  assert.deepEqual(await response.json(), {
    product: DEMO,
    inventoryCount: 2,
    version: 1,
    inCart: true,
  });
  const again = await fetch(server.url, { headers: { cookie } });
  assert.equal(again.headers.get("set-cookie"), null, "a known session keeps its cookie");
  assert.match(await again.text(), /data-in-cart="true"/);
});

Deno.test("adding with none left answers 409 sold out and changes nothing", async () => {
  await using server = await startTestServer({ inventory: 1 });
  await postCart(server.url, "add", crypto.randomUUID());
  const response = await postCart(server.url, "add", crypto.randomUUID());
  assert.equal(response.status, 409);
  assert.deepEqual(response.body, {
    error: "sold out",
    product: DEMO,
    inventoryCount: 0,
    version: 1,
  });
  assert.deepEqual(stateOf(server), { inventoryCount: 0, version: 1 });
});

Deno.test("50 concurrent adds on 10 units sell exactly 10", async () => {
  // The adds share one address: the per-address limit of holds is not what this test counts.
  await using server = await startTestServer({ inventory: 10, maxHoldsPerClient: 0 });
  const answers = await Promise.all(
    Array.from({ length: 50 }, () => postCart(server.url, "add", crypto.randomUUID())),
  );
  const statuses = answers.map((answer) => answer.status);
  assert.equal(statuses.filter((s) => s === 200).length, 10);
  assert.equal(statuses.filter((s) => s === 409).length, 40);
  assert.deepEqual(stateOf(server), { inventoryCount: 0, version: 10 });
});

const session = crypto.randomUUID();
const json = "application/json";
const refusals: [string, RequestInit, number, RegExp][] = [
  [
    "no action",
    { headers: { "content-type": json }, body: `{"session":"${session}"}` },
    400,
    /Action is missing/,
  ],
  [
    "an unknown action",
    { headers: { "content-type": json }, body: `{"action":"buy","session":"${session}"}` },
    400,
    /Action must be/,
  ],
  [
    "no session",
    { headers: { "content-type": json }, body: `{"action":"add"}` },
    400,
    /Session is missing/,
  ],
  [
    "a session that is not a UUID",
    { headers: { "content-type": json }, body: `{"action":"add","session":"abc"}` },
    400,
    /Session must be a UUID/,
  ],
  [
    "a number for the action",
    { headers: { "content-type": json }, body: `{"action":1,"session":"${session}"}` },
    400,
    /must be a string/,
  ],
  [
    "an array for the session",
    { headers: { "content-type": json }, body: `{"action":"add","session":["${session}"]}` },
    400,
    /flat JSON object/,
  ],
  [
    "malformed JSON",
    { headers: { "content-type": json }, body: `{"action":` },
    400,
    /not valid JSON/,
  ],
  ["a JSON array", { headers: { "content-type": json }, body: `["add"]` }, 400, /JSON object/],
  [
    "a repeated form field",
    { body: new URLSearchParams([["action", "add"], ["action", "remove"], ["session", session]]) },
    400,
    /more than once/,
  ],
  [
    "invalid UTF-8",
    { headers: { "content-type": json }, body: new Uint8Array([0x7b, 0xff, 0x7d]) },
    400,
    /UTF-8/,
  ],
  [
    "a body over 4 KiB",
    {
      headers: { "content-type": json },
      body: JSON.stringify({ action: "add", session, pad: "x".repeat(5000) }),
    },
    413,
    /larger than 4096/,
  ],
  [
    "a body over 4 KiB without Content-Length",
    {
      headers: { "content-type": json },
      body: ReadableStream.from([new TextEncoder().encode("x".repeat(5000))]),
    },
    413,
    /larger than 4096/,
  ],
  [
    "text/plain",
    { headers: { "content-type": "text/plain" }, body: "action=add" },
    415,
    /Content-Type/,
  ],
  ["no content type", { body: new Uint8Array([1]) }, 415, /Content-Type/],
  [
    "a charset other than UTF-8",
    {
      headers: { "content-type": `${json}; charset=latin1` },
      body: `{"action":"add","session":"${session}"}`,
    },
    415,
    /Charset must be utf-8/,
  ],
  [
    "another origin",
    {
      headers: { "content-type": json, origin: "http://evil.example" },
      body: `{"action":"add","session":"${session}"}`,
    },
    403,
    /Cross-origin/,
  ],
  [
    "a cross-site fetch",
    {
      headers: { "content-type": json, "sec-fetch-site": "cross-site" },
      body: `{"action":"add","session":"${session}"}`,
    },
    403,
    /Cross-origin/,
  ],
];
for (const [what, init, status, message] of refusals) {
  Deno.test(`POST /cart with ${what} answers ${status} and changes nothing`, async () => {
    await using server = await startTestServer({ inventory: 2 });
    const response = await fetch(new URL("cart", server.url), { method: "POST", ...init });
    assert.equal(response.status, status);
    assert.equal(response.headers.get("content-type"), "application/json");
    assert.match((await response.json()).error, message);
    assert.deepEqual(stateOf(server), { inventoryCount: 2, version: 0 });
  });
}

Deno.test("a same-origin or allowed-origin post is accepted", async () => {
  await using server = await startTestServer({ allowedOrigins: ["https://shop.example"] });
  const own = new URL(server.url).origin;
  for (const origin of [own, "https://shop.example"]) {
    const response = await fetch(new URL("cart", server.url), {
      method: "POST",
      headers: { "content-type": json, origin },
      body: JSON.stringify({ action: "add", session: crypto.randomUUID() }),
    });
    assert.equal(response.status, 200, origin);
    await response.body?.cancel();
  }
});

Deno.test("other methods on /cart answer 405 with Allow", async () => {
  await using server = await startTestServer();
  for (const method of ["PUT", "DELETE", "PATCH"]) {
    const response = await fetch(new URL("cart", server.url), { method });
    assert.equal(response.status, 405, method);
    const allowed = response.headers.get("allow")?.split(",").map((name) => name.trim());
    assert.deepEqual(allowed?.sort(), ["GET", "POST"]);
    assert.match((await response.json()).error, /not allowed/);
  }
});

Deno.test("GET /cart lists what the sid cookie's session holds, with its expiry", async () => {
  await using server = await startTestServer({}, { catalog: catalogOf({ a: 2, b: 2, c: 2 }) });
  const shopper = crypto.randomUUID();
  // Added out of catalog order: the cart lists them in catalog order.
  for (const product of ["c", "a"]) {
    assert.equal((await postCart(server.url, "add", shopper, product)).status, 200);
  }
  const response = await fetch(new URL("cart", server.url), {
    headers: { cookie: `sid=${shopper}` },
  });
  assert.equal(response.status, 200);
  const { items } = await response.json();
  assert.deepEqual(items.map((item: { product: string }) => item.product), ["a", "c"]);
  for (const item of items) {
    assert.equal(new Date(item.expiresAt).toISOString(), item.expiresAt);
    assert.ok(Date.parse(item.expiresAt) > Date.now(), "the hold is in the future");
  }
  const anonymous = await fetch(new URL("cart", server.url));
  assert.deepEqual(await anonymous.json(), { items: [] });
});

Deno.test("each product of a catalog has its own stock, versions and sold out", async () => {
  await using server = await startTestServer({}, { catalog: catalogOf({ a: 1, b: 3 }) });
  const shopper = crypto.randomUUID();
  assert.deepEqual((await postCart(server.url, "add", shopper, "a")).body, {
    product: "a",
    inventoryCount: 0,
    version: 1,
    inCart: true,
  });
  assert.deepEqual((await postCart(server.url, "add", shopper, "b")).body, {
    product: "b",
    inventoryCount: 2,
    version: 1,
    inCart: true,
  });
  const refused = await postCart(server.url, "add", crypto.randomUUID(), "a");
  assert.equal(refused.status, 409);
  assert.deepEqual(refused.body, {
    error: "sold out",
    product: "a",
    inventoryCount: 0,
    version: 1,
  });
  assert.deepEqual(stateOf(server, "b"), { inventoryCount: 2, version: 1 });
});

Deno.test("on a catalog of several products a post must name one on sale", async () => {
  await using server = await startTestServer({}, { catalog: catalogOf({ a: 2, b: 2 }) });
  const missing = await postCart(server.url, "add", crypto.randomUUID());
  assert.equal(missing.status, 400);
  assert.match(missing.body.error!, /Product is missing/);
  const unknown = await postCart(server.url, "add", crypto.randomUUID(), "nope");
  assert.equal(unknown.status, 404);
  assert.match(unknown.body.error!, /No product "nope"/);

  await server.inventory.retire("b");
  for (const action of ["add", "remove"] as const) {
    const retired = await postCart(server.url, action, crypto.randomUUID(), "b");
    assert.equal(retired.status, 404, action);
  }
  assert.deepEqual(stateOf(server, "a"), { inventoryCount: 2, version: 0 });
});
