/** The request handler: routing table, method and origin checks, and error mapping. */
import { handleRestock } from "./admin_api.ts";
import type { ShoppingCart } from "../inventory/cart.ts";
import { handleCartCommand } from "./cart_api.ts";
import type { Config } from "../server/config.ts";
import { echoSocket } from "./echo.ts";
import { errorResponse, HttpError } from "./http_error.ts";
import { longPollResponse } from "./long_poll.ts";
import { PollGate } from "../realtime/poll_gate.ts";
import { healthResponse, Metrics } from "./monitoring.ts";
import { isTrustedOrigin } from "./origin.ts";
import { pageResponse } from "./page.ts";
import { SseHub } from "../realtime/sse_hub.ts";
import { refusalStream } from "../realtime/sse_wire.ts";
import { type AssetTable, serveAsset } from "./static_assets.ts";
import { DEFAULT_WEBSOCKET_HUB_OPTIONS, WebSocketHub } from "../realtime/websocket_hub.ts";

/** What the handler needs besides the cart: the settings it enforces, documented on Config. */
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
  > {
  /** Origins besides our own trusted to post and subscribe. */
  allowedOrigins: readonly string[];
  /** The server itself speaks HTTPS. */
  https: boolean;
  /** The page template's text. */
  template: string;
  /** The files under /static/. */
  assets: AssetTable;
  /** The admin API's bearer token; without one `/admin/*` answers 404. */
  adminToken?: string;
}

/** A running application: its handler, and a way to stop its connections. */
export interface App {
  /** Answers one request; never throws. */
  handle(request: Request): Promise<Response>;
  /** Answers every waiter, closes every subscriber (1001), stops timers. */
  stop(): void;
  /** Counts one failed accept (the listener died and is being reopened), for /metrics. */
  countAcceptError(): void;
  /** WebSocket subscribers now. */
  readonly websocketSubscribers: number;
  /** SSE subscribers now. */
  readonly sseSubscribers: number;
}

type Handler = (request: Request, url: URL) => Response | Promise<Response>;

interface Route {
  /** Label for metrics. */
  name: string;
  /** Methods answered; others get 405 with `Allow`. */
  methods: readonly string[];
  handle: Handler;
}

const STATIC_PREFIX = "/static/";

/** More query parameters than any client of ours sends: `since` plus a cache buster or two. */
const MAX_QUERY_PARAMS = 16;

/**
 * Builds the application around one shared cart.
 *
 * @param cart The shared cart.
 * @param options Timeouts, origins, template and assets.
 * @returns The app; pass `app.handle` to `Deno.serve`.
 *
 * @example
 * ```ts
 * import { ShoppingCart } from "../inventory/cart.ts";
 * const app = createApp(new ShoppingCart(10), {
 *   pollTimeoutMs: 25_000,
 *   allowedOrigins: [],
 *   maxConnections: 18_000,
 *   websocketTimeoutMs: 60_000,
 *   sseHeartbeatMs: 15_000,
 *   bodyTimeoutMs: 10_000,
 *   maxUrlBytes: 8192,
 *   maxHeaderBytes: 16_384,
 *   https: false,
 *   trustProxy: false,
 *   template: "<p>{{inventoryCount}}</p>",
 *   assets: new Map(),
 * });
 * const response = await app.handle(new Request("http://localhost/healthz"));
 * console.log(response.status); // 200
 * app.stop();
 * ```
 */
