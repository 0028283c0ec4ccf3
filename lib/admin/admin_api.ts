/** The admin API's handlers: products and their stock, changed while the shop is live. */
import type { Inventory } from "../inventory/inventory.ts";
import { inventoryCountOf, type ProductState } from "../inventory/ledger.ts";
import { MAX_TOTAL, ProductError } from "../inventory/product.ts";
import { parseProductFields } from "../inventory/product_fields.ts";
import { HttpError, jsonResponse } from "../http/http_error.ts";
import { parseJsonBody, type RequestBody } from "../http/request_body.ts";

/** The largest admin request body accepted, in bytes. */
export const MAX_ADMIN_BODY_BYTES = 8192;

/**
 * A product as the admin API shows it.
 *
 * @param record The product's record.
 * @returns Its data, `total`, `held`, `sold`, `inventoryCount`, `version` and `retired`.
 */
export function adminView(record: ProductState): Record<string, unknown> {
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
 * Reads the optional `"product"` of a restock body: the id of the product to restock.
 *
 * @param body The body (JSON).
 * @returns The id, or undefined when the body names none.
 * @throws {HttpError} 400 when `product` is there but not a string.
 */
function restockedProductOf(body: RequestBody): string | undefined {
  const product = (parseJsonBody(body.text) as { product?: unknown }).product;
  if (product !== undefined && typeof product !== "string") {
    throw new HttpError(
      400,
      `Field "product" must be a product id, got ${JSON.stringify(product)}`,
    );
  }
  return product;
}

/**
 * Handles `POST /admin/inventory`: sets a product's total.
 *
 * The body names the product (`"product"`); without it the catalog must have one product.
 * Holds stay when the total falls below them; the change reaches every subscriber.
 *
 * @param inventory The inventory.
 * @param body The body, `{"product": id, "total": N}` or `{"total": N}`.
 * @returns 200 `{product, inventoryCount, version, total, held}`.
 * @throws {HttpError} 400 for a bad total or product field, 404 for an unknown product, 409 for
 * a retired one or, without `product`, when the catalog has several products.
 */
export async function restockResponse(inventory: Inventory, body: RequestBody): Promise<Response> {
  const total = totalOf(body);
  let product = restockedProductOf(body);
  if (product === undefined) {
    const sole = inventory.soleProduct();
    if (sole === undefined) {
      throw new HttpError(
        409,
        'The catalog has several products: name one in "product" or use PUT /admin/products/:id',
      );
    }
    product = sole.info.id;
  }
  if (inventory.get(product)?.retired) {
    throw new HttpError(409, `Product "${product}" is retired: PUT /admin/products/:id lists it`);
  }
  const outcome = await inventory.restock(product, total);
  if (!outcome.ok) throw new HttpError(404, `No product "${product}"`);
  const { record } = outcome;
  return jsonResponse({
    product: record.info.id,
    inventoryCount: inventoryCountOf(record),
    version: record.version,
    total: record.total,
    held: record.held,
  });
}

/**
 * Handles `PUT /admin/products/:id`: creates the product, or updates its data; a new `total`
 * is a restock (holds stay).
 *
 * The body has the catalog file's fields; `id` may be left out (the URL names it) and `total`
 * too, for a product that exists (its total then stays). An image must be an `https://` URL.
 *
 * @param inventory The inventory.
 * @param id The product's id, from the URL.
 * @param body The body (JSON).
 * @param maxProducts The most products the catalog may hold.
 * @returns 201 with a new product, 200 with an updated one.
 * @throws {HttpError} 400 for a bad field (naming it), 409 when the catalog is full.
 */
export async function putProductResponse(
  inventory: Inventory,
  id: string,
  body: RequestBody,
  maxProducts: number,
): Promise<Response> {
  const value = parseJsonBody(body.text);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new HttpError(400, "Body must be a JSON object");
  }
  const given = value as Record<string, unknown>;
  if (given.id !== undefined && given.id !== id) {
    throw new HttpError(
      400,
      `Field "id" must be "${id}" as in the URL, got ${JSON.stringify(given.id)}`,
    );
  }
  const known = inventory.get(id);
  let fields;
  try {
    fields = parseProductFields(
      { ...given, id, total: given.total ?? known?.total },
      { label: JSON.stringify(id), imageRule: "https-only" },
    );
  } catch (error) {
    if (error instanceof ProductError) throw new HttpError(400, error.message);
    throw error;
  }
  if (known === undefined && inventory.allProducts().length >= maxProducts) {
    throw new HttpError(409, `The catalog is full: it holds at most ${maxProducts} products`);
  }
  const { total, image, ...info } = fields;
  const { record, created } = await inventory.list({
    info: { ...info, image: image?.kind === "https" ? image.url : null },
    total: given.total === undefined ? undefined : total,
  });
  return jsonResponse(adminView(record), { status: created ? 201 : 200 });
}

