import assert from "node:assert/strict";
import fc from "fast-check";
import { addressKey, clientAddress } from "../lib/http/client_address.ts";
import { RequestHead } from "../lib/http/request_head.ts";
import { loopbackAddress, requestFrom } from "./support/from_address.ts";

function contextFrom(peer: string | undefined, forwarded?: string) {
  const headers: Record<string, string> = forwarded === undefined
    ? {}
    : { "x-forwarded-for": forwarded };
  const request = new Request("http://shop.test/cart", { headers });
  return {
    request,
    url: new URL(request.url),
    head: RequestHead.of(request),
    params: {},
    body: undefined,
    ...(peer === undefined
      ? {}
      : { connection: { remoteAddr: { transport: "tcp" as const, hostname: peer, port: 5000 } } }),
  };
}

Deno.test("the peer counts unless the proxy is trusted; then the address the proxy appended", () => {
  const context = contextFrom("127.0.0.1", "198.51.100.1, 203.0.113.9");
  assert.equal(clientAddress(context, false), "127.0.0.1");
  assert.equal(clientAddress(context, true), "203.0.113.9");
  assert.equal(clientAddress(contextFrom("127.0.0.1", "not an address"), true), "127.0.0.1");
  assert.equal(clientAddress(contextFrom(undefined), false), "unknown");
});

Deno.test("every IPv6 address of one /64 is one client; another /64 is another", () => {
  fc.assert(fc.property(fc.ipV6(), (address) => {
    const key = addressKey(address);
    if (key.includes(".")) {
      assert.match(key, /^\d+\.\d+\.\d+\.\d+$/);
      return;
    }
    assert.match(key, /^([0-9a-f]{1,4}:){4}:\/64$/);
    assert.equal(addressKey(address.toUpperCase()), key);
  }));
  assert.equal(addressKey("2001:db8:1:2::1"), addressKey("2001:db8:1:2:ffff:ffff:ffff:ffff"));
  assert.notEqual(addressKey("2001:db8:1:2::1"), addressKey("2001:db8:1:3::1"));
  assert.equal(addressKey("[2001:db8:1:2::1]"), "2001:db8:1:2::/64");
  assert.equal(addressKey("fe80::1%eth0"), "fe80:0:0:0::/64");
  assert.equal(addressKey("::ffff:127.0.0.2"), "127.0.0.2");
  assert.equal(addressKey("::1"), "0:0:0:0::/64");
});

Deno.test("text that is not an address is kept as it is, not folded into another's key", () => {
  for (const text of ["1:2:3", "1::2::3", "1:2:3:4:5:6:7:8:9", "g::1", "::ffff:1.2.3.256"]) {
    assert.equal(addressKey(text), text);
  }
});

Deno.test("a request sent from another loopback address is counted under that address", async () => {
  await using server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    (request, info) => {
      const url = new URL(request.url);
      const context = { request, url, head: RequestHead.of(request), params: {}, body: undefined };
      return new Response(clientAddress({ ...context, connection: info }, false));
    },
  );
  const base = `http://127.0.0.1:${server.addr.port}/`;
  for (const index of [0, 1, 300]) {
    const answer = await requestFrom(loopbackAddress(index), base);
    assert.equal(answer.body, loopbackAddress(index));
  }
  assert.deepEqual([0, 252, 253].map(loopbackAddress), ["127.0.0.2", "127.0.0.254", "127.0.1.2"]);
});