export function createApp(cart: ShoppingCart, options: AppOptions): App {
  const websockets = new WebSocketHub(cart, {
    ...DEFAULT_WEBSOCKET_HUB_OPTIONS,
    timeoutMs: options.websocketTimeoutMs,
  });
  const streams = new SseHub(cart, options.sseHeartbeatMs);
  const polls = new PollGate(cart);
  let connectionsRefused = 0;
  let acceptErrors = 0;

  // Derived, so it cannot drift: a waiting long poll is a waiter, a subscriber is in its hub
  // (a WebSocket from the moment its upgrade is answered, so a burst cannot overshoot).
  const connections = () => cart.waiterCount + websockets.opening + websockets.size + streams.size;
  const hasRoomForConnection = () => {
    if (connections() < options.maxConnections) return true;
    connectionsRefused++;
    return false;
  };
  const requireRoomForConnection = () => {
    if (hasRoomForConnection()) return;
    // Jittered, so that refused clients do not all come back in the same second.
    const retryAfter = 5 + Math.floor(Math.random() * 10);
    throw new HttpError(503, "Too many connections, try again later", {
      headers: { "retry-after": String(retryAfter) },
    });
  };
  const isHttps = (request: Request) =>
    options.https ||
    (options.trustProxy &&
      request.headers.get("x-forwarded-proto")?.split(",")[0].trim().toLowerCase() === "https");

  const requireTrustedOrigin = (request: Request) => {
    // Behind a proxy that ends TLS, the page's origin is https:// while our request URL is http://.
    const forwarded = options.trustProxy && isHttps(request)
      ? [`https://${new URL(request.url).host}`]
      : [];
    if (!isTrustedOrigin(request, [...options.allowedOrigins, ...forwarded])) {
      throw new HttpError(403, "Cross-origin request refused");
    }
  };
  const isUpgrade = (request: Request) =>
    request.headers.get("upgrade")?.toLowerCase() === "websocket";

  const status: Handler = (request, url) => {
    if (isUpgrade(request)) {
      requireRoomForConnection();
      requireTrustedOrigin(request);
      return websockets.accept(request);
    }
    if (request.headers.get("accept")?.includes("text/event-stream")) {
      // An EventSource stops for good on a 503, but comes back after a stream that ends.
      return hasRoomForConnection() ? streams.accept(request) : refusalStream();
    }
    requireRoomForConnection();
    return longPollResponse(cart, polls, request, url, options.pollTimeoutMs);
  };

  const routes = new Map<string, Route>([
    ["/", {
      name: "page",
      methods: ["GET", "HEAD"],
      handle: (request) =>
        pageResponse(cart, request, {
          template: options.template,
          secure: isHttps(request),
        }),
    }],
    ["/cart", {
      name: "cart",
      methods: ["POST"],
      handle: (request) => {
        requireTrustedOrigin(request);
        return handleCartCommand(cart, request, options.bodyTimeoutMs);
      },
    }],
    ["/cart/status", { name: "status", methods: ["GET"], handle: status }],
    ["/echo", {
      name: "echo",
      methods: ["GET"],
      handle: (request) => {
        if (!isUpgrade(request)) {
          throw new HttpError(426, "WebSocket upgrade required");
        }
        requireTrustedOrigin(request);
        return echoSocket(request);
      },
    }],
    ["/healthz", {
      name: "healthz",
      methods: ["GET", "HEAD"],
      handle: healthResponse,
    }],
    ["/metrics", {
      name: "metrics",
      methods: ["GET"],
      handle: () =>
        new Response(
          metrics.render(cart, {
            websocketSubscribers: websockets.size,
            sseSubscribers: streams.size,
            websocketLagging: websockets.lagging,
            websocketSlowClosed: websockets.slowClosed,
            sseSlowClosed: streams.slowClosed,
            connections: connections(),
            connectionsRefused,
            acceptErrors,
          }),
          {
            headers: {
              "content-type": "text/plain; version=0.0.4; charset=utf-8",
            },
          },
        ),
    }],
  ]);
  const adminToken = options.adminToken;
  if (adminToken !== undefined) {
    routes.set("/admin/inventory", {
      name: "admin_inventory",
      methods: ["POST"],
      // A bearer token, not a cookie, authorizes this: no origin check, so curl works.
      handle: (request) => handleRestock(cart, request, adminToken, options.bodyTimeoutMs),
    });
  }
  const staticRoute: Route = {
    name: "static",
    methods: ["GET", "HEAD"],
    handle: (request, url) =>
      serveAsset(
        options.assets,
        url.pathname.slice(STATIC_PREFIX.length),
        request,
      ),
  };
  const notFound: Route = {
    name: "not_found",
    methods: [],
    handle: () => {
      throw new HttpError(404, "Not found");
    },
  };
  const metrics: Metrics = new Metrics(
    [...routes.values(), staticRoute, notFound].map((route) => route.name),
  );

  const handle = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const route = routes.get(url.pathname) ??
      (url.pathname.startsWith(STATIC_PREFIX) ? staticRoute : notFound);
    let response: Response;
    try {
      checkRequestSize(request, url, options);
      if (route !== notFound && !route.methods.includes(request.method)) {
        throw new HttpError(
          405,
          `Method ${request.method} is not allowed here`,
          {
            headers: { allow: route.methods.join(", ") },
          },
        );
      }
      response = await route.handle(request, url);
    } catch (error) {
      response = errorResponse(error);
    }
    metrics.countRequest(route.name, response.status);
    return response;
  };

  return {
    handle,
    countAcceptError() {
      acceptErrors++;
    },
    stop() {
      cart.close();
      // The polls just released pass the gate at once, not after a pause a storm had set.
      polls.flush();
      websockets.close();
      streams.close();
    },
    get websocketSubscribers() {
      return websockets.size;
    },
    get sseSubscribers() {
      return streams.size;
    },
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
