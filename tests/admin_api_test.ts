/** The admin API: bearer auth, validation, a restock pushed live, the product list and retiring. */
import assert from "node:assert/strict";
import { DEMO, holds, startTestServer, stateOf } from "./support/server.ts";
import { catalogOf } from "./support/products.ts";
import type { RunningServer } from "../lib/server/start_server.ts";
import { openLongPollFeed, openSseFeed, openWebSocketFeed } from "./support/status_clients.ts";
import { postCart, productFeed } from "./support/clients.ts";

const TOKEN = "admin-token-for-tests-0001";

async function restock(
  base: string,
  body: string,
  authorization: string | null = `Bearer ${TOKEN}`,
  contentType = "application/json",
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const headers: Record<string, string> = { "content-type": contentType };
  if (authorization !== null) headers.authorization = authorization;
  const response = await fetch(new URL("admin/inventory", base), {
    method: "POST",
    headers,
    body,
  });
  return { status: response.status, body: await response.json(), headers: response.headers };
}

Deno.test({
  name: "a restock reaches WebSocket, SSE and long-poll subscribers",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using server = await startTestServer({ adminToken: TOKEN });
    await using socket = await openWebSocketFeed(server.url);
    await using stream = await openSseFeed(server.url);
    await using poll = openLongPollFeed(server.url, 0);

    const answer = await restock(server.url, JSON.stringify({ total: 25 }));
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, {
      product: DEMO,
      inventoryCount: 25,
      version: 1,
      total: 25,
      held: 0,
    });
    const expected = { inventoryCount: 25, version: 1 };
    for (const feed of [socket, stream, poll]) {
      assert.deepEqual(await feed.waitFor((state) => state.version === 1), expected);
    }
  },
});

Deno.test("a lower total keeps the holds and sells nothing until it is back above", async () => {
  await using server = await startTestServer({ adminToken: TOKEN, inventory: 3 });
  const sessions = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
  for (const session of sessions) {
    assert.equal((await postCart(server.url, "add", session)).status, 200);
  }

  const lowered = await restock(server.url, JSON.stringify({ total: 1 }));
  assert.deepEqual(lowered.body, {
    product: DEMO,
    inventoryCount: 0,
    version: 4,
    total: 1,
    held: 3,
  });
  assert.equal((await postCart(server.url, "add", crypto.randomUUID())).status, 409);
  assert.equal((await postCart(server.url, "add", sessions[0])).status, 200, "a holder keeps it");

  const raised = await restock(server.url, JSON.stringify({ total: 5 }));
  assert.deepEqual(raised.body, {
    product: DEMO,
    inventoryCount: 2,
    version: 5,
    total: 5,
    held: 3,
  });
  assert.equal((await postCart(server.url, "add", crypto.randomUUID())).status, 200);
});

Deno.test("a missing or wrong token is refused and changes nothing", async () => {
  await using server = await startTestServer({ adminToken: TOKEN });
  const body = JSON.stringify({ total: 99 });

  const missing = await restock(server.url, body, null);
  assert.equal(missing.status, 401);
  assert.match(missing.headers.get("www-authenticate") ?? "", /^Bearer/);
  assert.equal((await restock(server.url, body, `Basic ${btoa("a:b")}`)).status, 401);
  assert.equal((await restock(server.url, body, `Bearer ${TOKEN}x`)).status, 403);
  assert.equal((await restock(server.url, body, `Bearer ${TOKEN.slice(1)}`)).status, 403);
  assert.deepEqual(stateOf(server), { inventoryCount: 10, version: 0 });
});

