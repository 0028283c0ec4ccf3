/** The shop's route table by area: pages, cart, live status, monitoring and files. */
import type { Checkouts } from "../inventory/checkout.ts";
import type { Inventory } from "../inventory/inventory.ts";
import type { Refusal } from "../inventory/refusal.ts";
import type { Subscriptions } from "../realtime/subscriptions.ts";
import type { Topics } from "../realtime/topics.ts";
import type { ClientLimits } from "./client_limits.ts";
import {
  type AddGate,
  CART_MEDIA_TYPES,
  cartResponse,
  handleCartCommand,
  MAX_BODY_BYTES,
} from "./cart_api.ts";
import { publicRoutes } from "./any_origin.ts";
import { type ConnectionLimit, requireUpgrade } from "./guards.ts";
import { healthResponse, readinessResponse } from "./health.ts";
import type { Gauges, Metrics } from "./monitoring.ts";
import { catalogPage, missingProductPage, type PageOptions, productPage } from "./page.ts";
import type { Guard, Route } from "./router.ts";
import { embedScript } from "./embed_script.ts";
import { assetResponse, type AssetTable, serveAsset } from "./static_assets.ts";
import { productTopicOf, subscribe } from "./status.ts";
import { paymentCallback, type PaymentCallbackOptions } from "../orders/payment_callbacks.ts";

/**
 * The shop's pages: the product page (or the catalog, for several products) and each product's.
 *
 * @param inventory The inventory.
 * @param pageOptions The templates, and whether the request came over HTTPS.
 * @returns The routes.
 */
export function pageRoutes(
  inventory: Inventory,
  pageOptions: (request: Request) => PageOptions,
): Route[] {
  return [
    {
      name: "page",
      path: "/",
      methods: ["GET", "HEAD"],
      handle: ({ request }) => {
        const sole = inventory.soleProduct();
        return sole !== undefined
          ? productPage(inventory, sole, request, pageOptions(request))
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
  ];
}

/**
 * The cart: its commands (from our own pages only) and what it holds.
 *
 * @param inventory The inventory.
 * @param checkouts The checkouts the `checkout` command starts.
 * @param sameOrigin Refuses requests from untrusted origins.
 * @param clientLimits What each client address may do: its adds a second, its holds at once.
 * @param gate Whether a drop lets a session add now.
 * @param onRefusal Told of every refused add or remove, to count it.
 * @returns The routes.
 */
export function cartRoutes(
  inventory: Inventory,
  checkouts: Checkouts,
  sameOrigin: Guard,
  clientLimits: ClientLimits,
  gate: AddGate,
  onRefusal: (kind: Refusal) => void,
): Route[] {
  return [
    {
      name: "cart",
      path: "/cart",
      methods: ["POST"],
      guards: [sameOrigin],
      body: { maxBytes: MAX_BODY_BYTES, mediaTypes: CART_MEDIA_TYPES },
      handle: (context) => {
        const client = clientLimits.holdLimit(context);
        return handleCartCommand(
          inventory,
          checkouts,
          context.request,
          context.body!,
          client,
          {
            admitAdd: () => clientLimits.admitAdd(context),
            gate,
            onRefusal: (kind) => {
              onRefusal(kind);
              if (kind === "too many holds") clientLimits.refuseHolds(client.key);
            },
          },
        );
      },
    },
    {
      name: "cart_items",
      path: "/cart",
      methods: ["GET"],
      handle: ({ request }) => cartResponse(inventory, request),
    },
  ];
}

/**
 * Live status of a product and of the catalog, readable from any origin, and the echo socket
 * (from our own pages only): each within the connection limit.
 *
 * @param inventory The inventory.
 * @param topics The topics subscribed to.
 * @param subscriptions Serves a topic by the transport asked for, and the echo socket.
 * @param limit The connection limit.
 * @param sameOrigin Refuses requests from untrusted origins.
 * @param clientLimits The connections each client may hold.
 * @returns The routes.
 */
export function statusRoutes(
  inventory: Inventory,
  topics: Topics,
  subscriptions: Subscriptions,
  limit: ConnectionLimit,
  sameOrigin: Guard,
  clientLimits: ClientLimits,
): Route[] {
  // Every transport of a status feed only reads public counts (a socket's messages are never
  // read), so any origin may follow one, as a page elsewhere with /embed.js does; the limits
  // per address still hold.
  const guards = [limit.guard];
  const feeds: Route[] = [
    {
      name: "status",
      path: "/cart/status",
      methods: ["GET"],
      guards,
      handle: (context) =>
        subscribe(
          subscriptions,
          limit,
          clientLimits,
          context,
          productTopicOf(inventory, topics, context.url),
        ),
    },
    {
      name: "catalog_status",
      path: "/catalog/status",
      methods: ["GET"],
      guards,
      handle: (context) => subscribe(subscriptions, limit, clientLimits, context, topics.catalog),
    },
  ];
  return [
    ...publicRoutes(feeds),
    {
      name: "echo",
      path: "/echo",
      methods: ["GET"],
      guards: [requireUpgrade, limit.guard, sameOrigin],
      handle: ({ request }) => subscriptions.echo(request),
    },
  ];
}

/**
 * Health, readiness and the Prometheus metrics.
 *
 * @param inventory The inventory, whose store is reported.
 * @param metrics The counters of requests and checkouts.
 * @param gauges The live counts shown beside them.
 * @returns The routes.
 */
export function monitoringRoutes(
  inventory: Inventory,
  metrics: Metrics,
  gauges: () => Gauges,
): Route[] {
  return [
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
  ];
}

/**
 * The files under /static/, the catalog's images under /media/, and /embed.js for other sites.
 *
 * @param assets The static files.
 * @param media The images.
 * @returns The routes.
 */
export function fileRoutes(assets: AssetTable, media: AssetTable): Route[] {
  const embed = embedScript();
  return [
    {
      name: "embed",
      path: "/embed.js",
      methods: ["GET", "HEAD"],
      handle: async ({ request }) => assetResponse(await embed, request),
    },
    {
      name: "static",
      path: "/static/:name+",
      methods: ["GET", "HEAD"],
      handle: ({ request, url }) =>
        serveAsset(assets, url.pathname.slice("/static/".length), request),
    },
    {
      name: "media",
      path: "/media/:name",
      methods: ["GET", "HEAD"],
      handle: ({ request, url }) =>
        serveAsset(media, url.pathname.slice("/media/".length), request),
    },
  ];
}

/** A callback's body is a small JSON object (`{}` will do). */
const MAX_CALLBACK_BYTES = 16 * 1024;

/**
 * The order service's callbacks, `POST /orders/{orderId}/paid` and `/cancelled`: server to server,
 * so no origin or session rule of the shop's pages; the Standard Webhooks signature is the guard.
 *
 * @param options The payments, the secret and the log.
 * @returns The routes.
 */
export function paymentRoutes(options: PaymentCallbackOptions): Route[] {
  return (["paid", "cancelled"] as const).map((how) => ({
    name: `order_${how}`,
    path: `/orders/:orderId/${how}`,
    methods: ["POST"],
    body: { maxBytes: MAX_CALLBACK_BYTES, mediaTypes: ["application/json"] },
    handle: ({ request, params, body }) =>
      paymentCallback(options, params.orderId!, how, request.headers, body?.text ?? ""),
  }));
}
