/** The shop's three pages (product, catalog, missing product), each with the session cookie. */
import type { Inventory } from "../inventory/inventory.ts";
import { inventoryCountOf, type ProductState } from "../inventory/ledger.ts";
import { formatPrice, limitText } from "../inventory/product.ts";
import type { ShopWords } from "../inventory/shop.ts";
import { holdValues } from "./hold_text.ts";
import { compressPerAnswer, preferredCoding } from "./content_coding.ts";
import { pageHeaders, type PageSecurity } from "./page_headers.ts";
import { sessionCookie, sessionFromCookie } from "./session.ts";
import { escapeHtml, renderTemplate, TrustedHtml } from "./template.ts";

/** The page templates, read once at start. */
export interface Templates {
  /** A product's page. */
  readonly product: string;
  /** The catalog page. */
  readonly catalog: string;
  /** A page for a product that is unknown (404) or retired (410). */
  readonly missing: string;
  /** The shop owner's dashboard, for a signed-in admin. */
  readonly admin: string;
  /** The admin sign-in form; `{{{alert}}}` is where the last try's failure goes. */
  readonly adminSignIn: string;
}

/** Options of the pages' rendering. */
export interface PageOptions {
  /** The templates. */
  readonly templates: Templates;
  /** Marks the session cookie Secure and the page HSTS: the request came over HTTPS. */
  readonly secure: boolean;
  /** Origins allowed to frame the shop's pages; none allows no one. */
  readonly frameAncestors: readonly string[];
  /** Makes a new shopper's session id (the server's clock draws it). */
  readonly newSession: () => string;
  /** The server's time, in ms since the epoch: a drop's page sets its countdown by it. */
  readonly now: () => number;
  /** The shop's name and tagline, from the catalog file. */
  readonly shop: ShopWords;
}

/** The image of a product that has none. */
const PLACEHOLDER_IMAGE = "/static/placeholder.svg";

/** Who may frame a shop page, and whether it came over HTTPS. */
function securityOf(options: PageOptions): PageSecurity {
  return { frameAncestors: options.frameAncestors, https: options.secure };
}

/** The session of a request, and whether it is new (then the answer sets the cookie). */
function sessionOf(
  request: Request,
  options: PageOptions,
): { session: string; known: boolean } {
  const known = sessionFromCookie(request);
  return { session: known ?? options.newSession(), known: known !== undefined };
}

/**
 * Builds an HTML answer, `no-store`, with the pages' security headers, gzip-compressed when the
 * client accepts it; a HEAD gets the same headers and no body, and sets no cookie.
 *
 * @param request The incoming request.
 * @param html The page.
 * @param options Who may frame it and whether it came over HTTPS, the status (200 by default), a
 * `Set-Cookie` value and any other headers.
 * @returns The response.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const head = htmlResponse(new Request("http://x/", { method: "HEAD" }), "<p>hi</p>", {
 *   security: { frameAncestors: [], https: false },
 *   cookie: "a=1",
 * });
 * assert.equal(head.headers.get("content-length"), "9");
 * assert.equal(head.headers.get("set-cookie"), null);
 * assert.match(head.headers.get("content-security-policy")!, /frame-ancestors 'none'/);
 * ```
 */
export function htmlResponse(
  request: Request,
  html: string,
  options: {
    security: PageSecurity;
    status?: number;
    cookie?: string;
    headers?: Record<string, string>;
  },
): Response {
  let body = new TextEncoder().encode(html);
  const headers: Record<string, string> = {
    ...pageHeaders(options.security),
    ...options.headers,
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    vary: "Accept-Encoding",
  };
  // A page carries live counts, so it is compressed per answer (gzip only: brotli's cost per
  // page buys few bytes more). No page echoes a visitor's input beside its session id, so this
  // gives BREACH nothing to guess with.
  if (preferredCoding(request.headers.get("accept-encoding"), ["gzip"]) === "gzip") {
    body = compressPerAnswer(body);
    headers["content-encoding"] = "gzip";
  }
  headers["content-length"] = String(body.byteLength);
  if (options.cookie !== undefined && request.method !== "HEAD") {
    headers["set-cookie"] = options.cookie;
  }
  return new Response(request.method === "HEAD" ? null : body, {
    status: options.status ?? 200,
    headers,
  });
}

/**
 * Renders a product's page for a request, giving a new session cookie to a new shopper.
 *
 * @param inventory The inventory.
 * @param record The product.
 * @param epoch The store's epoch, for the page's script.
 * @param request The incoming request.
 * @param options The templates and cookie settings.
 * @returns The HTML page.
 */