Deno.test("a bad total is refused with 400 and changes nothing", async () => {
  await using server = await startTestServer({ adminToken: TOKEN });
  const bodies = [
    "",
    "not json",
    "[]",
    "null",
    "{}",
    JSON.stringify({ total: -1 }),
    JSON.stringify({ total: 1.5 }),
    JSON.stringify({ total: "12" }),
    JSON.stringify({ total: 1e12 }),
    '{"total": 3, "total": 12}',
  ];
  for (const body of bodies) {
    const answer = await restock(server.url, body);
    assert.equal(answer.status, 400, body);
    assert.equal(typeof answer.body.error, "string");
  }
  assert.equal((await restock(server.url, "total=3", null, "text/plain")).status, 401);
  assert.equal((await restock(server.url, "total=3", `Bearer ${TOKEN}`, "text/plain")).status, 415);
  assert.deepEqual(stateOf(server), { inventoryCount: 10, version: 0 });
});

Deno.test("without a token the admin route does not exist", async () => {
  await using server = await startTestServer();
  const answer = await restock(server.url, JSON.stringify({ total: 3 }));
  assert.equal(answer.status, 404);
  assert.deepEqual(stateOf(server), { inventoryCount: 10, version: 0 });
});

Deno.test("the admin route answers only POST", async () => {
  await using server = await startTestServer({ adminToken: TOKEN });
  const response = await fetch(new URL("admin/inventory", server.url));
  await response.body?.cancel();
  assert.equal(response.status, 405);
  assert.equal(response.headers.get("allow"), "POST");
});

/** Sends an admin request in process, and reads its JSON answer. */
async function admin(
  server: RunningServer,
  method: string,
  path: string,
  authorization: string | null = `Bearer ${TOKEN}`,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = {};
  if (authorization !== null) headers.authorization = authorization;
  const response = await server.app.handle(
    new Request(new URL(path, "http://localhost/"), { method, headers }),
  );
  return { status: response.status, body: await response.json() };
}

Deno.test("GET /admin/products lists every product with its stock, retired ones too", async () => {
  await using server = await startTestServer(
    { adminToken: TOKEN },
    { catalog: catalogOf({ a: 2, b: 3 }) },
  );
  await postCart(server.url, "add", crypto.randomUUID(), "b");
  await server.inventory.retire("a");
  const { status, body } = await admin(server, "GET", "/admin/products");
  assert.equal(status, 200);
  const products = body.products as Record<string, unknown>[];
  assert.deepEqual(
    products.map(({ id, total, held, inventoryCount, version, retired }) => ({
      id,
      total,
      held,
      inventoryCount,
      version,
      retired,
    })),
    [
      { id: "a", total: 2, held: 0, inventoryCount: 2, version: 1, retired: true },
      { id: "b", total: 3, held: 1, inventoryCount: 2, version: 1, retired: false },
    ],
  );
});

Deno.test({
  name: "DELETE /admin/products/:id retires a product: holds end, subscribers hear it last",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using server = await startTestServer(
      { adminToken: TOKEN },
      { catalog: catalogOf({ a: 2, b: 3 }) },
    );
    const shopper = crypto.randomUUID();
    await postCart(server.url, "add", shopper, "a");
    await using socket = await openWebSocketFeed(server.url, {}, productFeed("a"));

    const retired = await admin(server, "DELETE", "/admin/products/a");
    assert.equal(retired.status, 200);
    assert.deepEqual([retired.body.id, retired.body.retired, retired.body.held], ["a", true, 0]);
    assert.deepEqual(await socket.waitFor((state) => state.version === 2), {
      inventoryCount: 2,
      version: 2,
    });
    assert.equal(await holds(server, shopper, "a"), false);
    assert.equal((await postCart(server.url, "add", shopper, "a")).status, 404);
    const status = await fetch(new URL("cart/status?product=a", server.url));
    await status.body?.cancel();
    assert.equal(status.status, 410);

    assert.equal((await admin(server, "DELETE", "/admin/products/nope")).status, 404);
    assert.deepEqual(stateOf(server, "b"), { inventoryCount: 3, version: 0 });
  },
});

