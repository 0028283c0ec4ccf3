/** Every change made through the admin API is logged in one line, with the client's address and never the token. */
import assert from "node:assert/strict";
import { spawnServer } from "./support/server.ts";

const TOKEN = "admin-token-for-tests-0001";

Deno.test("each admin change is one line saying what changed and from which address, without the token", async () => {
  await using server = await spawnServer(["--admin-token", TOKEN, "--inventory", "5"]);
  const send = async (method: string, path: string, body: unknown, token = TOKEN) => {
    const response = await fetch(new URL(path, server.url), {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    await response.body?.cancel();
    return response.status;
  };
  const price = { amount: "9.00", currency: "EUR" };
  const opensAt = new Date(Date.now() + 3_600_000).toISOString();
  assert.equal(await send("PUT", "/admin/products/pin", { name: "Pin", price, total: 3 }), 201);
  assert.equal(await send("PATCH", "/admin/products/pin", { total: 4, opensAt }), 200);
  assert.equal(await send("POST", "/admin/inventory", { product: "pin", total: 6 }), 200);
  assert.equal(await send("POST", "/admin/products/pin/queue", { paused: true }), 200);
  assert.equal(await send("DELETE", "/admin/products/pin", undefined), 200);
  // Refused requests change nothing and are not logged as changes.
  assert.equal(await send("PATCH", "/admin/products/pin", { colour: "blue" }), 409);
  assert.equal(await send("PATCH", "/admin/products/nope", { total: 1 }), 404);
  assert.equal(await send("PATCH", "/admin/products/pin", { total: 1 }, `${TOKEN}x`), 403);

  const lines = () => server.output().split("\n").filter((line) => line.startsWith("Admin: "));
  const expected = [
    'Admin: PUT /admin/products/pin from 127.0.0.1: added "pin" (total 3)',
    `Admin: PATCH /admin/products/pin from 127.0.0.1: "pin" opensAt nothing -> "${opensAt}", total 3 -> 4`,
    'Admin: POST /admin/inventory from 127.0.0.1: "pin" total 4 -> 6',
    'Admin: POST /admin/products/pin/queue from 127.0.0.1: "pin" queue {"paused":true}',
    'Admin: DELETE /admin/products/pin from 127.0.0.1: "pin" retired false -> true',
  ];
  assert.deepEqual(lines(), expected, server.output());
  assert.ok(!server.output().includes(TOKEN), "the token is never printed");
});
