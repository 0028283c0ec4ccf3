/** Routes that any origin may read (CORS): the live status feeds, whose counts are public. */
import { HttpError } from "./http_error.ts";
import type { Guard, Route } from "./router.ts";

/** The one CORS header a public answer needs: no credentials are ever allowed with it. */
const ALLOW_ANY = "access-control-allow-origin";

/**
 * How long a browser may keep a preflight's answer, in seconds. A day: what the answer says
 * changes only with a new release.
 */
const PREFLIGHT_MAX_AGE_SECONDS = 86_400;

/**
 * Makes a GET route readable from any origin: its answers and refusals (404, 410, 429, 503)
 * carry `Access-Control-Allow-Origin: *`, so that a page elsewhere sees the status, not a
 * network error. Cookies are not needed: nothing it answers depends on who asks.
 *
 * A WebSocket upgrade's answer is left as it is: CORS does not apply to WebSockets.
 *
 * @param route A route whose answers are public.
 * @returns The same route, its guards and handler wrapped.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HttpError } from "./http_error.ts";
 * import { RequestHead } from "./request_head.ts";
 * const route = readableByAnyOrigin({
 *   name: "status", path: "/cart/status", methods: ["GET"],
 *   handle: () => { throw new HttpError(404, "No product"); },
 * });
 * const request = new Request("http://x/cart/status");
 * const context = { request, url: new URL(request.url), head: RequestHead.of(request), params: {}, body: undefined };
 * assert.throws(() => route.handle(context), (error) =>
 *   error instanceof HttpError &&
 *   new Headers(error.options.headers).get("access-control-allow-origin") === "*");
 * ```
 */
export function readableByAnyOrigin(route: Route): Route {
  return {
    ...route,
    guards: route.guards?.map(publicGuard),
    handle: (context) => answered(() => route.handle(context)),
  };
}

/**
 * The answer to a CORS preflight (`OPTIONS`) of a public GET route. A cross-origin
 * `EventSource`, and a `fetch` with no headers of its own, need none; a client that adds one
 * (`Last-Event-ID` set by a script) gets this.
 *
 * @param route The route that answers the GET.
 * @returns A route for `OPTIONS` on the same path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RequestHead } from "./request_head.ts";
 * const preflight = preflightRoute({
 *   name: "status", path: "/cart/status", methods: ["GET"], handle: () => new Response(),
 * });
 * const request = new Request("http://x/cart/status", { method: "OPTIONS" });
 * const context = { request, url: new URL(request.url), head: RequestHead.of(request), params: {}, body: undefined };
 * const answer = await preflight.handle(context);
 * assert.equal(answer.status, 204);
 * assert.equal(answer.headers.get("access-control-allow-methods"), "GET");
 * ```
 */
export function preflightRoute(route: Route): Route {
  return {
    name: `${route.name}_preflight`,
    path: route.path,
    methods: ["OPTIONS"],
    handle: () =>
      new Response(null, {
        status: 204,
        headers: {
          [ALLOW_ANY]: "*",
          "access-control-allow-methods": "GET",
          "access-control-allow-headers": "Last-Event-ID",
          "access-control-max-age": String(PREFLIGHT_MAX_AGE_SECONDS),
        },
      }),
  };
}

/**
 * The public routes of a table and their preflights.
 *
 * @param routes Routes whose answers are public.
 * @returns Each route made readable by any origin, followed by its preflight.
 */
export function publicRoutes(routes: readonly Route[]): Route[] {
  return routes.flatMap((route) => [readableByAnyOrigin(route), preflightRoute(route)]);
}

function publicGuard(guard: Guard): Guard {
  return (context) => answered(() => guard(context));
}

/** Runs a handler or guard, marking what it answers or throws as readable by any origin. */
function answered<T extends Response | Promise<Response> | void | Promise<void>>(run: () => T): T {
  let result: T;
  try {
    result = run();
  } catch (error) {
    throw allowedError(error);
  }
  if (result instanceof Promise) {
    return result.then(allowed, (error) => {
      throw allowedError(error);
    }) as T;
  }
  return allowed(result) as T;
}

function allowed<T>(result: T): T {
  // A 101 is the WebSocket's: its headers are Deno's, and CORS has no say.
  if (result instanceof Response && result.status !== 101) result.headers.set(ALLOW_ANY, "*");
  return result;
}

function allowedError(error: unknown): unknown {
  if (!(error instanceof HttpError)) return error;
  const headers = new Headers(error.options.headers);
  headers.set(ALLOW_ANY, "*");
  return new HttpError(error.status, error.message, { ...error.options, headers });
}
