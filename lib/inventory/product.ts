/** A product's descriptive data: what the catalog file, the store and the pages share. */

/** A price: a decimal amount and an ISO 4217 currency. */
export interface Price {
  /** The amount as decimal text, e.g. `"40.00"`. */
  readonly amount: string;
  /** The currency code, e.g. `"EUR"`. */
  readonly currency: string;
}

/** What a product is, as the shop describes it. */
export interface ProductInfo {
  /** Its slug, unique in the catalog. */
  readonly id: string;
  /** Its name. */
  readonly name: string;
  /** A sentence or two about it. */
  readonly description: string;
  /** What one unit costs. */
  readonly price: Price;
  /** An `https://` URL or a `/media/` path of ours; null for none. */
  readonly image: string | null;
}

/**
 * Shows a price in a locale's currency format.
 *
 * @param price The price.
 * @param locale A BCP 47 locale; English by default.
 * @returns The text, e.g. `€40.00`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(formatPrice({ amount: "40.00", currency: "EUR" }), "€40.00");
 * ```
 */
export function formatPrice(price: Price, locale = "en"): string {
  return new Intl.NumberFormat(locale, { style: "currency", currency: price.currency })
    .format(Number(price.amount));
}
