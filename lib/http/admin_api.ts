/** `POST /admin/inventory`: a bearer-token holder sets the total while the shop is live. */
import { timingSafeEqual } from "node:crypto";
import type { ShoppingCart } from "../inventory/cart.ts";
import { HttpError, jsonResponse } from "./http_error.ts";
import { mediaTypeOf, parseJsonBody, readLimitedText } from "./request_body.ts";

/** The largest admin request body accepted, in bytes. */
const MAX_BODY_BYTES = 1024;

/** The largest total accepted, as for `--inventory`. */
const MAX_TOTAL = 1_000_000_000;

const encoder = new TextEncoder();

/**
 * Checks the request's `Authorization: Bearer <token>` against the admin token.
 *
 * @param request The incoming request.
 * @param token The admin token.
 * @throws {HttpError} 401 when the header is missing or not a bearer token, 403 when it is wrong.
 *
 * @example
 * ```ts
 * const request = new Request("http://x/", { headers: { authorization: "Bearer s3cret-s3cret-s3cret" } });
 * requireAdmin(request, "s3cret-s3cret-s3cret"); // passes
 * ```
 */
export function requireAdmin(request: Request, token: string): void {
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "");
  if (match === null) {
    throw new HttpError(401, "Admin token is missing", {
      headers: { "www-authenticate": 'Bearer realm="admin"' },
    });
  }
  if (!sameSecret(match[1], token)) {
    throw new HttpError(403, "Admin token is wrong");
  }
}

/** Compares in time that does not depend on where the texts differ, so guessing learns nothing. */
function sameSecret(given: string, expected: string): boolean {
  const a = encoder.encode(given);
  const b = encoder.encode(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Reads `{"total": N}` from an admin request body.
 *
 * @param request The incoming request.
 * @param bodyTimeoutMs How long the body may take to arrive.
 * @returns N, a whole number from 0 to 1,000,000,000.
 * @throws {HttpError} 415 for a body that is not JSON, 413 when too large, 400 for a bad total.
 */
export async function readTotal(request: Request, bodyTimeoutMs: number): Promise<number> {
  if (mediaTypeOf(request) !== "application/json") {
    throw new HttpError(415, "Content-Type must be application/json");
  }
  const body = parseJsonBody(await readLimitedText(request, MAX_BODY_BYTES, bodyTimeoutMs));
  const total = (body as { total?: unknown } | null)?.total;
  if (
    typeof body !== "object" || Array.isArray(body) || typeof total !== "number" ||
    !Number.isSafeInteger(total) || total < 0 || total > MAX_TOTAL
  ) {
    throw new HttpError(400, `Field "total" must be a whole number from 0 to ${MAX_TOTAL}`);
  }
  return total;
}

/**
 * Handles `POST /admin/inventory`: checks the token, sets the total, answers the new state.
 *
 * Holds stay when the total falls below them; the change reaches every subscriber.
 *
 * @param cart The shared cart.
 * @param request The incoming request (method already checked).
 * @param token The admin token.
 * @param bodyTimeoutMs How long the body may take to arrive.
 * @returns 200 `{inventoryCount, version, total, held}`.
 * @throws {HttpError} 401, 403, 415, 413 or 400 as above; the cart is then unchanged.
 */
export async function handleRestock(
  cart: ShoppingCart,
  request: Request,
  token: string,
  bodyTimeoutMs: number,
): Promise<Response> {
  requireAdmin(request, token);
  const result = await cart.restock(await readTotal(request, bodyTimeoutMs));
  return jsonResponse({ ...result.message.state, total: result.total, held: result.held });
}
