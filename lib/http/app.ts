/** The request handler: the route table of the shop, its guards, and the connection limit. */
import { type CheckoutOutcome, Checkouts, type OrderService } from "../inventory/checkout.ts";
import type { Inventory } from "../inventory/inventory.ts";
import { PollGate } from "../realtime/poll_gate.ts";
import { SseHub } from "../realtime/sse_hub.ts";
import { refusalStream, retryFrame } from "../realtime/sse_wire.ts";
import type { Topic } from "../realtime/topic.ts";
import { Topics } from "../realtime/topics.ts";
import { DEFAULT_WEBSOCKET_HUB_OPTIONS, WebSocketHub } from "../realtime/websocket_hub.ts";
import type { Config } from "../server/config.ts";
import {
  MAX_ADMIN_BODY_BYTES,
  productsResponse,
  putProductResponse,
  requireAdmin,
  restockResponse,
  retireResponse,
} from "./admin_api.ts";
import { CART_MEDIA_TYPES, cartResponse, handleCartCommand, MAX_BODY_BYTES } from "./cart_api.ts";
import { echoSocket } from "./echo.ts";
import { errorResponse, HttpError } from "./http_error.ts";
import { longPollResponse, sinceOf } from "./long_poll.ts";
import { type Gauges, healthResponse, Metrics } from "./monitoring.ts";
import { isHttpsRequest, originGuard } from "./origin.ts";
import { catalogPage, missingProductPage, productPage, type Templates } from "./page.ts";
import { RefusalLog } from "./refusal_log.ts";
import { type Guard, type Route, Router } from "./router.ts";
import { type AssetTable, serveAsset } from "./static_assets.ts";

/** What the handler needs besides the inventory: the settings it enforces, documented on Config. */
export interface AppOptions extends
  Pick<
    Config,
    | "pollTimeoutMs"
    | "maxConnections"
    | "websocketTimeoutMs"
    | "sseHeartbeatMs"
    | "bodyTimeoutMs"
    | "maxUrlBytes"
    | "maxHeaderBytes"
    | "trustProxy"
    | "maxProducts"
    | "webhookTimeoutMs"
  > {
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
  /** The admin API's bearer token; without one `/admin/*` answers 404. */
  adminToken?: string;
  /** How many servers still serve connections, for /metrics; none given counts 0. */
  listeners?: () => number;
}

