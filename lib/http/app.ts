/** The request handler: composes the routes, guards, subscriptions and metrics of the shop. */
import { type CheckoutOutcome, Checkouts, type OrderService } from "../inventory/checkout.ts";
import { type Clock, systemClock } from "../time/clock.ts";
import type { Inventory } from "../inventory/inventory.ts";
import { StoreUnavailableError } from "../inventory/store_port.ts";
import { Topics } from "../realtime/topics.ts";
import { adminAccess } from "../admin/admin_auth.ts";
import { AdminFeed } from "../admin/admin_feed.ts";
import { checkRequestSize, ConnectionLimit } from "./guards.ts";
import { errorResponse, HttpError } from "./http_error.ts";
import { type Gauges, healthResponse, Metrics, readinessResponse } from "./monitoring.ts";
import { isHttpsRequest, originGuard } from "./origin.ts";
import type { Templates } from "./page.ts";
import { RefusalLog } from "./refusal_log.ts";
import { RequestHead } from "./request_head.ts";
import { adminRoutes, cartRoutes, fileRoutes, pageRoutes, statusRoutes } from "./routes.ts";
import { type ConnectionInfo, type Guard, type Route, Router } from "./router.ts";
import type { AssetTable } from "./static_assets.ts";
import { Subscriptions } from "./subscriptions.ts";

/** The settings the handler enforces, which the server's Config carries. */
export interface AppSettings {
  /** How long a long poll waits for a change before answering the current state, in ms. */
  pollTimeoutMs: number;
  /** Long polls, event streams and WebSockets held at once; past it new ones are refused. */
  maxConnections: number;
  /** A WebSocket silent this long is pinged at half of it and closed if still silent, in ms. */
  websocketTimeoutMs: number;
  /** How often an event stream gets a heartbeat comment, in ms. */
  sseHeartbeatMs: number;
  /** A request body must arrive within this long, in ms. */
  bodyTimeoutMs: number;
  /** The longest request target (path and query) accepted, in bytes. */
  maxUrlBytes: number;
  /** The most header bytes (names and values) accepted. */
  maxHeaderBytes: number;
  /** Believe the forwarded headers of a reverse proxy in front of us. */
  trustProxy: boolean;
  /** The most products the catalog may hold. */
  maxProducts: number;
  /** How long a checkout may take, all tries of the order service included, in ms. */
  webhookTimeoutMs: number;
  /** How long an admin sign-in lasts, in ms: the admin cookie expires then. */
  adminSessionMs: number;
}

