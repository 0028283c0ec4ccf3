/** The shop's route table by area: pages, cart, live status, files and the admin API. */
import type { Checkouts } from "../inventory/checkout.ts";
import type { Inventory } from "../inventory/inventory.ts";
import type { Topics } from "../realtime/topics.ts";
import type { AdminFeed } from "../admin/admin_feed.ts";
import {
  MAX_ADMIN_BODY_BYTES,
  productsResponse,
  putProductResponse,
  restockResponse,
  retireResponse,
} from "../admin/admin_api.ts";
import { type AdminAccess, adminGuard } from "../admin/admin_auth.ts";
import {
  adminPageResponse,
  SIGN_IN_MEDIA_TYPES,
  signInResponse,
  signOutResponse,
} from "../admin/admin_page.ts";
import { CART_MEDIA_TYPES, cartResponse, handleCartCommand, MAX_BODY_BYTES } from "./cart_api.ts";
import { echoSocket } from "./echo.ts";
import { type ConnectionLimit, onUpgrades, requireUpgrade } from "./guards.ts";
import {
  catalogPage,
  missingProductPage,
  type PageOptions,
  productPage,
  type Templates,
} from "./page.ts";
import type { Guard, Route } from "./router.ts";
import { type AssetTable, serveAsset } from "./static_assets.ts";
import { productTopicOf, type Subscriptions } from "./subscriptions.ts";

const JSON_ONLY = ["application/json"] as const;

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
 * @returns The routes.
 */
export function cartRoutes(inventory: Inventory, checkouts: Checkouts, sameOrigin: Guard): Route[] {
  return [
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
  ];
}

/**
 * Live status of a product and of the catalog, and the echo socket; upgrades from our own pages
 * only, within the connection limit.
 *
 * @param inventory The inventory.
 * @param topics The topics subscribed to.
 * @param subscriptions Serves a topic by the transport asked for.
 * @param limit The connection limit.
 * @param sameOrigin Refuses requests from untrusted origins.
 * @returns The routes.
 */
export function statusRoutes(
  inventory: Inventory,
  topics: Topics,
  subscriptions: Subscriptions,
  limit: ConnectionLimit,
  sameOrigin: Guard,
): Route[] {
  // Plain long polls and streams are read-only; upgrades come from our own pages only.
  const guards = [limit.guard, onUpgrades(sameOrigin)];
  return [
    {
      name: "status",
      path: "/cart/status",
      methods: ["GET"],
      guards,
      handle: ({ request, url, head }) =>
        subscriptions.subscribe(request, head, url, productTopicOf(inventory, topics, url)),
    },
    {
      name: "catalog_status",
      path: "/catalog/status",
      methods: ["GET"],
      guards,
      handle: ({ request, url, head }) =>
        subscriptions.subscribe(request, head, url, topics.catalog),
    },
    {
      name: "echo",
      path: "/echo",
      methods: ["GET"],
      guards: [requireUpgrade, sameOrigin],
      handle: ({ request }) => echoSocket(request),
    },
  ];
}

/**
 * The files under /static/ and the catalog's images under /media/.
 *
 * @param assets The static files.
 * @param media The images.
 * @returns The routes.
 */
export function fileRoutes(assets: AssetTable, media: AssetTable): Route[] {
  return [
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

/**
 * The admin area: its page and sign-in (from our own pages only), and the API (restock, list,
 * retire and put products, and the dashboard's live feed) behind the bearer token or the admin
 * cookie.
 *
 * @param inventory The inventory.
 * @param access The admin token, sessions and wrong tokens counted.
 * @param templates The page templates.
 * @param sameOrigin Refuses requests from untrusted origins.
 * @param maxProducts The most products the catalog may hold.
 * @param feed The dashboard's feeds.
 * @returns The routes.
 */
export function adminRoutes(
  inventory: Inventory,
  access: AdminAccess,
  templates: Templates,
  sameOrigin: Guard,
  maxProducts: number,
  feed: AdminFeed,
): Route[] {
  // The bearer token works from anywhere (curl); the cookie only on our own pages' requests.
  const admin = [adminGuard(access)];
  return [
    {
      name: "admin_page",
      path: "/admin",
      methods: ["GET", "HEAD"],
      handle: (context) => adminPageResponse(context, access, templates),
    },
    {
      name: "admin_session",
      path: "/admin/session",
      methods: ["POST"],
      guards: [sameOrigin],
      body: { maxBytes: MAX_ADMIN_BODY_BYTES, mediaTypes: SIGN_IN_MEDIA_TYPES },
      handle: (context) => signInResponse(context, access, templates),
    },
    {
      name: "admin_session_end",
      path: "/admin/session/end",
      methods: ["POST"],
      guards: [sameOrigin],
      handle: ({ request }) => signOutResponse(request, access),
    },
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
      handle: ({ params, body }) => putProductResponse(inventory, params.id!, body!, maxProducts),
    },
    {
      name: "admin_feed",
      path: "/admin/feed",
      methods: ["GET"],
      guards: admin,
      handle: ({ request, head }) => feed.accept(request, head),
    },
  ];
}
