/** Decides whether a state-changing or subscribing request comes from an origin we trust. */
import { readForwarded } from "./forwarded.ts";
import { HttpError } from "./http_error.ts";
import type { RefusalLog } from "./refusal_log.ts";
import { RequestHead } from "./request_head.ts";

/** What decides which origins are ours and which others are trusted. */
export interface OriginPolicy {
  /** Origins besides our own trusted to post (and to open /echo); any origin reads the status feeds. */
  allowedOrigins: readonly string[];
  /** Believe the proxy headers (`X-Forwarded-*`, `Forwarded`) of a reverse proxy in front of us. */
  trustProxy: boolean;
}

/**
 * Tells whether the client's request to us was made over HTTPS.
 *
 * @param request The incoming request.
 * @param policy `https`: the server itself speaks HTTPS; `trustProxy`: a proxy's word counts.
 * @returns True when the server speaks HTTPS, or a trusted proxy says the client used it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const request = new Request("http://shop.test/", { headers: { "x-forwarded-proto": "https" } });
 * assert.equal(isHttpsRequest(request, { https: false, trustProxy: true }), true);
 * assert.equal(isHttpsRequest(request, { https: false, trustProxy: false }), false);
 * ```
 */
export function isHttpsRequest(
  request: Request,
  policy: { https: boolean; trustProxy: boolean },
): boolean {
  return policy.https || (policy.trustProxy && readForwarded(request.headers).proto === "https");
}

/**
 * Lists the origins that are the server's own for one request.
 *
 * The request URL's origin (its `Host`) always is. With `trustProxy`, so is the origin the proxy
 * says the client used: its forwarded scheme and host, each defaulting to the request URL's. A
 * proxy that passes `Host` without the port (nginx's `$host`) or rewrites it still names the
 * page's origin this way.
 *
 * @param request The incoming request.
 * @param policy Whether to believe the proxy headers.
 * @param url The request's URL, when it is parsed already.
 * @returns One or two origins, the request URL's first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const request = new Request("http://127.0.0.1/cart", {
 *   headers: { "x-forwarded-host": "127.0.0.1:8080", "x-forwarded-proto": "http" },
 * });
 * assert.deepEqual(ownOrigins(request, { trustProxy: true }), [
 *   "http://127.0.0.1",
 *   "http://127.0.0.1:8080",
 * ]);
 * assert.deepEqual(ownOrigins(request, { trustProxy: false }), ["http://127.0.0.1"]);
 * ```
 */
export function ownOrigins(
  request: Request,
  policy: Pick<OriginPolicy, "trustProxy">,
  url: URL = new URL(request.url),
): string[] {
  const origins = [url.origin];
  if (!policy.trustProxy) return origins;
  const { proto, host } = readForwarded(request.headers);
  if (proto === undefined && host === undefined) return origins;
  const forwarded = URL.parse(`${proto ?? url.protocol.slice(0, -1)}://${host ?? url.host}`);
  if (forwarded !== null && !origins.includes(forwarded.origin)) origins.push(forwarded.origin);
  return origins;
}

/**
 * Tells whether a request comes from one of the trusted origins.
 *
 * Browsers send `Sec-Fetch-Site`; `same-origin` and `none` (typed by the user) pass. Otherwise an
 * `Origin` header must be one of `trustedOrigins`. A request with neither header is not from a
 * browser page and passes (curl, load tools).
 *
 * @param head The request's head (its `Sec-Fetch-Site` and `Origin`).
 * @param trustedOrigins Our own origins ({@linkcode ownOrigins}) and the allowed ones.
 * @returns True when the request may go on.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const head = { fetchSite: null, origin: "http://evil.test" };
 * assert.equal(isTrustedOrigin(head, ["http://shop.test"]), false);
 * assert.equal(isTrustedOrigin({ ...head, fetchSite: "same-origin" }, ["http://shop.test"]), true);
 * ```
 */
export function isTrustedOrigin(
  head: Pick<RequestHead, "fetchSite" | "origin">,
  trustedOrigins: readonly string[],
): boolean {
  const site = head.fetchSite;
  if (site === "same-origin" || site === "none") return true;
  const origin = head.origin;
  if (origin === null) return site === null;
  return trustedOrigins.includes(origin);
}

/** What a request that passes on its headers alone is compared with: nothing. */
const NO_ORIGINS: readonly string[] = [];

/**
 * Builds the check that `POST /cart` and WebSocket upgrades pass before anything happens.
 *
 * @param policy Allowed origins and whether to believe a proxy.
 * @param refusals Where each refused origin is noted, with the origins it was compared with.
 * @returns A function (of the request, and its URL and head when read already) that returns when
 * the request's origin is trusted, and throws otherwise.
 * @throws {HttpError} From the returned function: 403 when the origin is not trusted.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RefusalLog } from "./refusal_log.ts";
 * const lines: string[] = [];
 * const requireTrustedOrigin = originGuard(
 *   { allowedOrigins: [], trustProxy: true },
 *   new RefusalLog({ now: () => 0, log: (line) => lines.push(line) }),
 * );
 * const fromPage = { origin: "http://127.0.0.1:8080", "x-forwarded-host": "127.0.0.1:8080" };
 * requireTrustedOrigin(new Request("http://127.0.0.1/cart", { headers: fromPage }));
 * const fromElsewhere = { origin: "http://evil.example" };
 * assert.throws(() => requireTrustedOrigin(new Request("http://127.0.0.1/cart", {
 *   headers: fromElsewhere,
 * })));
 * assert.deepEqual(lines, [
 *   'refused origin "http://evil.example" (compared with "http://127.0.0.1")',
 * ]);
 * ```
 */
export function originGuard(
  policy: OriginPolicy,
  refusals: RefusalLog,
): (request: Request, url?: URL, head?: RequestHead) => void {
  return (request, url, head = RequestHead.of(request)) => {
    // Most requests pass on their headers alone (from our page, or with no Origin): no origins
    // of ours are worked out, and nothing is made, for them.
    if (isTrustedOrigin(head, NO_ORIGINS)) return;
    const own = ownOrigins(request, policy, url);
    if (isTrustedOrigin(head, [...own, ...policy.allowedOrigins])) return;
    refusals.refuse(head.origin, own);
    throw new HttpError(403, "Cross-origin request refused");
  };
}
