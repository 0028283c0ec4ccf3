/** The proxy headers the server believes behind --trust-proxy: X-Forwarded-* first, then RFC 7239. */
import assert from "node:assert/strict";
import { type ForwardedRequest, readForwarded } from "../lib/http/forwarded.ts";

const cases: [string, Record<string, string>, ForwardedRequest][] = [
  ["no proxy headers", {}, {}],
  [
    "X-Forwarded-Proto and -Host",
    { "x-forwarded-proto": "HTTPS", "x-forwarded-host": "shop.example:8443" },
    { proto: "https", host: "shop.example:8443" },
  ],
  [
    "the first of several values: the one the proxy nearest the client wrote",
    { "x-forwarded-proto": "https, http", "x-forwarded-host": "shop.example, inventory:8000" },
    { proto: "https", host: "shop.example" },
  ],
  [
    "Forwarded: the first element's proto and quoted host",
    { forwarded: 'for=192.0.2.60;proto=https;host="shop.example:8443", for=10.0.0.1;host=inner' },
    { proto: "https", host: "shop.example:8443" },
  ],
  [
    "Forwarded: names in any case, spaces around pairs, token values",
    { forwarded: " Proto=http ; HOST=shop.example " },
    { proto: "http", host: "shop.example" },
  ],
  [
    "Forwarded: a quoted value with escapes and a comma inside",
    { forwarded: 'for="_a,b\\"c";host="[2001:db8::1]:8443"' },
    { host: "[2001:db8::1]:8443" },
  ],
  [
    "Forwarded: only the first element counts",
    { forwarded: "for=192.0.2.60, proto=https;host=evil.example" },
    {},
  ],
  [
    "X-Forwarded-* win over Forwarded, field by field",
    { "x-forwarded-host": "shop.example", forwarded: "proto=https;host=other.example" },
    { proto: "https", host: "shop.example" },
  ],
  ["Forwarded: a malformed element is not believed", { forwarded: 'proto=https;host="a' }, {}],
  ["Forwarded: a parameter named twice", { forwarded: "proto=https;proto=http" }, {}],
  ["a scheme other than http and https", { "x-forwarded-proto": "ftp" }, {}],
  ["a host with a path", { "x-forwarded-host": "shop.example/cart" }, {}],
  ["a host with user info", { "x-forwarded-host": "evil.example@shop.example" }, {}],
  ["an empty host", { "x-forwarded-host": " , shop.example" }, {}],
];

for (const [name, headers, expected] of cases) {
  Deno.test(`readForwarded: ${name}`, () => {
    assert.deepEqual(readForwarded(new Headers(headers)), expected);
  });
}
