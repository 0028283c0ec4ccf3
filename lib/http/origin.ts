/** Decides whether a state-changing or subscribing request comes from an origin we trust. */

/**
 * Tells whether a request comes from the server's own origin or an allowed one.
 *
 * Browsers send `Sec-Fetch-Site`; `same-origin` and `none` (typed by the user) pass. Otherwise an
 * `Origin` header must equal the request's own origin or one of `allowedOrigins`. A request with
 * neither header is not from a browser page and passes (curl, load tools).
 *
 * @param request The incoming request.
 * @param allowedOrigins Origins other than our own that are trusted.
 * @returns True when the request may go on.
 *
 * @example
 * ```ts
 * const request = new Request("http://shop.test/cart", { headers: { origin: "http://evil.test" } });
 * console.log(isTrustedOrigin(request, [])); // false
 * ```
 */
export function isTrustedOrigin(
  request: Request,
  allowedOrigins: readonly string[],
): boolean {
  const origin = request.headers.get("origin");
  const site = request.headers.get("sec-fetch-site");
  if (site === "same-origin" || site === "none") return true;
  if (origin === null) return site === null;
  return origin === new URL(request.url).origin ||
    allowedOrigins.includes(origin);
}