/** A running application: its handler, and a way to stop its connections. */
export interface App {
  /** Answers one request; never throws. */
  handle(request: Request): Promise<Response>;
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

/** More query parameters than any client of ours sends: `since`, `product` and a cache buster. */
const MAX_QUERY_PARAMS = 16;

const JSON_ONLY = ["application/json"] as const;

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
 * import { systemClock } from "../inventory/clock.ts";
 * import { Inventory } from "../inventory/inventory.ts";
 * import { openMemoryStore } from "../store/memory_store.ts";
 * const store = openMemoryStore({ holdTtlMs: 60_000, clock: systemClock });
 * const app = createApp(await Inventory.open(store, 60_000), {
 *   pollTimeoutMs: 25_000, allowedOrigins: [], maxConnections: 18_000,
 *   websocketTimeoutMs: 60_000, sseHeartbeatMs: 15_000, bodyTimeoutMs: 10_000,
 *   maxUrlBytes: 8192, maxHeaderBytes: 16_384, https: false, trustProxy: false, maxProducts: 1000,
 *   webhookTimeoutMs: 5_000,
 *   templates: { product: "", catalog: "", missing: "" }, assets: new Map(), media: new Map(),
 * });
 * const response = await app.handle(new Request("http://localhost/healthz"));
 * assert.equal(response.status, 200);
 * app.stop();
 * await store.close();
 * ```
 */
export function createApp(inventory: Inventory, options: AppOptions): App {
  const topics = new Topics(inventory);
  const websockets = new WebSocketHub({
    ...DEFAULT_WEBSOCKET_HUB_OPTIONS,
    timeoutMs: options.websocketTimeoutMs,
  });
  const streams = new SseHub(options.sseHeartbeatMs);
  const gates = new Map<Topic, PollGate>();
  const checkouts = new Checkouts(inventory, {
    service: options.orderService,
    timeoutMs: options.webhookTimeoutMs,
    onOutcome: (outcome: CheckoutOutcome) => metrics.countCheckout(outcome),
  });
  const pageOptions = (request: Request) => ({
    templates: options.templates,
    secure: isHttps(request),
  });
  let connectionsRefused = 0;
  let acceptErrors = 0;
  /** Long polls from their first line to their answer, through the gate included. */
  let longPolls = 0;

  const connections = () => longPolls + websockets.opening + websockets.size + streams.size;
  const gauges = (): Gauges => ({
    longPollWaiters: topics.tally.waiters,
    websocketSubscribers: websockets.size,
    sseSubscribers: streams.size,
    websocketLagging: websockets.lagging,
    websocketSlowClosed: websockets.slowClosed,
    sseSlowClosed: streams.slowClosed,
    connections: connections(),
    connectionsRefused,
    acceptErrors,
    listeners: options.listeners?.() ?? 0,
  });

  const isHttps = (request: Request) => isHttpsRequest(request, options);
  // Until the server has an injected logger, this is the one place refusals reach the console.
  const refusals = new RefusalLog({ now: Date.now, log: (line) => console.warn(line) });
  const trustedOrigin = originGuard(options, refusals);
  const sameOrigin: Guard = ({ request }) => trustedOrigin(request);
  const isUpgrade = (request: Request) =>
    request.headers.get("upgrade")?.toLowerCase() === "websocket";
  /** Upgrades come from our own pages only; plain long polls and streams are read-only. */
  const sameOriginUpgrade: Guard = (context) => {
    if (isUpgrade(context.request)) sameOrigin(context);
  };
  const isEventStream = (request: Request) =>
    request.headers.get("accept")?.includes("text/event-stream") ?? false;
  const hasRoom = () => {
    if (connections() < options.maxConnections) return true;
    connectionsRefused++;
    return false;
  };
  /**
   * Past the limit a long poll or upgrade gets 503. An event stream is let through to
   * `subscribe`, which answers a stream that asks its client to come back later: an EventSource
   * given a 503 stops for good.
   */
  const roomForConnection: Guard = ({ request }) => {
    if (isEventStream(request) || hasRoom()) return;
    // Jittered, so that refused clients do not all come back in the same second.
    const retryAfter = 5 + Math.floor(Math.random() * 10);
    throw new HttpError(503, "Too many connections, try again later", {
      headers: { "retry-after": String(retryAfter) },
    });
  };

  const subscribe = async (request: Request, url: URL, topic: Topic): Promise<Response> => {
    const since = sinceOf(url);
    if (isUpgrade(request)) return websockets.accept(request, topic);
    if (isEventStream(request)) {
      return hasRoom() ? streams.accept(request, topic, retryFrame()) : refusalStream();
    }
    let gate = gates.get(topic);
    if (gate === undefined) {
      gate = new PollGate(topic);
      gates.set(topic, gate);
    }
    longPolls++;
    try {
      return await longPollResponse(topic, gate, request, since, options.pollTimeoutMs);
    } finally {
      longPolls--;
    }
  };

  const productTopic = (url: URL): Topic => {
    const values = url.searchParams.getAll("product");
    if (values.length > 1) throw new HttpError(400, 'Parameter "product" is given more than once');
    let id = values[0];
    if (id === undefined) {
      const products = inventory.products();
      if (products.length !== 1) throw new HttpError(400, 'Parameter "product" is missing');
      id = products[0].info.id;
    }
    const record = inventory.get(id);
    const topic = topics.product(id);
    if (record === undefined || topic === undefined) {
      throw new HttpError(404, `No product "${id}"`);
    }
    if (record.retired) throw new HttpError(410, `Product "${id}" is no longer on sale`);
    return topic;
  };

  const routes: Route[] = [
    {
      name: "page",
      path: "/",
      methods: ["GET", "HEAD"],
      handle: ({ request }) => {
        const products = inventory.products();
        return products.length === 1
          ? productPage(inventory, products[0], request, pageOptions(request))
          : catalogPage(inventory, request, pageOptions(request));
      },
    },
    {
      name: "product_page",
      path: "/products/:id",
      methods: ["GET", "HEAD"],
      handle: ({ request, params }) => {
        const id = params.id!;
        const record = inventory.get(id);
        if (record === undefined || record.retired) {
          return missingProductPage(request, id, record !== undefined, pageOptions(request));
        }
        return productPage(inventory, record, request, pageOptions(request));
      },
    },
    {
      name: "cart",
      path: "/cart",
      methods: ["POST"],
      guards: [sameOrigin],
      body: { maxBytes: MAX_BODY_BYTES, mediaTypes: CART_MEDIA_TYPES },
      handle: ({ request, body }) => handleCartCommand(inventory, checkouts, request, body!),
    },
    {
      name: "cart_items",
      path: "/cart",
      methods: ["GET"],
      handle: ({ request }) => cartResponse(inventory, request),
    },
    {
      name: "status",
      path: "/cart/status",
      methods: ["GET"],
      guards: [roomForConnection, sameOriginUpgrade],
      handle: ({ request, url }) => subscribe(request, url, productTopic(url)),
    },
    {
      name: "catalog_status",
      path: "/catalog/status",
      methods: ["GET"],
      guards: [roomForConnection, sameOriginUpgrade],
      handle: ({ request, url }) => subscribe(request, url, topics.catalog),
    },
    {
      name: "echo",
      path: "/echo",
      methods: ["GET"],
      guards: [({ request }) => {
        if (!isUpgrade(request)) throw new HttpError(426, "WebSocket upgrade required");
      }, sameOrigin],
      handle: ({ request }) => echoSocket(request),
    },
    { name: "healthz", path: "/healthz", methods: ["GET", "HEAD"], handle: healthResponse },
    {
      name: "metrics",
      path: "/metrics",
      methods: ["GET"],
      handle: () =>
        new Response(metrics.render(inventory, gauges()), {
          headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
        }),
    },
    {
      name: "static",
      path: "/static/:name+",
      methods: ["GET", "HEAD"],
      handle: ({ request, url }) =>
        serveAsset(options.assets, url.pathname.slice("/static/".length), request),
    },
    {
      name: "media",
      path: "/media/:name",
      methods: ["GET", "HEAD"],
      handle: ({ request, url }) =>
        serveAsset(options.media, url.pathname.slice("/media/".length), request),
    },
  ];
  const adminToken = options.adminToken;
  if (adminToken !== undefined) {
    // A bearer token, not a cookie, authorizes these: no origin check, so curl works.
    const admin = [requireAdmin(adminToken)];
    routes.push(
      {
        name: "admin_inventory",
        path: "/admin/inventory",
        methods: ["POST"],
        guards: admin,
        body: { maxBytes: MAX_ADMIN_BODY_BYTES, mediaTypes: JSON_ONLY },
        handle: ({ body }) => restockResponse(inventory, body!),
      },
      {
        name: "admin_products",
        path: "/admin/products",
        methods: ["GET"],
        guards: admin,
        handle: () => productsResponse(inventory),
      },
      {
        name: "admin_product",
        path: "/admin/products/:id",
        methods: ["DELETE"],
        guards: admin,
        handle: ({ params }) => retireResponse(inventory, params.id!),
      },
      {
        name: "admin_product",
        path: "/admin/products/:id",
        methods: ["PUT"],
        guards: admin,
        body: { maxBytes: MAX_ADMIN_BODY_BYTES, mediaTypes: JSON_ONLY },
        handle: ({ params, body }) =>
          putProductResponse(inventory, params.id!, body!, options.maxProducts),
      },
    );
  }
  const router = new Router(routes, options.bodyTimeoutMs);
  const metrics = new Metrics([...new Set([...routes.map((route) => route.name), "not_found"])]);

  const handle = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const match = router.find(url);
    let response: Response;
    try {
      checkRequestSize(request, url, options);
      if (match === undefined) throw new HttpError(404, "Not found");
      response = await router.run(match, request, url);
    } catch (error) {
      response = errorResponse(error);
    }
    const route = match && (Router.routeFor(match, request.method) ?? match.routes[0]);
    metrics.countRequest(route?.name ?? "not_found", response.status);
    return response;
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
      // The polls just released pass the gates at once, not after a pause a storm had set.
      for (const gate of gates.values()) gate.flush();
      websockets.close();
      streams.close();
    },
    gauges,
  };
}

/** Refuses a request whose target or headers are larger than any real client sends. */
function checkRequestSize(request: Request, url: URL, options: AppOptions): void {
  if (url.pathname.length + url.search.length > options.maxUrlBytes) {
    throw new HttpError(414, `Path and query are longer than ${options.maxUrlBytes} bytes`);
  }
  let headerBytes = 0;
  for (const [name, value] of request.headers) headerBytes += name.length + value.length;
  if (headerBytes > options.maxHeaderBytes) {
    throw new HttpError(431, `Headers are larger than ${options.maxHeaderBytes} bytes`);
  }
  // Counting "&"s first keeps a query of 10,000 parameters from being parsed at all.
  if (url.search.split("&").length > MAX_QUERY_PARAMS) {
    throw new HttpError(400, `More than ${MAX_QUERY_PARAMS} query parameters`);
  }
}
