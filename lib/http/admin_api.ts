/** The admin API: products and their stock, changed while the shop is live (bearer token). */
import { timingSafeEqual } from "node:crypto";
import type { Inventory } from "../inventory/inventory.ts";
import { inventoryCountOf, type ProductRecord } from "../inventory/ledger.ts";
import { MAX_TOTAL } from "../inventory/product.ts";
import type { Guard } from "./router.ts";
import { HttpError, jsonResponse } from "./http_error.ts";
import { parseJsonBody, type RequestBody } from "./request_body.ts";

/** The largest admin request body accepted, in bytes. */
export const MAX_ADMIN_BODY_BYTES = 8192;

const encoder = new TextEncoder();

/**
 * A guard that checks `Authorization: Bearer <token>` against the admin token.
 *
 * @param token The admin token.
 * @returns The guard: it throws 401 when the header is missing or not a bearer token, 403 when
 * the token is wrong.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const guard = requireAdmin("s3cret-s3cret-s3cret");
 * const request = new Request("http://x/", { headers: { authorization: "Bearer wrong" } });
 * assert.throws(() => guard({ request, url: new URL(request.url), params: {}, body: undefined }));
 * ```
 */
export function requireAdmin(token: string): Guard {
  return ({ request }) => {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "");
    if (match === null) {
      throw new HttpError(401, "Admin token is missing", {
        headers: { "www-authenticate": 'Bearer realm="admin"' },
      });
    }
    if (!sameSecret(match[1], token)) throw new HttpError(403, "Admin token is wrong");
  };
}

/** Compares in time that does not depend on where the texts differ, so guessing learns nothing. */
function sameSecret(given: string, expected: string): boolean {
  const a = encoder.encode(given);
  const b = encoder.encode(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * A product as the admin API shows it.
 *
 * @param record The product's record.
 * @returns Its data, `total`, `held`, `sold`, `inventoryCount`, `version` and `retired`.
 */
export function adminView(record: ProductRecord): Record<string, unknown> {
  return {
    ...record.info,
    total: record.total,
    held: record.held,
    sold: record.sold,
    inventoryCount: inventoryCountOf(record),
    version: record.version,
    retired: record.retired,
  };
}

/**
 * Reads `{"total": N}` from an admin request body.
 *
 * @param body The body (JSON).
 * @returns N, a whole number from 0 to 1,000,000,000.
 * @throws {HttpError} 400 for a bad total.
 */
export function totalOf(body: RequestBody): number {
  const value = parseJsonBody(body.text);
  const total = (value as { total?: unknown } | null)?.total;
  if (
    typeof value !== "object" || Array.isArray(value) || typeof total !== "number" ||
    !Number.isSafeInteger(total) || total < 0 || total > MAX_TOTAL
  ) {
    throw new HttpError(400, `Field "total" must be a whole number from 0 to ${MAX_TOTAL}`);
  }
  return total;
}

/**
 * Handles `GET /admin/products`.
 *
 * @param inventory The inventory.
 * @returns 200 `{products: [...]}`, retired ones too.
 */
export function productsResponse(inventory: Inventory): Response {
  return jsonResponse({ products: inventory.allProducts().map(adminView) });
}

/**
 * Handles `DELETE /admin/products/:id`: retires the product.
 *
 * @param inventory The inventory.
 * @param id The product's id.
 * @returns 200 with the retired product.
 * @throws {HttpError} 404 for an unknown product.
 */
export async function retireResponse(inventory: Inventory, id: string): Promise<Response> {
  const outcome = await inventory.retire(id);
  if (!outcome.ok && outcome.reason === "unknown product") {
    throw new HttpError(404, `No product "${id}"`);
  }
  return jsonResponse(adminView(outcome.record!));
}

/**
 * Handles `POST /admin/inventory`: sets the total of a one-product catalog.
 *
 * Holds stay when the total falls below them; the change reaches every subscriber.
 *
 * @param inventory The inventory.
 * @param body The body, `{"total": N}`.
 * @returns 200 `{inventoryCount, version, total, held}`.
 * @throws {HttpError} 400 for a bad total, 409 when the catalog has several products.
 */
export async function restockResponse(inventory: Inventory, body: RequestBody): Promise<Response> {
  const total = totalOf(body);
  const products = inventory.products();
  if (products.length !== 1) {
    throw new HttpError(409, "The catalog has several products: use PUT /admin/products/:id");
  }
  const outcome = await inventory.restock(products[0].info.id, total);
  if (!outcome.ok) throw new HttpError(409, "The product was retired meanwhile");
  const { record } = outcome;
  return jsonResponse({
    product: record.info.id,
    inventoryCount: inventoryCountOf(record),
    version: record.version,
    total: record.total,
    held: record.held,
  });
}
