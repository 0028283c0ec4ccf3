/** Validation of a product's fields as a catalog file or an admin request gives them; no I/O. */
import { posix } from "node:path";
import {
  DEFAULT_LIMIT_PER_SHOPPER,
  MAX_LIMIT_PER_SHOPPER,
  MAX_POSITION,
  MAX_TOTAL,
  type Price,
  PRODUCT_ID_PATTERN,
  ProductError,
  type ProductInfo,
} from "./product.ts";

/** Where a product's image comes from, before the catalog loader has read it. */
export type ImageSource =
  /** A file beside the catalog: a normalized relative path that stays inside its folder. */
  | { readonly kind: "file"; readonly path: string }
  /** An image elsewhere, by its normalized `https://` URL. */
  | { readonly kind: "https"; readonly url: string };

/** A validated product as given in a catalog file or an admin request, its image not yet read. */
export interface ProductFields extends Omit<ProductInfo, "image"> {
  /** Units in stock: a whole number from 0 to {@linkcode MAX_TOTAL}. */
  readonly total: number;
  /** Where its image comes from, or null for none. */
  readonly image: ImageSource | null;
  /** The most units one session may buy, from 1 to {@linkcode MAX_LIMIT_PER_SHOPPER}. */
  readonly limitPerShopper: number;
}

/** Which images a product may name: a file beside the catalog or an `https://` URL, or only the URL. */
export type ImageRule = "file-or-https" | "https-only";

const MAX_NAME_LENGTH = 200;
const MAX_DESCRIPTION_LENGTH = 2000;
const MAX_IMAGE_LENGTH = 2048;
const AMOUNT_PATTERN = /^\d{1,9}(\.\d{1,4})?$/;
const CURRENCY_PATTERN = /^[A-Z]{3}$/;
const CURRENCIES: ReadonlySet<string> = new Set(Intl.supportedValuesOf("currency"));
const PRODUCT_KEYS: ReadonlySet<string> = new Set([
  "id",
  "name",
  "description",
  "price",
  "image",
  "total",
  "limitPerShopper",
  "opensAt",
  "position",
]);
/** An ISO 8601 date and time with a zone, to the minute at least and the millisecond at most. */
const OPENS_AT_PATTERN = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;
const PRICE_KEYS: ReadonlySet<string> = new Set(["amount", "currency"]);
/** A URL scheme such as `https:`; a file name never starts with one. */
const SCHEME_PATTERN = /^[a-z][a-z0-9+.-]*:/i;
/** The longest part of a bad value quoted in an error message. */
const MAX_SHOWN_LENGTH = 80;

/**
 * Validates one product as given in a catalog file or an admin `PUT` body.
 *
 * The fields are `id`, `name`, `price` and `total` (required) and `description`, `image` and
 * `limitPerShopper` (optional, 1 by default), `opensAt` (optional: the drop's opening, ISO 8601
 * with a zone) and `position` (optional: where the catalog page lists it, from 1 to
 * {@linkcode MAX_POSITION}); any other field is refused. The name is trimmed.
 *
 * @param value The parsed JSON of one product.
 * @param where `label` names the product in errors while it has no valid id (e.g. `#2`, its
 *   place in the file, or the id in an admin request's URL); `imageRule` says whether `image`
 *   may name a file beside the catalog (`file-or-https`) or only an `https://` URL.
 * @returns The product's fields, its image still to be read or linked.
 * @throws {ProductError} For the first bad, missing or unknown field, naming the product, the field
 *   and the value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const pin = parseProductFields(
 *   { id: "moon-pin", name: " Moon pin ", price: { amount: "9.00", currency: "EUR" }, total: 50 },
 *   { label: "#1", imageRule: "https-only" },
 * );
 * assert.deepEqual(pin, {
 *   id: "moon-pin",
 *   name: "Moon pin",
 *   description: "",
 *   price: { amount: "9.00", currency: "EUR" },
 *   total: 50,
 *   image: null,
 *   limitPerShopper: 1,
 * });
 * assert.throws(
 *   () => parseProductFields({ id: "Moon Pin" }, { label: "#1", imageRule: "https-only" }),
 *   { message: 'product #1: field "id" must be a slug ([a-z0-9][a-z0-9-]{0,63}), got "Moon Pin"' },
 * );
 * ```
 */
export function parseProductFields(
  value: unknown,
  where: { readonly label: string; readonly imageRule: ImageRule },
): ProductFields {
  if (!isRecord(value)) {
    throw new ProductError(
      where.label,
      "",
      `must be an object of product fields, got ${show(value)}`,
    );
  }
  const id = value.id;
  if (typeof id !== "string" || !PRODUCT_ID_PATTERN.test(id)) {
    throw fieldError(where.label, "id", "a slug ([a-z0-9][a-z0-9-]{0,63})", id);
  }
  refuseUnknown(id, value, PRODUCT_KEYS, "");
  return {
    id,
    name: nameOf(id, value.name),
    description: descriptionOf(id, value.description),
    price: priceOf(id, value.price),
    total: totalOf(id, value.total),
    image: imageOf(id, value.image, where.imageRule),
    limitPerShopper: limitOf(id, value.limitPerShopper),
    ...opensAtOf(id, value.opensAt),
    ...positionOf(id, value.position),
  };
}

