/** Reads what a reverse proxy says of the client: its scheme and host, and its address. */

/** The scheme and host of the client's request as the proxy in front of us reports them. */
export interface ForwardedRequest {
  /** `http` or `https`; absent when no header names one of them. */
  proto?: "http" | "https";
  /** Host and optional port, e.g. `shop.example:8443`; absent when none is named or it is malformed. */
  host?: string;
}

/** One `name=value` pair of a `Forwarded` element (RFC 7239), the value a token or quoted string. */
const FORWARDED_PAIR =
  /\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)=(?:([!#$%&'*+.^_`|~0-9A-Za-z-]*)|"((?:[^"\\]|\\.)*)")\s*(;|,|$)/y;

/** A DNS name or IPv4 address, or a bracketed IPv6 address, then an optional port. */
const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;

/**
 * Reads the client's scheme and host from the proxy headers of a request.
 *
 * `X-Forwarded-Proto` and `X-Forwarded-Host` come first, their first value each (the one the
 * proxy nearest the client wrote); where one is missing, the `proto=` or `host=` of the first
 * element of `Forwarded` (RFC 7239) stands in. A malformed value counts as missing. Only call this
 * for a request that came through a proxy you trust: anyone can send these headers.
 *
 * @param headers The request's headers.
 * @returns The scheme and host named, each absent when not named or not valid.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const headers = new Headers({ forwarded: 'for=192.0.2.60;proto=https;host="shop.example:8443"' });
 * assert.deepEqual(readForwarded(headers), { proto: "https", host: "shop.example:8443" });
 * ```
 */
export function readForwarded(headers: Headers): ForwardedRequest {
  const element = firstForwardedElement(headers.get("forwarded") ?? "");
  const proto = (firstValue(headers.get("x-forwarded-proto")) ?? element.get("proto"))
    ?.toLowerCase();
  const host = firstValue(headers.get("x-forwarded-host")) ?? element.get("host");
  return {
    ...(proto === "http" || proto === "https" ? { proto } : {}),
    ...(host !== undefined && HOST.test(host) ? { host } : {}),
  };
}

/** An IPv4 or IPv6 address, as a proxy writes the client's (nginx's `$remote_addr`). */
const ADDRESS = /^[0-9A-Fa-f:.]{2,45}$/;

/**
 * Reads the client's address that the proxy in front of us appended to `X-Forwarded-For`: the
 * header's last value. The earlier ones come from the client or from proxies further out, and
 * anyone can write them. Only call this for a request that came through a proxy you trust.
 *
 * @param headers The request's headers.
 * @returns The address, or undefined when there is none or it is not an IP address.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const headers = new Headers({ "x-forwarded-for": "203.0.113.9, 198.51.100.4" });
 * assert.equal(forwardedFor(headers), "198.51.100.4");
 * ```
 */
export function forwardedFor(headers: Headers): string | undefined {
  const address = headers.get("x-forwarded-for")?.split(",").at(-1)?.trim();
  return address !== undefined && ADDRESS.test(address) ? address : undefined;
}

/** The first of a comma-separated header's values, trimmed; undefined when there is none. */
function firstValue(header: string | null): string | undefined {
  const value = header?.split(",")[0].trim();
  return value === "" ? undefined : value;
}

/**
 * The pairs of a `Forwarded` header's first element, names in lower case; empty when it is
 * malformed or names a parameter twice (RFC 7239 forbids both, so nothing in it is believed).
 */
function firstForwardedElement(header: string): Map<string, string> {
  const pairs = new Map<string, string>();
  FORWARDED_PAIR.lastIndex = 0;
  while (FORWARDED_PAIR.lastIndex < header.length) {
    const match = FORWARDED_PAIR.exec(header);
    if (match === null) return new Map();
    const [, name, token, quoted, separator] = match;
    const key = name.toLowerCase();
    if (pairs.has(key)) return new Map();
    pairs.set(key, token ?? quoted.replace(/\\(.)/g, "$1"));
    if (separator !== ";") break;
  }
  return pairs;
}