Deno.test("the product routes refuse a missing token with 401 and a wrong one with 403", async () => {
  await using server = await startTestServer(
    { adminToken: TOKEN },
    { catalog: catalogOf({ a: 2, b: 3 }) },
  );
  for (const [method, path] of [["GET", "/admin/products"], ["DELETE", "/admin/products/a"]]) {
    assert.equal((await admin(server, method, path, null)).status, 401, path);
    assert.equal((await admin(server, method, path, `Bearer ${TOKEN}x`)).status, 403, path);
  }
  assert.equal(server.inventory.get("a")?.retired, false);
});

Deno.test("POST /admin/inventory on a catalog of several products answers 409", async () => {
  await using server = await startTestServer(
    { adminToken: TOKEN },
    { catalog: catalogOf({ a: 2, b: 3 }) },
  );
  const answer = await restock(server.url, JSON.stringify({ total: 9 }));
  assert.equal(answer.status, 409);
  assert.match(String(answer.body.error), /several products/);
  assert.deepEqual(stateOf(server, "a"), { inventoryCount: 2, version: 0 });
});

Deno.test("POST /admin/inventory restocks the product its body names, of several", async () => {
  await using server = await startTestServer(
    { adminToken: TOKEN },
    { catalog: catalogOf({ a: 2, b: 3 }) },
  );
  const answer = await restock(server.url, JSON.stringify({ product: "b", total: 7 }));
  assert.equal(answer.status, 200);
  assert.deepEqual(answer.body, { product: "b", inventoryCount: 7, version: 1, total: 7, held: 0 });
  assert.deepEqual(stateOf(server, "a"), { inventoryCount: 2, version: 0 });

  const unknown = await restock(server.url, JSON.stringify({ product: "nope", total: 1 }));
  assert.deepEqual([unknown.status, unknown.body.error], [404, 'No product "nope"']);
  const bad = await restock(server.url, JSON.stringify({ product: 7, total: 1 }));
  assert.deepEqual([bad.status, bad.body.error], [
    400,
    'Field "product" must be a product id, got 7',
  ]);
  assert.equal((await admin(server, "DELETE", "/admin/products/a")).status, 200);
  const retired = await restock(server.url, JSON.stringify({ product: "a", total: 5 }));
  assert.equal(retired.status, 409);
  assert.match(String(retired.body.error), /^Product "a" is retired/);
  assert.equal(server.inventory.get("a")?.total, 2);
});

Deno.test("PUT /admin/products/:id takes limitPerShopper from 1 to 100 (default 1); a bad one is 400 and changes nothing", async () => {
  await using server = await startTestServer({ adminToken: TOKEN });
  const put = async (fields: Record<string, unknown>) => {
    const response = await server.app.handle(
      new Request("http://localhost/admin/products/moon-pin", {
        method: "PUT",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({
          name: "Moon pin",
          price: { amount: "9.00", currency: "EUR" },
          total: 4,
          ...fields,
        }),
      }),
    );
    return { status: response.status, body: await response.json() };
  };
  const created = await put({ limitPerShopper: 3 });
  assert.equal(created.status, 201);
  assert.equal(created.body.limitPerShopper, 3);
  for (const bad of [0, 101, 2.5, "3", null]) {
    const refused = await put({ limitPerShopper: bad });
    assert.equal(refused.status, 400, JSON.stringify(bad));
    assert.deepEqual(refused.body, {
      error:
        `product "moon-pin": field "limitPerShopper" must be a whole number from 1 to 100, got ${
          JSON.stringify(bad)
        }`,
    });
  }
  assert.equal(server.inventory.get("moon-pin")?.info.limitPerShopper, 3, "nothing changed");
  assert.equal((await put({})).body.limitPerShopper, 1, "a PUT without it sets the default");
});

