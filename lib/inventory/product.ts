/** What a product is (id, name, description, price, image, limit per shopper), the error for a bad one, its price. */
/** A price as an exact decimal text and its currency, never a float. */
export interface Price {
  /** The amount in the currency's units, e.g. `"40.00"`. */
  readonly amount: string;
  /** The ISO 4217 code, e.g. `"EUR"`. */
  readonly currency: string;
}

/** What the shop stores and serves about a product. */
export interface ProductInfo {
  /** The product's slug, matching {@linkcode PRODUCT_ID_PATTERN}. */
  readonly id: string;
  /** Its display name: 1 to 200 characters, trimmed, no control characters. */
  readonly name: string;
  /** Up to 2000 characters; line breaks and tabs are its only control characters. */
  readonly description: string;
  /** Its price. */
  readonly price: Price;
  /** An `https://` URL, a local media path `/media/<name>` given by the catalog loader, or null. */
  readonly image: string | null;
  /**
   * The most units one session may buy, counting the one it holds: a whole number from 1 to
   * {@linkcode MAX_LIMIT_PER_SHOPPER}. Absent from products stored before the field existed,
   * which are read as {@linkcode DEFAULT_LIMIT_PER_SHOPPER} by {@linkcode limitPerShopperOf}.
   */
  readonly limitPerShopper?: number;
  /**
   * When the product goes on sale, in ISO 8601 with a zone (`2026-12-06T18:00:00Z`): a waiting
   * room and its draw come before it. Without it, the product is on sale at once.
   */
  readonly opensAt?: string;
  /**
   * Where the catalog page lists it: a whole number from 1 to {@linkcode MAX_POSITION}, compared
   * with the other products' positions and places in the catalog file (see `catalogOrder`).
   * Without it, a product listed by the file takes its place there; one added through the admin
   * API comes after every product of the file.
   */
  readonly position?: number;
}

/** The largest position of a product. */
export const MAX_POSITION = 1_000_000;

/** The limit per shopper of a product that gives none. */
export const DEFAULT_LIMIT_PER_SHOPPER = 1;

/** The largest limit per shopper. */
export const MAX_LIMIT_PER_SHOPPER = 100;

/**
 * The most units one session may buy of a product, counting the one it holds.
 *
 * @param info What the product is.
 * @returns Its limit, or {@linkcode DEFAULT_LIMIT_PER_SHOPPER} when it gives none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * assert.equal(limitPerShopperOf(info), 1);
 * assert.equal(limitPerShopperOf({ ...info, limitPerShopper: 3 }), 3);
 * ```
 */
export function limitPerShopperOf(info: ProductInfo): number {
  return info.limitPerShopper ?? DEFAULT_LIMIT_PER_SHOPPER;
}

/**
 * How a page names a product's limit per shopper.
 *
 * @param info What the product is.
 * @returns `one per shopper`, or `N per shopper`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * assert.equal(limitText(info), "one per shopper");
 * assert.equal(limitText({ ...info, limitPerShopper: 2 }), "2 per shopper");
 * ```
 */
export function limitText(info: ProductInfo): string {
  const limit = limitPerShopperOf(info);
  return `${limit === 1 ? "one" : limit} per shopper`;
}

/** A product id: a lowercase slug of 1 to 64 letters, digits and dashes, not starting with a dash. */
export const PRODUCT_ID_PATTERN: RegExp = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** The largest stock total of one product. */
export const MAX_TOTAL = 1_000_000_000;

/**
 * A bad product: names the product, the field and the offending value in a one-line message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const error = new ProductError("poster-a", "total", 'field "total" must not be negative, got -1');
 * assert.equal(error.message, 'product "poster-a": field "total" must not be negative, got -1');
 * assert.ok(error instanceof RangeError);
 * ```
 */
export class ProductError extends RangeError {
  /** The product's id, or the caller's label for it (such as `#2`) when it has no valid id. */
  readonly product: string;
  /** The field at fault (`price.amount` for a nested one), or "" when the product is no object. */
  readonly field: string;

  /**
   * Builds the message `product "<id>": <problem>` (a label such as `#2` is shown unquoted).
   *
   * @param product The product's id, or a label such as `#2` when it has no valid id.
   * @param field The field at fault, or "".
   * @param problem What is wrong, e.g. `field "total" must be ..., got -1`.
   */
  constructor(product: string, field: string, problem: string) {
    const shown = PRODUCT_ID_PATTERN.test(product) ? JSON.stringify(product) : product;
    super(`product ${shown}: ${problem}`);
    this.name = "ProductError";
    this.product = product;
    this.field = field;
  }
}

/**
 * Writes a price for people, in the locale's currency format.
 *
 * Shows at least the currency's usual decimals, and more when the amount has them, so a price is
 * never rounded.
 *
 * @param price The price.
 * @param locale A BCP 47 locale; English by default.
 * @returns The price as text, e.g. `€40.00`.
 * @throws {RangeError} For a locale or currency `Intl.NumberFormat` does not know.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(formatPrice({ amount: "40.00", currency: "EUR" }, "en"), "€40.00");
 * assert.equal(formatPrice({ amount: "9.5", currency: "EUR" }, "de"), "9,50\u00a0€");
 * assert.equal(formatPrice({ amount: "0.125", currency: "USD" }), "$0.125");
 * ```
 */
export function formatPrice(price: Price, locale = "en"): string {
  const decimals = price.amount.split(".")[1]?.length ?? 0;
  return formatOf(locale, price.currency, decimals).format(Number(price.amount));
}

/**
 * Formats made so far, by locale, currency and decimals. Making an `Intl.NumberFormat` costs far
 * more than using one, and every change of a product formats its price again.
 */
const PRICE_FORMATS = new Map<string, Intl.NumberFormat>();

/** Formats kept at most; a catalog has a handful of currencies. */
const MAX_PRICE_FORMATS = 256;

function formatOf(locale: string, currency: string, decimals: number): Intl.NumberFormat {
  const key = `${locale} ${currency} ${decimals}`;
  const known = PRICE_FORMATS.get(key);
  if (known !== undefined) return known;
  const options = { style: "currency", currency } as const;
  const usual = new Intl.NumberFormat(locale, options);
  const { minimumFractionDigits = 0, maximumFractionDigits = 0 } = usual.resolvedOptions();
  const format = decimals <= maximumFractionDigits ? usual : new Intl.NumberFormat(
    locale,
    { ...options, minimumFractionDigits, maximumFractionDigits: decimals },
  );
  if (PRICE_FORMATS.size >= MAX_PRICE_FORMATS) PRICE_FORMATS.clear();
  PRICE_FORMATS.set(key, format);
  return format;
}
