/** The admin area's routes: its page, sign-in, API and the dashboard's feed. */
import type { Inventory } from "../inventory/inventory.ts";
import type { Templates } from "../http/page.ts";
import type { Guard, Route } from "../http/router.ts";
import type { AdminFeed } from "./admin_feed.ts";
import {
  MAX_ADMIN_BODY_BYTES,
  patchProductResponse,
  productsResponse,
  putProductResponse,
  restockResponse,
  retireResponse,
} from "./admin_api.ts";
import { type AdminAccess, adminGuard } from "./admin_auth.ts";
import { queueControlResponse } from "./admin_queue.ts";
import { type AdminLogOptions, loggedAdminRoute } from "./admin_log.ts";
import type { Drops } from "../queue/drops.ts";
import type { OrderHistory } from "../inventory/order_history.ts";
import { ordersResponse } from "./admin_orders.ts";
import {
  adminPageResponse,
  SIGN_IN_MEDIA_TYPES,
  signInResponse,
  signOutResponse,
} from "./admin_page.ts";

const JSON_ONLY = ["application/json"] as const;

/**
 * The admin area: its page and sign-in (from our own pages only), and the API (restock, list,
 * retire, put and patch products, steer a drop's admissions, and the dashboard's live feed) behind the bearer token or the admin
 * cookie.
 *
 * @param inventory The inventory.
 * @param access The admin token, sessions and wrong tokens counted.
 * @param templates The page templates.
 * @param sameOrigin Refuses requests from untrusted origins.
 * @param maxProducts The most products the catalog may hold.
 * @param feed The dashboard's feeds.
 * @param drops The drops, whose admissions the owner steers.
 * @param changeLog Where each change is logged, and whether to believe a proxy's client address.
 * @param orders The last orders, listed by `GET /admin/orders`.
 * @returns The routes; every change through them is logged.
 */
export function adminRoutes(
  inventory: Inventory,
  access: AdminAccess,
  templates: Templates,
  sameOrigin: Guard,
  maxProducts: number,
  feed: AdminFeed,
  drops: Drops,
  changeLog: Omit<AdminLogOptions, "inventory">,
  orders: Pick<OrderHistory, "recent">,
): Route[] {
  // The bearer token works from anywhere (curl); the cookie only on our own pages' requests.
  const admin = [adminGuard(access)];
  const logged = (route: Route) => loggedAdminRoute(route, { ...changeLog, inventory });
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
    logged({
      name: "admin_inventory",
      path: "/admin/inventory",
      methods: ["POST"],
      guards: admin,
      body: { maxBytes: MAX_ADMIN_BODY_BYTES, mediaTypes: JSON_ONLY },
      handle: ({ body }) => restockResponse(inventory, body!),
    }),
    {
      name: "admin_products",
      path: "/admin/products",
      methods: ["GET"],
      guards: admin,
      handle: () => productsResponse(inventory),
    },
    logged({
      name: "admin_product",
      path: "/admin/products/:id",
      methods: ["DELETE"],
      guards: admin,
      handle: ({ params }) => retireResponse(inventory, params.id!),
    }),
    logged({
      name: "admin_product",
      path: "/admin/products/:id",
      methods: ["PUT"],
      guards: admin,
      body: { maxBytes: MAX_ADMIN_BODY_BYTES, mediaTypes: JSON_ONLY },
      handle: ({ params, body }) => putProductResponse(inventory, params.id!, body!, maxProducts),
    }),
    logged({
      name: "admin_product",
      path: "/admin/products/:id",
      methods: ["PATCH"],
      guards: admin,
      body: { maxBytes: MAX_ADMIN_BODY_BYTES, mediaTypes: JSON_ONLY },
      handle: ({ params, body }) => patchProductResponse(inventory, params.id!, body!),
    }),
    logged({
      name: "admin_queue",
      path: "/admin/products/:id/queue",
      methods: ["POST"],
      guards: admin,
      body: { maxBytes: MAX_ADMIN_BODY_BYTES, mediaTypes: JSON_ONLY },
      handle: ({ params, body }) => queueControlResponse(inventory, drops, params.id!, body!),
    }),
    {
      name: "admin_orders",
      path: "/admin/orders",
      methods: ["GET"],
      guards: admin,
      handle: () => ordersResponse(orders),
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
