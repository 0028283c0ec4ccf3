/** The security headers of every HTML page: its Content-Security-Policy and the headers beside it. */

/** Who may frame a page, and whether it was served over HTTPS. */
export interface PageSecurity {
  /** Origins allowed to frame the page; none allows no one. */
  readonly frameAncestors: readonly string[];
  /** The page came over HTTPS (directly or through a trusted proxy). */
  readonly https: boolean;
}

/** A year, the HSTS lifetime browsers and scanners expect of a site that means it. */
const HSTS_MAX_AGE_SECONDS = 31_536_000;

/**
 * The Content-Security-Policy of our pages. Every script and style is a file under /static/, so
 * nothing inline is allowed; a catalog may point at pictures on other HTTPS hosts. CSP 3's `'self'`
 * covers `ws:`/`wss:` to our own host, which the pages' WebSocket needs; it adds nothing else.
 *
 * @param frameAncestors Origins allowed to frame the page; none gives `'none'`.
 * @returns The policy.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.match(contentSecurityPolicy([]), /frame-ancestors 'none'$/);
 * assert.match(
 *   contentSecurityPolicy(["https://a.example", "https://b.example"]),
 *   /frame-ancestors https:\/\/a\.example https:\/\/b\.example$/,
 * );
 * ```
 */
export function contentSecurityPolicy(frameAncestors: readonly string[]): string {
  return [
    "default-src 'self'",
    "img-src 'self' https:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    `frame-ancestors ${frameAncestors.length === 0 ? "'none'" : frameAncestors.join(" ")}`,
  ].join("; ");
}

/**
 * The headers every HTML page carries: its policy, `nosniff`, a referrer policy that keeps paths
 * and queries on our own site, and over HTTPS a year of `Strict-Transport-Security`.
 *
 * @param security Who may frame the page, and whether it came over HTTPS.
 * @returns The headers, by lower-case name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const plain = pageHeaders({ frameAncestors: [], https: false });
 * assert.equal(plain["x-content-type-options"], "nosniff");
 * assert.equal(plain["strict-transport-security"], undefined);
 * const secure = pageHeaders({ frameAncestors: [], https: true });
 * assert.equal(secure["strict-transport-security"], "max-age=31536000");
 * ```
 */
export function pageHeaders(security: PageSecurity): Record<string, string> {
  const headers: Record<string, string> = {
    "content-security-policy": contentSecurityPolicy(security.frameAncestors),
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
  };
  if (security.https) headers["strict-transport-security"] = `max-age=${HSTS_MAX_AGE_SECONDS}`;
  return headers;
}
