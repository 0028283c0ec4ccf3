/** The admin page and its sign-in: `GET /admin`, `POST /admin/session`, `POST /admin/session/end`. */
import { type AdminAccess, sameSecret, secondsToWait, tooManyWrongTokens } from "./admin_auth.ts";
import { adminCookie, adminCookieOf } from "./admin_session.ts";
import { clientAddress } from "../http/client_address.ts";
import { HttpError, jsonResponse } from "../http/http_error.ts";
import { isHttpsRequest } from "../http/origin.ts";
import { htmlResponse, type Templates } from "../http/page.ts";
import type { PageSecurity } from "../http/page_headers.ts";
import { mediaTypeOf, parseJsonBody } from "../http/request_body.ts";
import type { RouteContext } from "../http/router.ts";
import { escapeHtml, renderTemplate, TrustedHtml } from "../http/template.ts";

/** The media types a sign-in may come as: the page's form, or JSON from a script. */
export const SIGN_IN_MEDIA_TYPES = [
  "application/x-www-form-urlencoded",
  "application/json",
] as const;

/** Where the sign-in form sends a browser back to after a wrong token. */
const FAILED_PATH = "/admin?failed=1";

/**
 * The admin pages may be framed by no site, not even one the shop's pages allow (a sign-out or
 * restock clicked unseen).
 */
function adminSecurity(request: Request, access: AdminAccess): PageSecurity {
  return { frameAncestors: [], https: isHttpsRequest(request, access) };
}

/**
 * Handles `GET /admin`: the dashboard for a valid admin cookie, else the sign-in form (with the
 * failure of the last try after `?failed=1`).
 *
 * @param context The route's context.
 * @param access The admin area's state.
 * @param templates The page templates.
 * @returns The HTML page.
 */
export async function adminPageResponse(
  context: RouteContext,
  access: AdminAccess,
  templates: Templates,
): Promise<Response> {
  const { request, url } = context;
  if (await access.sessions.verify(adminCookieOf(request)) !== undefined) {
    return htmlResponse(request, renderTemplate(templates.admin, {}), {
      security: adminSecurity(request, access),
    });
  }
  const failed = url.searchParams.has("failed");
  return signInPage(request, access, templates, failed ? "That token is wrong." : undefined);
}

/** The sign-in form, with an alert when there is something to say. */
function signInPage(
  request: Request,
  access: AdminAccess,
  templates: Templates,
  alert: string | undefined,
  options: { status?: number; headers?: Record<string, string> } = {},
): Response {
  const html = renderTemplate(templates.adminSignIn, {
    alert: new TrustedHtml(
      alert === undefined ? "" : `<p class="alert" role="alert">${escapeHtml(alert)}</p>`,
    ),
  });
  return htmlResponse(request, html, {
    security: adminSecurity(request, access),
    status: options.status,
    headers: options.headers,
  });
}

/**
 * Handles `POST /admin/session`: exchanges the admin token (field `token`, a form or JSON) for
 * the admin cookie. A form is sent on to `/admin` (303), with the failure shown there after a
 * wrong token; JSON gets `{"signedIn": true, "expiresAt": <ms>}` or a 401.
 *
 * @param context The route's context, with its body read.
 * @param access The admin area's state.
 * @param templates The page templates, for the form's 429 page.
 * @returns The answer.
 * @throws {HttpError} 400 for a malformed JSON body, 401 for a wrong token (JSON), 429 with
 * `Retry-After` past the limit of wrong tokens (JSON).
 */
export async function signInResponse(
  context: RouteContext,
  access: AdminAccess,
  templates: Templates,
): Promise<Response> {
  const { request, body } = context;
  const json = body!.mediaType === "application/json";
  const token = json ? jsonToken(body!.text) : new URLSearchParams(body!.text).get("token") ?? "";
  const client = clientAddress(context, access.trustProxy);
  const wait = secondsToWait(access, client);
  if (wait > 0) {
    if (json) throw tooManyWrongTokens(wait);
    return signInPage(
      request,
      access,
      templates,
      `Too many wrong tokens: try again in ${wait} s.`,
      {
        status: 429,
        headers: { "retry-after": String(wait) },
      },
    );
  }
  if (!sameSecret(token, access.token)) {
    access.wrongTokens.countWrong(client);
    if (json) throw new HttpError(401, "Admin token is wrong");
    return seeOther(FAILED_PATH);
  }
  const session = await access.sessions.start();
  const cookie = adminCookie(session, access.clock.now(), isHttpsRequest(request, access));
  if (json) {
    return jsonResponse({ signedIn: true, expiresAt: session.expiresAt }, {
      headers: { "set-cookie": cookie },
    });
  }
  return seeOther("/admin", cookie);
}

/**
 * Handles `POST /admin/session/end`: signs out. The cookie is cleared, and this process refuses
 * it from now on even if a copy is kept.
 *
 * @param request The incoming request.
 * @param access The admin area's state.
 * @returns 303 to `/admin`, or `{"signedIn": false}` for a JSON client.
 */
export async function signOutResponse(request: Request, access: AdminAccess): Promise<Response> {
  const session = await access.sessions.verify(adminCookieOf(request));
  if (session !== undefined) access.sessions.end(session);
  const cookie = adminCookie(undefined, 0, isHttpsRequest(request, access));
  const accept = request.headers.get("accept") ?? "";
  const wantsJson = mediaTypeOf(request) === "application/json" ||
    (accept.includes("application/json") && !accept.includes("text/html"));
  if (wantsJson) return jsonResponse({ signedIn: false }, { headers: { "set-cookie": cookie } });
  return seeOther("/admin", cookie);
}

/** The `token` of a JSON sign-in. */
function jsonToken(text: string): string {
  const token = (parseJsonBody(text) as { token?: unknown } | null)?.token;
  if (typeof token !== "string") throw new HttpError(400, 'Field "token" must be a string');
  return token;
}

/** A 303 to one of our paths, setting a cookie when given one. */
function seeOther(location: string, cookie?: string): Response {
  const headers: Record<string, string> = { location, "cache-control": "no-store" };
  if (cookie !== undefined) headers["set-cookie"] = cookie;
  return new Response(null, { status: 303, headers });
}