/** The fields a `PATCH` may remove with `null`: each then takes the value a product without it has. */
const REMOVABLE_FIELDS: ReadonlySet<string> = new Set([
  "description",
  "image",
  "limitPerShopper",
  "opensAt",
  "position",
]);

/**
 * Handles `PATCH /admin/products/:id`: changes only the fields the body gives; a new `total` is a
 * restock (holds stay).
 *
 * The body's fields are validated as a `PUT`'s; `null` removes an optional field (`description`,
 * `image`, `limitPerShopper`, `opensAt`, `position`); a field left out keeps its value, so the
 * picture a catalog file gave stays unless `image` is given (as an `https://` URL, or null).
 *
 * @param inventory The inventory.
 * @param id The product's id, from the URL.
 * @param body The body (JSON), e.g. `{"price": {"amount": "12.00", "currency": "EUR"}}`.
 * @returns 200 with the product as the admin API shows it.
 * @throws {HttpError} 400 for a bad or unknown field, 404 for an unknown product, 409 for a
 * retired one (a `PUT` lists it again).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemClock } from "../time/clock.ts";
 * import { Inventory } from "../inventory/inventory.ts";
 * import { openMemoryStore } from "../store/memory_store.ts";
 * const store = openMemoryStore({ holdTtlMs: 60_000, clock: systemClock });
 * const inventory = await Inventory.open(store, 60_000);
 * const price = { amount: "9.00", currency: "EUR" };
 * await inventory.list({ info: { id: "pin", name: "Pin", description: "", price, image: "/media/pin.svg" }, total: 5 });
 * const text = JSON.stringify({ price: { amount: "7.00", currency: "EUR" }, description: null });
 * const answer = await patchProductResponse(inventory, "pin", { mediaType: "application/json", text });
 * const product = await answer.json();
 * assert.deepEqual([product.price.amount, product.image, product.total], ["7.00", "/media/pin.svg", 5]);
 * await store.close();
 * ```
 */
export async function patchProductResponse(
  inventory: Inventory,
  id: string,
  body: RequestBody,
): Promise<Response> {
  const value = parseJsonBody(body.text);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new HttpError(400, "Body must be a JSON object");
  }
  const patch = value as Record<string, unknown>;
  if (patch.id !== undefined && patch.id !== id) {
    throw new HttpError(
      400,
      `Field "id" must be "${id}" as in the URL, got ${JSON.stringify(patch.id)}`,
    );
  }
  const known = inventory.get(id);
  if (known === undefined) throw new HttpError(404, `No product "${id}"`);
  if (known.retired) {
    throw new HttpError(409, `Product "${id}" is retired: PUT /admin/products/:id lists it`);
  }
  // The stored image may be a file's `/media/` path, which an admin request may not name: it is
  // checked only when the body gives a new one.
  const { image: storedImage, ...stored } = known.info;
  const merged: Record<string, unknown> = { ...stored, total: known.total };
  for (const [field, given] of Object.entries(patch)) {
    if (given === null && REMOVABLE_FIELDS.has(field)) delete merged[field];
    else merged[field] = given;
  }
  let fields;
  try {
    fields = parseProductFields(merged, { label: JSON.stringify(id), imageRule: "https-only" });
  } catch (error) {
    if (error instanceof ProductError) throw new HttpError(400, error.message);
    throw error;
  }
  const { total, image, ...info } = fields;
  const { record } = await inventory.list({
    info: {
      ...info,
      image: patch.image === undefined ? storedImage : image?.kind === "https" ? image.url : null,
    },
    total: patch.total === undefined ? undefined : total,
  });
  return jsonResponse(adminView(record));
}
