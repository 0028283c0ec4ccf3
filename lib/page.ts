/** The product page: the HTML template, rendered with escaped values, and its session cookie. */
import type { ShoppingCart } from "./cart.ts";
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
  });
  const headers = new Headers({
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
  });
  if (known === undefined) {
    headers.set("set-cookie", sessionCookie(session, options.secure));
  }
  return new Response(request.method === "HEAD" ? null : html, { headers });
}
