/** Which origins are our own, in process: the request's, and a trusted proxy's forwarded one. */
import assert from "node:assert/strict";
import { isHttpsRequest, isTrustedOrigin, originGuard, ownOrigins } from "../lib/http/origin.ts";
import { RefusalLog } from "../lib/http/refusal_log.ts";
import { HttpError } from "../lib/http/http_error.ts";

/** What nginx's `proxy_set_header Host $host` sends for a page on http://127.0.0.1:8080/. */
const behindNginx = (headers: Record<string, string> = {}) =>
  new Request("http://127.0.0.1/cart/status", {
    headers: {
      "x-forwarded-host": "127.0.0.1:8080",
      "x-forwarded-proto": "http",
      origin: "http://127.0.0.1:8080",
      ...headers,
    },
  });

Deno.test("X-Forwarded-Host names one of our origins only with trustProxy", () => {
  assert.deepEqual(ownOrigins(behindNginx(), { trustProxy: false }), ["http://127.0.0.1"]);
  assert.deepEqual(ownOrigins(behindNginx(), { trustProxy: true }), [
    "http://127.0.0.1",
    "http://127.0.0.1:8080",
  ]);
});

Deno.test("a forwarded proto alone keeps our host; a forwarded host alone keeps our scheme", () => {
  const tls = new Request("http://shop.example/", { headers: { "x-forwarded-proto": "https" } });
  assert.deepEqual(ownOrigins(tls, { trustProxy: true }), [
    "http://shop.example",
    "https://shop.example",
  ]);
  const renamed = new Request("http://inventory:8000/", {
    headers: { forwarded: 'host="shop.example"' },
  });
  assert.deepEqual(ownOrigins(renamed, { trustProxy: true }), [
    "http://inventory:8000",
    "http://shop.example",
  ]);
});

Deno.test("a forwarded origin equal to the request's is listed once; a bad port is ignored", () => {
  const same = new Request("http://shop.example/", { headers: { "x-forwarded-proto": "http" } });
  assert.deepEqual(ownOrigins(same, { trustProxy: true }), ["http://shop.example"]);
  const port = new Request("http://shop.example/", {
    headers: { "x-forwarded-host": "shop.example:99999" },
  });
  assert.deepEqual(ownOrigins(port, { trustProxy: true }), ["http://shop.example"]);
});

Deno.test("HTTPS is the server's own or, with trustProxy, the proxy's word", () => {
  const plain = new Request("http://shop.example/");
  const forwarded = new Request("http://shop.example/", { headers: { forwarded: "proto=https" } });
  assert.equal(isHttpsRequest(plain, { https: true, trustProxy: false }), true);
  assert.equal(isHttpsRequest(plain, { https: false, trustProxy: true }), false);
  assert.equal(isHttpsRequest(forwarded, { https: false, trustProxy: false }), false);
  assert.equal(isHttpsRequest(forwarded, { https: false, trustProxy: true }), true);
});

Deno.test("the origin guard passes the proxy's page origin with trustProxy and logs refusals", () => {
  const lines: string[] = [];
  const refusals = new RefusalLog({ now: () => 0, log: (line) => lines.push(line) });
  const policy = { allowedOrigins: ["https://partner.example"], trustProxy: true };
  originGuard(policy, refusals)(behindNginx());
  originGuard(policy, refusals)(behindNginx({ origin: "https://partner.example" }));
  assert.deepEqual(lines, []);

  const untrusting = originGuard({ ...policy, trustProxy: false }, refusals);
  assert.throws(
    () => untrusting(behindNginx()),
    (error) => error instanceof HttpError && error.status === 403,
  );
  assert.throws(() =>
    originGuard(policy, refusals)(behindNginx({ origin: "http://evil.example" }))
  );
  assert.deepEqual(lines, [
    'refused origin "http://127.0.0.1:8080" (compared with "http://127.0.0.1")',
    'refused origin "http://evil.example" (compared with "http://127.0.0.1", ' +
    '"http://127.0.0.1:8080")',
  ]);
});

Deno.test("Sec-Fetch-Site passes same-origin and none only: same-site and cross-site need a trusted Origin", () => {
  const ours = ["http://shop.example", "https://partner.example"];
  const cases: [string | null, string | null, boolean][] = [
    ["same-origin", "http://evil.example", true],
    ["none", null, true],
    [null, null, true],
    // A sibling subdomain (another tenant, a forum) is same-site, not ours.
    ["same-site", "http://evil.shop.example", false],
    ["same-site", "http://evil.example", false],
    ["same-site", null, false],
    ["cross-site", "http://evil.example", false],
    ["same-site", "http://shop.example", true],
    ["cross-site", "https://partner.example", true],
  ];
  for (const [fetchSite, origin, trusted] of cases) {
    assert.equal(
      isTrustedOrigin({ fetchSite, origin }, ours),
      trusted,
      `Sec-Fetch-Site ${fetchSite} with Origin ${origin}`,
    );
  }

  const lines: string[] = [];
  const guard = originGuard(
    { allowedOrigins: [], trustProxy: false },
    new RefusalLog({ now: () => 0, log: (line) => lines.push(line) }),
  );
  const request = new Request("http://shop.example/cart", {
    method: "POST",
    headers: { "sec-fetch-site": "same-site", origin: "http://evil.shop.example" },
  });
  assert.throws(
    () => guard(request),
    (error) => error instanceof HttpError && error.status === 403,
    "a same-site request from a foreign origin is refused",
  );
  assert.deepEqual(lines, [
    'refused origin "http://evil.shop.example" (compared with "http://shop.example")',
  ]);
});