function positionOf(id: string, value: unknown): { position?: number } {
  if (value === undefined) return {};
  if (
    typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > MAX_POSITION
  ) {
    throw fieldError(id, "position", `a whole number from 1 to ${MAX_POSITION}`, value);
  }
  return { position: value };
}

function opensAtOf(id: string, value: unknown): { opensAt?: string } {
  if (value === undefined) return {};
  if (
    typeof value !== "string" || !OPENS_AT_PATTERN.test(value) ||
    !Number.isFinite(Date.parse(value))
  ) {
    throw fieldError(
      id,
      "opensAt",
      'an ISO 8601 date and time with a zone (e.g. "2026-12-06T18:00:00Z")',
      value,
    );
  }
  return { opensAt: value };
}

function limitOf(id: string, value: unknown): number {
  if (value === undefined) return DEFAULT_LIMIT_PER_SHOPPER;
  if (
    typeof value !== "number" || !Number.isInteger(value) || value < 1 ||
    value > MAX_LIMIT_PER_SHOPPER
  ) {
    throw fieldError(
      id,
      "limitPerShopper",
      `a whole number from 1 to ${MAX_LIMIT_PER_SHOPPER}`,
      value,
    );
  }
  return value;
}

function nameOf(id: string, value: unknown): string {
  const name = typeof value === "string" ? value.trim() : undefined;
  if (
    name === undefined || name === "" || lengthOf(name) > MAX_NAME_LENGTH || /\p{Cc}/u.test(name)
  ) {
    throw fieldError(
      id,
      "name",
      `text of 1 to ${MAX_NAME_LENGTH} characters without control characters`,
      value,
    );
  }
  return name;
}

function descriptionOf(id: string, value: unknown): string {
  if (value === undefined) return "";
  if (
    typeof value !== "string" || lengthOf(value) > MAX_DESCRIPTION_LENGTH ||
    /[^\P{Cc}\n\r\t]/u.test(value)
  ) {
    throw fieldError(
      id,
      "description",
      `text of at most ${MAX_DESCRIPTION_LENGTH} characters without control characters but line breaks and tabs`,
      value,
    );
  }
  return value;
}

function priceOf(id: string, value: unknown): Price {
  if (!isRecord(value)) {
    throw fieldError(id, "price", 'an object {"amount", "currency"}', value);
  }
  refuseUnknown(id, value, PRICE_KEYS, "price.");
  const { amount, currency } = value;
  if (typeof amount !== "string" || !AMOUNT_PATTERN.test(amount)) {
    throw fieldError(
      id,
      "price.amount",
      'a decimal text of up to 9 digits and 4 decimals (e.g. "40.00")',
      amount,
    );
  }
  if (
    typeof currency !== "string" || !CURRENCY_PATTERN.test(currency) || !CURRENCIES.has(currency)
  ) {
    throw fieldError(id, "price.currency", 'an ISO 4217 currency code (e.g. "EUR")', currency);
  }
  return { amount, currency };
}

function totalOf(id: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0 || value > MAX_TOTAL) {
    throw fieldError(id, "total", `a whole number from 0 to ${MAX_TOTAL}`, value);
  }
  return value;
}

function imageOf(id: string, value: unknown, rule: ImageRule): ImageSource | null {
  if (value === undefined || value === null) return null;
  const kind = rule === "https-only" ? "an https:// URL" : "an https:// URL or a file name";
  if (typeof value !== "string" || value.length > MAX_IMAGE_LENGTH || /\p{Cc}/u.test(value)) {
    throw fieldError(
      id,
      "image",
      `${kind} of at most ${MAX_IMAGE_LENGTH} characters without control characters`,
      value,
    );
  }
  if (SCHEME_PATTERN.test(value)) {
    const url = URL.parse(value);
    if (url?.protocol !== "https:" || url.username !== "" || url.password !== "") {
      throw fieldError(id, "image", "an https:// URL with a host and no user name", value);
    }
    return { kind: "https", url: url.href };
  }
  if (rule === "https-only") throw fieldError(id, "image", kind, value);
  const path = posix.normalize(value);
  if (posix.isAbsolute(path) || path === "." || path === ".." || path.startsWith("../")) {
    throw fieldError(id, "image", "an https:// URL or a file inside the catalog's folder", value);
  }
  return { kind: "file", path };
}

function refuseUnknown(
  id: string,
  value: Record<string, unknown>,
  known: ReadonlySet<string>,
  prefix: string,
): void {
  const unknown = Object.keys(value).find((key) => !known.has(key));
  if (unknown !== undefined) {
    throw new ProductError(
      id,
      prefix + unknown,
      `unknown field ${JSON.stringify(prefix + unknown)}`,
    );
  }
}

function fieldError(product: string, field: string, rule: string, value: unknown): ProductError {
  const problem = value === undefined ? "is missing" : `must be ${rule}, got ${show(value)}`;
  return new ProductError(product, field, `field "${field}" ${problem}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Counts code points, so an emoji is one character as people count it, not two. */
function lengthOf(text: string): number {
  let length = 0;
  for (const _ of text) length++;
  return length;
}

/** The value as JSON on one line, cut short when long. */
function show(value: unknown): string {
  const json = JSON.stringify(value) ?? String(value);
  return json.length > MAX_SHOWN_LENGTH ? `${json.slice(0, MAX_SHOWN_LENGTH)}…` : json;
}
