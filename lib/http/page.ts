/** The product page: the HTML template, rendered with escaped values, and its session cookie. */
import type { ShoppingCart } from "../inventory/cart.ts";
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

/**
 * Fills `{{name}}` placeholders with escaped values.
 *
 * @param template The template text.
 * @param values The value of each placeholder.
 * @returns The rendered text.
 * @throws {RangeError} When the template names a value that was not given.
 */
export function renderTemplate(
  template: string,
  values: Record<string, string | number>,
): string {
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => {
    if (!(name in values)) {
      throw new RangeError(`Template value "${name}" is missing`);
    }
    return escapeHtml(String(values[name]));
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

/**
 * The template values that tell a shopper how long the cart keeps their unit.
 *
 * @param cart The cart.
 * @param session The shopper's session id.
 * @returns `holdTtlSeconds` ("" when holds never expire), `holdExpiresAt` (ISO time of this
 * session's hold, "" when it holds none or it never expires) and `holdText`, a sentence.
 */
export function holdValues(cart: ShoppingCart, session: string): Record<string, string> {
  const ttl = cart.holdTtlMs;
  const expiresAt = cart.holdExpiresAt(session);
  return {
    holdTtlSeconds: Number.isFinite(ttl) ? String(ttl / 1000) : "",
    holdExpiresAt: expiresAt !== undefined && Number.isFinite(expiresAt)
      ? new Date(expiresAt).toISOString()
      : "",
    holdText: Number.isFinite(ttl)
      ? `Your cart keeps the item for ${durationText(ttl)} after your last add.`
      : "Your cart keeps the item until you remove it.",
  };
}

const encoder = new TextEncoder();

/** Options of the page's rendering. */
export interface PageOptions {
  /** The template text (templates/index.html). */
  template: string;
  /** Marks the session cookie Secure. */
  secure: boolean;
}

/**
 * Renders the product page for a request, giving a new session cookie to a new shopper.
 *
 * `HEAD` answers the headers `GET` would, `Content-Length` included, and sets no cookie: a
 * monitor or crawler that only looks is no shopper.
 *
 * @param cart The cart whose state the page shows.
 * @param request The incoming request.
 * @param options The template and cookie settings.
 * @returns The HTML page.
 */
export function pageResponse(
  cart: ShoppingCart,
  request: Request,
  options: PageOptions,
): Response {
  const known = sessionFromCookie(request);
  const session = known ?? crypto.randomUUID();
  const { inventoryCount, version } = cart.current.state;
  const inCart = cart.holds(session);
  const html = renderTemplate(options.template, {
    session,
    inventoryCount,
    version,
    inCart: String(inCart),
    stockText: inCart ? "In your cart" : inventoryCount === 0 ? "Sold out" : "Available",
    ...holdValues(cart, session),
  });
  const body = encoder.encode(html);
  const headers = new Headers({
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    "content-length": String(body.byteLength),
  });
  if (request.method === "HEAD") return new Response(null, { headers });
  if (known === undefined) {
    headers.set("set-cookie", sessionCookie(session, options.secure));
  }
  return new Response(body, { headers });
}
