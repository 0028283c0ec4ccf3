/** One log line per change made through the admin API: what changed, and from which address. */
import { adminView } from "./admin_api.ts";
import { queueControlsOf } from "./admin_queue.ts";
import type { Inventory } from "../inventory/inventory.ts";
import { forwardedFor } from "../http/forwarded.ts";
import type { Route, RouteContext } from "../http/router.ts";

/** The fields a line compares, before and after a change, in the order it names them. */
const LOGGED_FIELDS = [
  "name",
  "description",
  "price",
  "image",
  "limitPerShopper",
  "opensAt",
  "position",
  "total",
  "retired",
] as const;

/** The longest value a line shows, in characters: a description may be 2,000. */
const MAX_SHOWN_CHARS = 60;

/** What {@linkcode loggedAdminRoute} needs. */
export interface AdminLogOptions {
  /** The inventory, read before a change to tell what changed. */
  readonly inventory: Inventory;
  /** Believe a reverse proxy's `X-Forwarded-For` for the client's address (`--trust-proxy`). */
  readonly trustProxy: boolean;
  /** Writes one line. */
  readonly log: (line: string) => void;
}

/**
 * Wraps an admin route that changes something so that each change it makes (a 2xx answer) is
 * logged in one line: the method and path, the client's address, and each field that changed with
 * its value before and after (or the queue controls given). Headers are never logged, so neither
 * is the token.
 *
 * @param route The route: `PUT`, `PATCH`, `DELETE` of a product, a restock or a queue control.
 * @param options The inventory, whether to trust the proxy, and the log.
 * @returns The same route, logging.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemClock } from "../time/clock.ts";
 * import { Inventory } from "../inventory/inventory.ts";
 * import { openMemoryStore } from "../store/memory_store.ts";
 * import { RequestHead } from "../http/request_head.ts";
 * import { adminView } from "./admin_api.ts";
 * const store = openMemoryStore({ holdTtlMs: 60_000, clock: systemClock });
 * const inventory = await Inventory.open(store, 60_000);
 * const price = { amount: "9.00", currency: "EUR" };
 * await inventory.list({ info: { id: "pin", name: "Pin", description: "", price, image: null }, total: 5 });
 * const lines: string[] = [];
 * const route = loggedAdminRoute({
 *   name: "admin_product",
 *   path: "/admin/products/:id",
 *   methods: ["DELETE"],
 *   handle: async ({ params }) => Response.json(adminView((await inventory.retire(params.id!)).record!)),
 * }, { inventory, trustProxy: false, log: (line) => lines.push(line) });
 * const request = new Request("http://shop.test/admin/products/pin", { method: "DELETE" });
 * await route.handle({
 *   request, url: new URL(request.url), head: RequestHead.of(request), params: { id: "pin" },
 *   body: undefined,
 *   connection: { remoteAddr: { transport: "tcp", hostname: "192.0.2.7", port: 5000 } },
 * });
 * assert.deepEqual(lines, ['Admin: DELETE /admin/products/pin from 192.0.2.7: "pin" retired false -> true']);
 * await store.close();
 * ```
 */
export function loggedAdminRoute(route: Route, options: AdminLogOptions): Route {
  return {
    ...route,
    handle: async (context) => {
      const product = productOf(context, options.inventory);
      const known = product === undefined ? undefined : options.inventory.get(product);
      const before = known === undefined ? undefined : adminView(known);
      const response = await route.handle(context);
      if (response.ok) {
        const after = await response.clone().json() as Record<string, unknown>;
        const change = context.url.pathname.endsWith("/queue")
          ? `"${product}" queue ${JSON.stringify(queueControlsOf(context.body!))}`
          : changeOf(product ?? String(after.product ?? after.id), before, after);
        options.log(
          `Admin: ${context.request.method} ${context.url.pathname} from ${
            addressOf(context, options.trustProxy)
          }: ${change}`,
        );
      }
      return response;
    },
  };
}

/** The product a request changes: the one in its path, the one its body names, or the sole one. */
function productOf(context: RouteContext, inventory: Inventory): string | undefined {
  if (context.params.id !== undefined) return context.params.id;
  try {
    const named = (JSON.parse(context.body?.text ?? "") as { product?: unknown }).product;
    if (typeof named === "string") return named;
  } catch {
    // A bad body is refused by the route itself, and nothing is logged.
  }
  return inventory.soleProduct()?.info.id;
}

function changeOf(
  product: string,
  before: Record<string, unknown> | undefined,
  after: Record<string, unknown>,
): string {
  if (before === undefined) return `added "${product}" (total ${after.total})`;
  const changes = LOGGED_FIELDS
    .filter((field) => field in after && show(before[field]) !== show(after[field]))
    .map((field) => `${field} ${show(before[field])} -> ${show(after[field])}`);
  return `"${product}" ${changes.length === 0 ? "unchanged" : changes.join(", ")}`;
}

/** The client's address as the socket or, behind a trusted proxy, the proxy tells it. */
function addressOf(context: RouteContext, trustProxy: boolean): string {
  const forwarded = trustProxy ? forwardedFor(context.request.headers) : undefined;
  return forwarded ?? context.connection?.remoteAddr.hostname ?? "this process";
}

/** A value as JSON on one line, cut short when long. */
function show(value: unknown): string {
  const json = JSON.stringify(value) ?? "nothing";
  return json.length > MAX_SHOWN_CHARS ? `${json.slice(0, MAX_SHOWN_CHARS)}…` : json;
}
