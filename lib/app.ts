/** The request handler: routing table, method and origin checks, and error mapping. */
import { handleRestock } from "./admin_api.ts";
import type { ShoppingCart } from "./cart.ts";
import { handleCartCommand } from "./cart_api.ts";
import { echoSocket } from "./echo.ts";
import { errorResponse, HttpError } from "./http_error.ts";
import { longPollResponse } from "./long_poll.ts";
import { healthResponse, Metrics } from "./monitoring.ts";
import { isTrustedOrigin } from "./origin.ts";
import { pageResponse } from "./page.ts";
import { SseHub } from "./sse_hub.ts";
import { type AssetTable, serveAsset } from "./static_assets.ts";
import { WebSocketHub } from "./websocket_hub.ts";

/** What the handler needs besides the cart. */
export interface AppOptions {
  /** How long a long poll waits, in ms. */
  pollTimeoutMs: number;
  /** Origins besides our own trusted to post and subscribe. */
  allowedOrigins: readonly string[];
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

/**
 * Builds the application around one shared cart.
 *
 * @param cart The shared cart.
 * @param options Timeouts, origins, template and assets.
 * @returns The app; pass `app.handle` to `Deno.serve`.
 *
 * @example
 * ```ts
 * import { ShoppingCart } from "./cart.ts";
 * const app = createApp(new ShoppingCart(10), {
 *   pollTimeoutMs: 25_000,
 *   allowedOrigins: [],
 *   template: "<p>{{inventoryCount}}</p>",
 *   assets: new Map(),
 * });
 * const response = await app.handle(new Request("http://localhost/healthz"));
 * console.log(response.status); // 200
 * app.stop();
 * ```
 */
export function createApp(cart: ShoppingCart, options: AppOptions): App {
  const websockets = new WebSocketHub(cart);
  const streams = new SseHub(cart);
  const metrics = new Metrics();

  const requireTrustedOrigin = (request: Request) => {
    if (!isTrustedOrigin(request, options.allowedOrigins)) {
      throw new HttpError(403, "Cross-origin request refused");
    }
  };
  const isUpgrade = (request: Request) =>
    request.headers.get("upgrade")?.toLowerCase() === "websocket";

  const status: Handler = (request, url) => {
    if (isUpgrade(request)) {
      requireTrustedOrigin(request);
      return websockets.accept(request);
    }
    if (request.headers.get("accept")?.includes("text/event-stream")) {
      return streams.accept(request);
    }
    return longPollResponse(cart, request, url, options.pollTimeoutMs);
  };

  const routes = new Map<string, Route>([
    ["/", {
      name: "page",
      methods: ["GET", "HEAD"],
      handle: (request) =>
        pageResponse(cart, request, {
          template: options.template,
          secure: false,
        }),
    }],
    ["/cart", {
      name: "cart",
      methods: ["POST"],
      handle: (request) => {
        requireTrustedOrigin(request);
        return handleCartCommand(cart, request);
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
      handle: (request) => handleRestock(cart, request, adminToken),
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

  const handle = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const route = routes.get(url.pathname) ??
      (url.pathname.startsWith(STATIC_PREFIX) ? staticRoute : notFound);
    let response: Response;
    try {
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
    stop() {
      cart.close();
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
