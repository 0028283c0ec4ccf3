/** Who may use the admin area: the bearer token, or a signed-in cookie on our own pages' requests. */
import { timingSafeEqual } from "node:crypto";
import type { Clock } from "../time/clock.ts";
import { adminCookieOf, AdminSessions } from "./admin_session.ts";
import { clientAddress } from "../http/client_address.ts";
import { HttpError } from "../http/http_error.ts";
import { ownOrigins } from "../http/origin.ts";
import type { Guard, RouteContext } from "../http/router.ts";
import { ADMIN_WRONG_TOKENS, WrongTokenLimit } from "./wrong_token_limit.ts";

/** What the admin area's checks share: the token, the sessions, the wrong tokens counted. */
export interface AdminAccess {
  /** The admin token. */
  readonly token: string;
  /** Signs and checks the admin cookie. */
  readonly sessions: AdminSessions;
  /** Wrong tokens per client, from the sign-in form and bearer headers alike. */
  readonly wrongTokens: WrongTokenLimit;
  /** The time source of sessions and the limit. */
  readonly clock: Pick<Clock, "now">;
  /** The server itself speaks HTTPS (the cookie is then Secure). */
  readonly https: boolean;
  /** Believe a reverse proxy's headers: the client's scheme, origin and address. */
  readonly trustProxy: boolean;
}

/**
 * Builds the admin area's shared state.
 *
 * @param options The token, how long a sign-in lasts, the clock, and the HTTPS and proxy rules.
 * @returns The access.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RequestHead } from "../http/request_head.ts";
 * const access = adminAccess({
 *   token: "admin-token-0123456789", sessionMs: 60_000, clock: { now: () => 0 },
 *   https: false, trustProxy: false,
 * });
 * assert.equal(access.sessions.lifetimeMs, 60_000);
 * ```
 */
export function adminAccess(options: {
  token: string;
  sessionMs: number;
  clock: Pick<Clock, "now">;
  https: boolean;
  trustProxy: boolean;
}): AdminAccess {
  const { token, clock, https, trustProxy } = options;
  return {
    token,
    sessions: new AdminSessions(token, options.sessionMs, clock),
    wrongTokens: new WrongTokenLimit(ADMIN_WRONG_TOKENS, clock),
    clock,
    https,
    trustProxy,
  };
}

/**
 * Compares two secrets in time that does not depend on where they differ, so guessing learns
 * nothing.
 *
 * @param given The text a client sent.
 * @param expected The secret.
 * @returns True when they are the same.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(sameSecret("s3cret", "s3cret"), true);
 * assert.equal(sameSecret("s3creT", "s3cret"), false);
 * ```
 */
export function sameSecret(given: string, expected: string): boolean {
  const a = encoder.encode(given);
  const b = encoder.encode(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

const encoder = new TextEncoder();

/**
 * How long a client must wait before its next token is compared at all.
 *
 * @param access The admin area's state.
 * @param client The client's key.
 * @returns 0 when it may try now, else whole seconds until its next try counts.
 */
export function secondsToWait(access: AdminAccess, client: string): number {
  return Math.ceil(access.wrongTokens.retryAfterMs(client) / 1000);
}

/**
 * The refusal of a client past the limit of wrong tokens.
 *
 * @param seconds Whole seconds until its next try counts, from {@linkcode secondsToWait}.
 * @returns A 429 with `Retry-After`.
 */
export function tooManyWrongTokens(seconds: number): HttpError {
  return new HttpError(429, "Too many wrong admin tokens, try again later", {
    headers: { "retry-after": String(seconds) },
  });
}

/**
 * Whether a request carrying the admin cookie comes from our own pages: an `Origin` must be ours
 * and a `Sec-Fetch-Site` must be `same-origin`; a method other than GET and HEAD must carry one
 * of them, so that a cookie sent by something that sends neither changes nothing.
 */
function isFromOwnPage(context: RouteContext, trustProxy: boolean): boolean {
  const { request, url, head } = context;
  const site = head.fetchSite;
  const origin = head.origin;
  if (site !== null && site !== "same-origin") return false;
  if (origin !== null && !ownOrigins(request, { trustProxy }, url).includes(origin)) return false;
  return site !== null || origin !== null || request.method === "GET" ||
    request.method === "HEAD";
}

/**
 * The guard of every admin API route: `Authorization: Bearer <token>` (any origin, so scripts
 * work), or else a valid admin cookie on a request from our own pages. Wrong bearer tokens are
 * counted per client; past the limit a client gets 429 before its token is compared.
 *
 * @param access The admin area's state.
 * @returns The guard.
 * @throws {HttpError} From the guard: 401 without a token or a valid cookie, 403 for a wrong
 * token or a cookie on a cross-site request, 429 for a client past the limit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RequestHead } from "../http/request_head.ts";
 * const access = adminAccess({
 *   token: "admin-token-0123456789", sessionMs: 60_000, clock: { now: () => 0 },
 *   https: false, trustProxy: false,
 * });
 * const guard = adminGuard(access);
 * const request = new Request("http://x/admin/products", {
 *   headers: { authorization: "Bearer admin-token-0123456789" },
 * });
 * const context = (request: Request) => ({
 *   request, url: new URL(request.url), head: RequestHead.of(request), params: {}, body: undefined,
 * });
 * await guard(context(request));
 * await assert.rejects(async () => {
 *   await guard(context(new Request("http://x/admin/products")));
 * }, { status: 401 });
 * ```
 */
export function adminGuard(access: AdminAccess): Guard {
  return (context) => {
    const { request } = context;
    const authorization = request.headers.get("authorization");
    if (authorization !== null) return checkBearer(access, context, authorization);
    const cookie = adminCookieOf(request);
    if (cookie === undefined) throw unauthorized("Admin token is missing");
    if (!isFromOwnPage(context, access.trustProxy)) {
      throw new HttpError(403, "Cross-origin request refused");
    }
    return access.sessions.verify(cookie).then((session) => {
      if (session === undefined) throw unauthorized("Admin sign-in has expired or is not valid");
    });
  };
}

function checkBearer(access: AdminAccess, context: RouteContext, authorization: string): void {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
  if (match === null) throw unauthorized("Admin token is missing");
  const client = clientAddress(context, access.trustProxy);
  const wait = secondsToWait(access, client);
  if (wait > 0) throw tooManyWrongTokens(wait);
  if (sameSecret(match[1], access.token)) return;
  access.wrongTokens.countWrong(client);
  throw new HttpError(403, "Admin token is wrong");
}

function unauthorized(message: string): HttpError {
  return new HttpError(401, message, {
    headers: { "www-authenticate": 'Bearer realm="admin"' },
  });
}