/** What the handler needs besides the inventory: its settings, and what the server loaded. */
export interface AppOptions extends AppSettings {
  /** The shop's order service; none sells at once (demo mode). */
  orderService?: OrderService;
  /** Origins besides our own trusted to post and subscribe. */
  allowedOrigins: readonly string[];
  /** The server itself speaks HTTPS. */
  https: boolean;
  /** The page templates. */
  templates: Templates;
  /** The files under /static/. */
  assets: AssetTable;
  /** The catalog's images under /media/. */
  media: AssetTable;
  /** The admin API's bearer token and the sign-in's; without one `/admin/*` answers 404. */
  adminToken?: string;
  /**
   * The time source of admin sessions, of the limit on wrong tokens and of the admin feed's
   * activity and ticks; real time by default.
   */
  clock?: Clock;
  /** How many servers still serve connections, for /metrics; none given counts 0. */
  listeners?: () => number;
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
 * Builds the application around the shared inventory.
 *
 * @param inventory The inventory.
 * @param options Timeouts, origins, templates and assets.
 * @returns The app; pass `app.handle` to `Deno.serve`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemClock } from "../time/clock.ts";
 * import { Inventory } from "../inventory/inventory.ts";
 * import { openMemoryStore } from "../store/memory_store.ts";
 * const store = openMemoryStore({ holdTtlMs: 60_000, clock: systemClock });
 * const app = createApp(await Inventory.open(store, 60_000), {
 *   pollTimeoutMs: 25_000, allowedOrigins: [], maxConnections: 18_000,
 *   websocketTimeoutMs: 60_000, sseHeartbeatMs: 15_000, bodyTimeoutMs: 10_000,
 *   maxUrlBytes: 8192, maxHeaderBytes: 16_384, https: false, trustProxy: false, maxProducts: 1000,
 *   webhookTimeoutMs: 5_000, adminSessionMs: 480 * 60_000,
 *   templates: { product: "", catalog: "", missing: "", admin: "", adminSignIn: "" }, assets: new Map(), media: new Map(),
 * });
 * const response = await app.handle(new Request("http://localhost/healthz"));
 * assert.equal(response.status, 200);
 * app.stop();
 * await store.close();
 * ```
 */
export function createApp(inventory: Inventory, options: AppOptions): App {
  const topics = new Topics(inventory);
  const subscriptions: Subscriptions = new Subscriptions(options, () => limit.hasRoom());
  const limit = new ConnectionLimit(options.maxConnections, () => subscriptions.connections);
  const checkouts = new Checkouts(inventory, {
    service: options.orderService,
    timeoutMs: options.webhookTimeoutMs,
    onOutcome: (outcome: CheckoutOutcome) => metrics.countCheckout(outcome),
  });
  const pageOptions = (request: Request) => ({
    templates: options.templates,
    secure: isHttpsRequest(request, options),
  });
  let acceptErrors = 0;
  const gauges = (): Gauges => ({
    longPollWaiters: topics.tally.waiters,
    ...subscriptions.gauges(),
    connections: subscriptions.connections,
    connectionsRefused: limit.refused,
    acceptErrors,
    listeners: options.listeners?.() ?? 0,
  });

  // Until the server has an injected logger, this is the one place refusals reach the console.
  const refusals = new RefusalLog({ now: Date.now, log: (line) => console.warn(line) });
  const trustedOrigin = originGuard(options, refusals);
  const sameOrigin: Guard = ({ request, url, head }) => trustedOrigin(request, url, head);

  const routes: Route[] = [
    ...pageRoutes(inventory, pageOptions),
    ...cartRoutes(inventory, checkouts, sameOrigin),
    ...statusRoutes(inventory, topics, subscriptions, limit, sameOrigin),
    {
      name: "healthz",
      path: "/healthz",
      methods: ["GET", "HEAD"],
      handle: () => healthResponse(inventory),
    },
    {
      name: "readyz",
      path: "/readyz",
      methods: ["GET", "HEAD"],
      handle: () => readinessResponse(inventory),
    },
    {
      name: "metrics",
      path: "/metrics",
      methods: ["GET"],
      handle: () =>
        new Response(metrics.render(inventory, gauges()), {
          headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
        }),
    },
    ...fileRoutes(options.assets, options.media),
  ];
  let adminFeed: AdminFeed | undefined;
  if (options.adminToken !== undefined) {
    const clock = options.clock ?? systemClock;
    const access = adminAccess({
      token: options.adminToken,
      sessionMs: options.adminSessionMs,
      clock,
      https: options.https,
      trustProxy: options.trustProxy,
    });
    adminFeed = new AdminFeed(inventory, {
      clock,
      heartbeatMs: options.sseHeartbeatMs,
      local: () => {
        const { websocketSubscribers, sseSubscribers } = subscriptions.gauges();
        return {
          websocket: websocketSubscribers,
          sse: sseSubscribers,
          longPoll: topics.tally.waiters,
        };
      },
    });
    adminFeed.start();
    routes.push(
      ...adminRoutes(
        inventory,
        access,
        options.templates,
        sameOrigin,
        options.maxProducts,
        adminFeed,
      ),
    );
  }
  const router = new Router(routes, options.bodyTimeoutMs);
  const metrics = new Metrics([...new Set([...routes.map((route) => route.name), "not_found"])]);

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
      checkRequestSize(head, url, options);
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
    return counted(route, errorResponse(error));
  };

  return {
    handle,
    checkouts,
    countAcceptError() {
      acceptErrors++;
    },
    observeOrderCall(seconds) {
      metrics.webhookLatency.observe(seconds);
    },
    stop() {
      topics.close();
      subscriptions.close();
      adminFeed?.close();
      router.close();
    },
    gauges,
  };
}
