/** The client's address as the per-address limits and the admin sign-in count it. */
import { forwardedFor } from "./forwarded.ts";
import type { RouteContext } from "./router.ts";

/**
 * The key a request's client is counted under: the address the nearest proxy appended to
 * `X-Forwarded-For` (with `trustProxy`), else the peer's, else "unknown" for a request handed to
 * the app in process. An IPv6 address is grouped by its /64 (one subscriber's network), and an
 * IPv4-mapped IPv6 address counts as its IPv4 address.
 *
 * @param context The route's context.
 * @param trustProxy Believe the proxy's `X-Forwarded-For`.
 * @returns The client's key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RequestHead } from "./request_head.ts";
 * const request = new Request("http://shop.test/", { headers: { "x-forwarded-for": "203.0.113.9" } });
 * const context = {
 *   request, url: new URL(request.url), head: RequestHead.of(request), params: {}, body: undefined,
 *   connection: { remoteAddr: { transport: "tcp" as const, hostname: "2001:db8::7", port: 4000 } },
 * };
 * assert.equal(clientAddress(context, false), "2001:db8:0:0::/64");
 * assert.equal(clientAddress(context, true), "203.0.113.9");
 * ```
 */
export function clientAddress(context: RouteContext, trustProxy: boolean): string {
  const forwarded = trustProxy ? forwardedFor(context.request.headers) : undefined;
  const address = forwarded ?? context.connection?.remoteAddr.hostname;
  return address === undefined ? "unknown" : addressKey(address);
}

/**
 * The key of one address: an IPv4 address as it is; an IPv6 address as its first four groups
 * (its /64, in lower case without leading zeros) followed by `::/64`; an IPv4-mapped IPv6
 * address as its IPv4 address. Text that is neither is kept as it is.
 *
 * @param address An IPv4 or IPv6 address, as a socket or a proxy writes it.
 * @returns The key it is counted under.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(addressKey("127.0.0.2"), "127.0.0.2");
 * assert.equal(addressKey("2001:DB8:0001:2:aa::1"), "2001:db8:1:2::/64");
 * assert.equal(addressKey("2001:db8:1:2:ffff::9"), "2001:db8:1:2::/64");
 * assert.equal(addressKey("::ffff:192.0.2.1"), "192.0.2.1");
 * ```
 */
export function addressKey(address: string): string {
  if (!address.includes(":")) return address;
  const groups = ipv6Groups(address.replace(/^\[|\]$/g, "").replace(/%.*$/, ""));
  if (groups === undefined) return address;
  const mapped = groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff;
  if (mapped) {
    return [groups[6] >> 8, groups[6] & 0xff, groups[7] >> 8, groups[7] & 0xff].join(".");
  }
  return `${groups.slice(0, 4).map((group) => group.toString(16)).join(":")}::/64`;
}

/** The eight 16-bit groups of an IPv6 address (a dotted IPv4 tail allowed), or undefined. */
function ipv6Groups(address: string): number[] | undefined {
  const halves = address.split("::");
  if (halves.length > 2) return undefined;
  const parts = halves.map((half) => half === "" ? [] : half.split(":"));
  const groups = parts.map((list) => list.flatMap(groupValues));
  if (groups.some((list) => list.some(Number.isNaN))) return undefined;
  const [head, tail = []] = groups;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  return [...head, ...new Array(halves.length === 1 ? 0 : missing).fill(0), ...tail];
}

/** One group's value, or two for a dotted IPv4 tail; NaN where the text is not one. */
function groupValues(part: string): number[] {
  if (/^[0-9a-fA-F]{1,4}$/.test(part)) return [parseInt(part, 16)];
  const octets = part.split(".");
  if (octets.length !== 4 || !octets.every((octet) => /^\d{1,3}$/.test(octet))) return [NaN];
  const [a, b, c, d] = octets.map(Number);
  if ([a, b, c, d].some((octet) => octet > 255)) return [NaN];
  return [(a << 8) | b, (c << 8) | d];
}