/** Sends an admin `PATCH` of a product through the app, with the token. */
async function patch(
  server: RunningServer,
  id: string,
  body: unknown,
  authorization: string | null = `Bearer ${TOKEN}`,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (authorization !== null) headers.authorization = authorization;
  const response = await server.app.handle(
    new Request(`http://localhost/admin/products/${id}`, {
      method: "PATCH",
      headers,
      body: JSON.stringify(body),
    }),
  );
  return { status: response.status, body: await response.json() };
}

Deno.test("PATCH /admin/products/:id changes only the fields given and keeps the file's picture", async () => {
  await using server = await startTestServer(
    { adminToken: TOKEN },
    { catalog: catalogOf({ a: 2, b: 3 }) },
  );
  await server.inventory.list({
    info: { ...server.inventory.get("a")!.info, image: "/media/a.svg", description: "Blue" },
  });
  const shopper = crypto.randomUUID();
  await postCart(server.url, "add", shopper, "a");

  const repriced = await patch(server, "a", { price: { amount: "7.50", currency: "EUR" } });
  assert.equal(repriced.status, 200);
  assert.deepEqual(
    { ...repriced.body, version: undefined },
    {
      id: "a",
      name: "Product a",
      description: "Blue",
      price: { amount: "7.50", currency: "EUR" },
      image: "/media/a.svg",
      limitPerShopper: 1,
      total: 2,
      held: 1,
      sold: 0,
      inventoryCount: 1,
      version: undefined,
      retired: false,
    },
  );

  const restocked = await patch(server, "a", { total: 6, limitPerShopper: 2 });
  assert.deepEqual(
    [restocked.body.total, restocked.body.held, restocked.body.limitPerShopper],
    [6, 1, 2],
    "a total is a restock; holds stay",
  );
  assert.equal(await holds(server, shopper, "a"), true);

  const removed = await patch(server, "a", {
    description: null,
    image: null,
    limitPerShopper: null,
  });
  assert.deepEqual(
    [removed.body.description, removed.body.image, removed.body.limitPerShopper],
    ["", null, 1],
    "null removes an optional field",
  );
  const pictured = await patch(server, "a", { image: "https://cdn.example/a.png" });
  assert.equal(pictured.body.image, "https://cdn.example/a.png");
  assert.deepEqual(stateOf(server, "b"), { inventoryCount: 3, version: 0 }, "b is untouched");
});

Deno.test("PATCH /admin/products/:id refuses bad, unknown and required-null fields and changes nothing", async () => {
  await using server = await startTestServer(
    { adminToken: TOKEN },
    { catalog: catalogOf({ a: 2 }) },
  );
  const before = server.inventory.get("a");
  const refusals: [unknown, number, string][] = [
    [{ colour: "blue" }, 400, 'product "a": unknown field "colour"'],
    [
      { name: null },
      400,
      'product "a": field "name" must be text of 1 to 200 characters without control characters, got null',
    ],
    [
      { price: null },
      400,
      'product "a": field "price" must be an object {"amount", "currency"}, got null',
    ],
    [
      { total: -1 },
      400,
      'product "a": field "total" must be a whole number from 0 to 1000000000, got -1',
    ],
    [{ image: "a.png" }, 400, 'product "a": field "image" must be an https:// URL, got "a.png"'],
    [{ id: "b" }, 400, 'Field "id" must be "a" as in the URL, got "b"'],
    [[1], 400, "Body must be a JSON object"],
  ];
  for (const [body, status, error] of refusals) {
    assert.deepEqual(
      await patch(server, "a", body),
      { status, body: { error } },
      JSON.stringify(body),
    );
  }
  assert.equal(server.inventory.get("a"), before, "nothing changed");
  assert.equal((await patch(server, "nope", { total: 1 })).status, 404);
  assert.equal((await patch(server, "a", { total: 1 }, null)).status, 401);
  assert.equal((await patch(server, "a", { total: 1 }, `Bearer ${TOKEN}x`)).status, 403);
  await server.inventory.retire("a");
  assert.equal((await patch(server, "a", { total: 1 })).status, 409);
});
