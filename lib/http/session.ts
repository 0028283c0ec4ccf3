/** Session ids: random UUIDs that name a shopper, carried in the `sid` cookie or a request body. */
import { validate } from "uuid";
import { cookieValues } from "./cookies.ts";

const COOKIE_NAME = "sid";

/**
 * Tells whether a value is a well-formed session id (a UUID).
 *
 * @param value Anything, usually a string from a cookie or body.
 * @returns True for a UUID string.
 */
export function isSessionId(value: unknown): value is string {
  return typeof value === "string" && validate(value);
}

/**
 * A session id as the shop compares it: a UUID in lower case, so that an upper-case copy of a
 * session is the same shopper, not a fresh one.
 *
 * @param value Anything, usually a string from a cookie, a form or a JSON body.
 * @returns The id in lower case, or undefined when it is not a UUID.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const id = crypto.randomUUID();
 * assert.equal(sessionIdOf(id.toUpperCase()), id);
 * assert.equal(sessionIdOf("nope"), undefined);
 * ```
 */
export function sessionIdOf(value: unknown): string | undefined {
  return isSessionId(value) ? value.toLowerCase() : undefined;
}

/**
 * Reads the session id from the request's `sid` cookie, in lower case.
 *
 * @param request The incoming request.
 * @returns The id, or undefined when the cookie is missing or not a UUID.
 *
 * @example
 * ```ts
 * const id = crypto.randomUUID();
 * const request = new Request("http://x/", { headers: { cookie: `a=1; sid=${id}` } });
 * import assert from "node:assert/strict";
 * assert.equal(sessionFromCookie(request), id);
 * const notAnId = new Request("http://x/", { headers: { cookie: "sid=nope" } });
 * assert.equal(sessionFromCookie(notAnId), undefined);
 * ```
 */
export function sessionFromCookie(request: Request): string | undefined {
  for (const value of cookieValues(request, COOKIE_NAME)) {
    const session = sessionIdOf(value);
    if (session !== undefined) return session;
  }
  return undefined;
}

/**
 * Builds the `Set-Cookie` value that gives a browser its session.
 *
 * @param session The session id.
 * @param secure Adds `Secure` when the page was served over HTTPS.
 * @returns A header value: HttpOnly, SameSite=Lax, for the whole site, for one year.
 */
export function sessionCookie(session: string, secure: boolean): string {
  const attributes = [
    `${COOKIE_NAME}=${session}`,
    "Path=/",
    "HttpOnly",
    "SameSite=Lax",
    "Max-Age=31536000",
  ];
  if (secure) attributes.push("Secure");
  return attributes.join("; ");
}
