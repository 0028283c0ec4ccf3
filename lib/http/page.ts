/** The product page: the HTML template, rendered with escaped values, and its session cookie. */
import type { Inventory } from "../inventory/inventory.ts";
import { inventoryCountOf, type ProductRecord } from "../inventory/ledger.ts";
import { formatPrice } from "../inventory/product.ts";
import { sessionCookie, sessionFromCookie } from "./session.ts";

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/**
 * Escapes text for HTML content and quoted attribute values.
 *
 * @param text Any text.
 * @returns The text with `& < > " '` replaced by entities.
 *
 * @example
 * ```ts
 * console.log(escapeHtml(`<a href="x">`)); // &lt;a href=&quot;x&quot;&gt;
 * ```
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

/** HTML built by our own code from escaped parts, inserted as it is by `{{{name}}}`. */
export class TrustedHtml {
  /**
   * Marks markup as trusted.
   *
   * @param html The markup, built by our own code from escaped parts.
   */
  constructor(readonly html: string) {}
}

/**
 * Fills `{{name}}` placeholders with escaped values, and `{{{name}}}` with trusted HTML.
 *
 * @param template The template text.
 * @param values The value of each placeholder.
 * @returns The rendered text.
 * @throws {RangeError} When the template names a value that was not given, or puts text that is
 * not {@linkcode TrustedHtml} in a `{{{name}}}`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const html = renderTemplate("<p>{{name}}</p>{{{list}}}", {
 *   name: "<b>",
 *   list: new TrustedHtml("<ul></ul>"),
 * });
 * assert.equal(html, "<p>&lt;b&gt;</p><ul></ul>");
 * ```
 */
export function renderTemplate(
  template: string,
  values: Record<string, string | number | TrustedHtml>,
): string {
  return template.replace(/\{\{(\{?)\s*(\w+)\s*\}?\}\}/g, (_, raw: string, name: string) => {
    if (!(name in values)) throw new RangeError(`Template value "${name}" is missing`);
    const value = values[name];
    if (raw) {
      if (!(value instanceof TrustedHtml)) {
        throw new RangeError(`Template value "${name}" must be trusted HTML`);
      }
      return value.html;
    }
    return escapeHtml(value instanceof TrustedHtml ? value.html : String(value));
  });
}

const DURATION_UNITS = [
  ["day", 86_400_000],
  ["hour", 3_600_000],
  ["minute", 60_000],
  ["second", 1_000],
] as const;

/**
 * Says how long a hold lasts, in the largest unit that divides it evenly.
 *
 * @param ms A duration in ms; Infinity for a hold that lasts until removed.
 * @returns Text such as "15 minutes", "90 seconds" or "1 hour"; "" for Infinity.
 *
 * @example
 * ```ts
 * console.log(durationText(900_000)); // 15 minutes
 * ```
 */
export function durationText(ms: number): string {
  if (!Number.isFinite(ms)) return "";
  const [unit, size] = DURATION_UNITS.find(([, size]) => ms % size === 0) ?? ["second", 1_000];
  const count = Math.round(ms / size);
  return `${count} ${unit}${count === 1 ? "" : "s"}`;
}

/** The page templates, read once at start. */
export interface Templates {
  /** A product's page. */
  readonly product: string;
  /** The catalog page. */
  readonly catalog: string;
  /** A page for a product that is unknown (404) or retired (410). */
  readonly missing: string;
}

/** Options of the pages' rendering. */
export interface PageOptions {
  /** The templates. */
  readonly templates: Templates;
  /** Marks the session cookie Secure. */
  readonly secure: boolean;
}

/** The image of a product that has none. */
const PLACEHOLDER_IMAGE = "/static/placeholder.svg";

/**
 * The template values that tell a shopper how long the cart keeps their unit.
 *
 * @param holdTtlMs How long a hold lasts.
 * @param expiresAt When this shopper's hold ends, if they hold one.
 * @returns `holdTtlSeconds`, `holdExpiresAt` (ISO time, "" when none) and `holdText`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(holdValues(900_000, undefined).holdText, "Your cart keeps the item for 15 minutes after your last add.");
 * ```
 */
export function holdValues(
  holdTtlMs: number,
  expiresAt: number | undefined,
): Record<string, string> {
  return {
    holdTtlSeconds: Number.isFinite(holdTtlMs) ? String(holdTtlMs / 1000) : "",
    holdExpiresAt: expiresAt !== undefined && Number.isFinite(expiresAt)
      ? new Date(expiresAt).toISOString()
      : "",
    holdText: Number.isFinite(holdTtlMs)
      ? `Your cart keeps the item for ${durationText(holdTtlMs)} after your last add.`
      : "Your cart keeps the item until you remove it.",
  };
}

/** The session of a request, and whether it is new (then the answer sets the cookie). */
function sessionOf(request: Request): { session: string; known: boolean } {
  const known = sessionFromCookie(request);
  return { session: known ?? crypto.randomUUID(), known: known !== undefined };
}

/**
 * Builds an HTML answer; a HEAD gets the same headers and no body, and neither sets a cookie
 * unless the shopper is new to us on a GET.
 */
function htmlResponse(
  request: Request,
  html: string,
  options: { status?: number; cookie?: string },
): Response {
  const body = new TextEncoder().encode(html);
  const headers: Record<string, string> = {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "content-length": String(body.byteLength),
  };
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
  record: ProductRecord,
  request: Request,
  options: PageOptions,
): Promise<Response> {
  const { session, known } = sessionOf(request);
  const units = known ? await inventory.cartOf(session) : [];
  const expiresAt = units.find((unit) => unit.product === record.info.id)?.expiresAt;
  const inventoryCount = inventoryCountOf(record);
  const inCart = expiresAt !== undefined;
  const html = renderTemplate(options.templates.product, {
    session,
    product: record.info.id,
    name: record.info.name,
    description: record.info.description,
    image: record.info.image ?? PLACEHOLDER_IMAGE,
    price: formatPrice(record.info.price),
    epoch: inventory.epoch,
    inventoryCount,
    version: record.version,
    inCart: String(inCart),
    stockText: inCart ? "In your cart" : inventoryCount === 0 ? "Sold out" : "Available",
    ...holdValues(inventory.holdTtlMs, expiresAt),
  });
  return htmlResponse(request, html, {
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
  const { session, known } = sessionOf(request);
  const tiles = inventory.products().map((record) =>
    tileHtml({
      id: record.info.id,
      name: record.info.name,
      price: formatPrice(record.info.price),
      priceCode: `${record.info.price.amount} ${record.info.price.currency}`,
      image: record.info.image ?? PLACEHOLDER_IMAGE,
      inventoryCount: String(inventoryCountOf(record)),
      version: String(record.version),
    })
  );
  const blank = { id: "", name: "", price: "", priceCode: "", inventoryCount: "", version: "" };
  const html = renderTemplate(options.templates.catalog, {
    session,
    epoch: inventory.epoch,
    products: new TrustedHtml(tiles.join("\n")),
    tile: new TrustedHtml(tileHtml({ ...blank, image: PLACEHOLDER_IMAGE })),
  });
  return htmlResponse(request, html, {
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
    title: retired ? "No longer on sale" : "Not found",
    message: retired
      ? `“${id}” is no longer on sale.`
      : `There is no product “${id}” in this shop.`,
  });
  return htmlResponse(request, html, { status: retired ? 410 : 404 });
}
