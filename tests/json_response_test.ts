/** jsonResponse: the JSON headers always, with or without headers of the caller's own. */
import assert from "node:assert/strict";
import { jsonResponse } from "../lib/http/http_error.ts";

Deno.test("a JSON answer carries its content type and no-store", async () => {
  const response = jsonResponse({ inventoryCount: 3, version: 7 });
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "application/json");
  assert.equal(response.headers.get("cache-control"), "no-store");
  assert.deepEqual(await response.json(), { inventoryCount: 3, version: 7 });
});

Deno.test("a serialized string is sent as it is", async () => {
  const response = jsonResponse('{"version":1}', { status: 409 });
  assert.equal(response.status, 409);
  assert.equal(await response.text(), '{"version":1}');
});

Deno.test("the caller's headers are kept, and ours win over theirs", () => {
  const response = jsonResponse({}, {
    status: 405,
    headers: { allow: "GET, HEAD", "cache-control": "max-age=60" },
  });
  assert.equal(response.headers.get("allow"), "GET, HEAD");
  assert.equal(response.headers.get("cache-control"), "no-store");
  assert.equal(response.headers.get("content-type"), "application/json");
});

Deno.test("answers do not share a headers object", () => {
  const first = jsonResponse({});
  first.headers.set("x-extra", "1");
  assert.equal(jsonResponse({}).headers.get("x-extra"), null);
});