export async function productPage(
  inventory: Inventory,
  record: ProductState,
  request: Request,
  options: PageOptions,
): Promise<Response> {
  const { session, known } = sessionOf(request, options);
  const units = known ? await inventory.cartOf(session) : [];
  const expiresAt = units.find((unit) => unit.product === record.info.id)?.expiresAt;
  const inventoryCount = inventoryCountOf(record);
  const inCart = expiresAt !== undefined;
  // A shopper back from the order service's payment page sees the sale its callback made, as
  // after a direct sale; one holding another unit may buy it in turn.
  const sale = known && !inCart ? await inventory.saleOf(record.info.id, session) : undefined;
  const html = renderTemplate(options.templates.product, {
    session,
    product: record.info.id,
    name: record.info.name,
    description: record.info.description,
    image: record.info.image ?? PLACEHOLDER_IMAGE,
    price: formatPrice(record.info.price),
    limit: limitText(record.info),
    epoch: inventory.epoch,
    inventoryCount,
    version: record.version,
    inCart: String(inCart),
    orderId: sale?.orderId ?? "",
    stockText: inCart ? "In your cart" : inventoryCount === 0 ? "Sold out" : "Available",
    ...holdValues(inventory.holdTtlMs, expiresAt),
    // A drop's opening (empty for a product on sale at once), and the server's clock for its
    // countdown.
    opensAt: record.info.opensAt ?? "",
    serverTime: String(options.now()),
    shopName: options.shop.name,
  });
  return htmlResponse(request, html, {
    security: securityOf(options),
    cookie: known ? undefined : sessionCookie(session, options.secure),
  });
}

/** What a catalog tile shows of a product, as text. */
interface TileText {
  readonly id: string;
  readonly name: string;
  /** The price as shown. */
  readonly price: string;
  /** The price as the feed gives it, `<amount> <currency>`, to tell when it changes. */
  readonly priceCode: string;
  readonly image: string;
  /** The limit per shopper as shown. */
  readonly limit: string;
  readonly inventoryCount: string;
  readonly version: string;
}

/**
 * One product's tile on the catalog page; with empty texts it is the blank that the page's script
 * fills for a product listed after the page loaded.
 */
function tileHtml(tile: TileText): string {
  const id = escapeHtml(tile.id);
  const name = escapeHtml(tile.name);
  const soldOut = tile.inventoryCount === "0";
  return `<li class="tile" data-product="${id}" data-version="${escapeHtml(tile.version)}"` +
    ` data-price="${escapeHtml(tile.priceCode)}" data-sold-out="${soldOut}">` +
    `<a class="tile-link" href="/products/${escapeHtml(encodeURIComponent(tile.id))}">` +
    `<span class="tile-art"><img src="${escapeHtml(tile.image)}" alt="" width="320" height="240"` +
    ` loading="lazy"></span><span class="tile-name">${name}</span></a>` +
    `<p class="tile-price">${escapeHtml(tile.price)}</p>` +
    `<p class="tile-limit">${escapeHtml(tile.limit)}</p>` +
    `<p class="tile-stock" aria-live="polite" aria-atomic="true">` +
    `<span class="visually-hidden tile-label">${name}: </span>` +
    `<span class="tile-amount"><span class="tile-count">${escapeHtml(tile.inventoryCount)}</span>` +
    ` left</span> <span class="tile-state">${soldOut ? "Sold out" : ""}</span></p></li>`;
}

/**
 * Renders the catalog page: every product on sale with its picture, name, price and live count.
 *
 * @param inventory The inventory.
 * @param request The incoming request.
 * @param options The templates and cookie settings.
 * @returns The HTML page.
 */
export function catalogPage(
  inventory: Inventory,
  request: Request,
  options: PageOptions,
): Response {
  const { session, known } = sessionOf(request, options);
  const tiles = inventory.products().map((record) =>
    tileHtml({
      id: record.info.id,
      name: record.info.name,
      price: formatPrice(record.info.price),
      priceCode: `${record.info.price.amount} ${record.info.price.currency}`,
      image: record.info.image ?? PLACEHOLDER_IMAGE,
      limit: limitText(record.info),
      inventoryCount: String(inventoryCountOf(record)),
      version: String(record.version),
    })
  );
  const blank = {
    id: "",
    name: "",
    price: "",
    priceCode: "",
    limit: "",
    inventoryCount: "",
    version: "",
  };
  const html = renderTemplate(options.templates.catalog, {
    session,
    epoch: inventory.epoch,
    shopName: options.shop.name,
    tagline: options.shop.tagline,
    products: new TrustedHtml(tiles.join("\n")),
    tile: new TrustedHtml(tileHtml({ ...blank, image: PLACEHOLDER_IMAGE })),
  });
  return htmlResponse(request, html, {
    security: securityOf(options),
    cookie: known ? undefined : sessionCookie(session, options.secure),
  });
}

/**
 * Renders the page of a product that is not on sale.
 *
 * @param request The incoming request.
 * @param id The product's id as asked.
 * @param retired True for a product that was retired (410), false for an unknown one (404).
 * @param options The templates.
 * @returns The HTML page.
 */
export function missingProductPage(
  request: Request,
  id: string,
  retired: boolean,
  options: PageOptions,
): Response {
  const html = renderTemplate(options.templates.missing, {
    shopName: options.shop.name,
    title: retired ? "No longer on sale" : "Not found",
    message: retired
      ? `“${id}” is no longer on sale.`
      : `There is no product “${id}” in this shop.`,
  });
  return htmlResponse(request, html, {
    security: securityOf(options),
    status: retired ? 410 : 404,
  });
}
