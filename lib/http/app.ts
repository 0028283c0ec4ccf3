/** The request handler: routes a request, checks its size, counts and answers it; never throws. */
import type { Checkouts } from "../inventory/checkout.ts";
import { StoreUnavailableError } from "../inventory/store_port.ts";
import type { Clock } from "../time/clock.ts";
import { checkRequestSize, type HeadLimits } from "./guards.ts";
import { errorResponse, HttpError } from "./http_error.ts";
import type { Gauges, Metrics } from "./monitoring.ts";
import { RequestHead } from "./request_head.ts";
import { type ConnectionInfo, type Route, Router } from "./router.ts";

/** What the handler is made of: the route table and the services behind it, built by the server. */
export interface AppParts {
  /** The route table, every area's routes. */
  readonly routes: readonly Route[];
  /** The largest request head, and how long a body may take to arrive (`bodyTimeoutMs`). */
  readonly limits: HeadLimits & { readonly bodyTimeoutMs: number };
  /** The counters of /metrics; every route's are declared here. */
  readonly metrics: Metrics;
  /** The checkouts, which the server resumes and waits for. */
  readonly checkouts: Checkouts;
  /** The live counts that /metrics shows. */
  readonly gauges: () => Gauges;
  /** The time source of the body deadlines, and the draws of the answers' `Retry-After`. */
  readonly clock: Clock;
  /** Answers every waiter, closes every subscriber (1001), stops the services' timers. */
  readonly stop: () => void;
}

/** A running application: its handler, and a way to stop its connections. */
export interface App {
  /**
   * Answers one request; never throws.
   *
   * @param request The request.
   * @param connection The connection it came on (`Deno.serve`'s handler info); without one the
   * request counts as from one unknown client.
   * @param head Its head, when read already.
   */
  handle(request: Request, connection?: ConnectionInfo, head?: RequestHead): Promise<Response>;
  /** Answers every waiter, closes every subscriber (1001), stops timers. */
  stop(): void;
  /** Counts one failed accept (the listener died and is being reopened), for /metrics. */
  countAcceptError(): void;
  /** The checkouts, for resuming those a stop left and waiting for those in flight. */
  readonly checkouts: Checkouts;
  /** Counts one call to the order service that took this many seconds, for /metrics. */
  observeOrderCall(seconds: number): void;
  /** The live counts that /metrics shows: subscribers by transport, connections, refusals. */
  gauges(): Gauges;
}

/**
 * Makes the handler of a route table whose services the server built.
 *
 * @param parts The routes, the limits on a request and the services behind the routes.
 * @returns The app; pass `app.handle` to `Deno.serve`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Checkouts } from "../inventory/checkout.ts";
 * import { Inventory } from "../inventory/inventory.ts";
 * import { openMemoryStore } from "../store/memory_store.ts";
 * import { systemClock } from "../time/clock.ts";
 * import { Metrics } from "./monitoring.ts";
 * const store = openMemoryStore({ holdTtlMs: 60_000, clock: systemClock });
 * const inventory = await Inventory.open(store, 60_000);
 * const metrics = new Metrics();
 * const app = createApp({
 *   routes: [{ name: "hello", path: "/hello", methods: ["GET"], handle: () => new Response("hi") }],
 *   limits: { maxUrlBytes: 8192, maxHeaderBytes: 16_384, bodyTimeoutMs: 10_000 },
 *   metrics,
 *   checkouts: new Checkouts(inventory, { service: undefined, timeoutMs: 5_000 }),
 *   gauges: () => ({
 *     longPollWaiters: 0, websocketSubscribers: 0, sseSubscribers: 0, websocketLagging: 0,
 *     websocketSlowClosed: 0, sseSlowClosed: 0, connections: 0, connectionsRefused: 0,
 *     acceptErrors: metrics.acceptErrors, listeners: 1,
 *   }),
 *   clock: systemClock,
 *   stop: () => {},
 * });
 * assert.equal(await (await app.handle(new Request("http://localhost/hello"))).text(), "hi");
 * assert.equal((await app.handle(new Request("http://localhost/nope"))).status, 404);
 * app.stop();
 * await store.close();
 * ```
 */
export function createApp(parts: AppParts): App {
  const { routes, limits, metrics, clock } = parts;
  const router = new Router(routes, limits.bodyTimeoutMs, clock);
  metrics.declareRoutes([...routes.map((route) => route.name), "not_found"]);

  // Not async: a long poll keeps no suspended frame of the app, and most answers need no await.
  const handle = (
    request: Request,
    connection?: ConnectionInfo,
    head: RequestHead = RequestHead.of(request),
  ): Promise<Response> => {
    const url = new URL(request.url);
    const match = router.find(url);
    // A method the path does not take is counted under the path's first route.
    const name = match === undefined
      ? "not_found"
      : (Router.routeFor(match, request.method) ?? match.routes[0]).name;
    try {
      checkRequestSize(head, url, limits);
      if (match === undefined) throw new HttpError(404, "Not found");
      const response = router.run(match, request, url, connection, head);
      return response instanceof Response
        ? Promise.resolve(counted(name, response))
        : response.then((answer) => counted(name, answer), (error) => refused(name, error));
    } catch (error) {
      return Promise.resolve(refused(name, error));
    }
  };
  const counted = (route: string, response: Response): Response => {
    metrics.countRequest(route, response.status);
    return response;
  };
  const refused = (route: string, error: unknown): Response => {
    if (error instanceof StoreUnavailableError) metrics.countStoreUnavailable();
    return counted(route, errorResponse(error, () => clock.random()));
  };

  return {
    handle,
    checkouts: parts.checkouts,
    countAcceptError() {
      metrics.countAcceptError();
    },
    observeOrderCall(seconds) {
      metrics.webhookLatency.observe(seconds);
    },
    stop() {
      parts.stop();
      router.close();
    },
    gauges: parts.gauges,
  };
}
