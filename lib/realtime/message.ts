/** Status messages: a product's public state, serialized once per change for every transport. */
import { inventoryCountOf, type ProductState } from "../inventory/ledger.ts";
import { formatPrice, limitText, type ProductInfo } from "../inventory/product.ts";

/** One serialized state of a topic, shared by every subscriber. */
export interface StateMessage {
  /** The product it tells of. */
  readonly product: string;
  /** The product's version. */
  readonly version: number;
  /** Where a client that has this stands: `<epoch>.<version>` (of the topic). */
  readonly cursor: string;
  /** The JSON text sent. */
  readonly json: string;
  /** The product was retired: this is its topic's last message. */
  readonly last: boolean;
}

/**
 * The message of a product page: `{product, inventoryCount, version, epoch}`, and `retired: true`
 * once it is retired.
 *
 * @param record The product's record.
 * @param epoch The store's epoch.
 * @returns The message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * const record = { info, total: 3, held: 1, sold: 0, version: 4, retired: false, listedTotal: null };
 * const message = productMessage(record, "e1");
 * assert.equal(message.json, '{"product":"a","inventoryCount":2,"version":4,"epoch":"e1"}');
 * assert.equal(message.cursor, "e1.4");
 * ```
 */
export function productMessage(record: ProductState, epoch: string): StateMessage {
  return {
    product: record.info.id,
    version: record.version,
    cursor: `${epoch}.${record.version}`,
    json: JSON.stringify(productState(record, epoch)),
    last: record.retired,
  };
}

/**
 * A product's state as the protocol carries it.
 *
 * @param record The product's record.
 * @param epoch The store's epoch.
 * @returns `{product, inventoryCount, version, epoch}` (and `retired: true` when retired).
 */
export function productState(record: ProductState, epoch: string): Record<string, unknown> {
  const state: Record<string, unknown> = {
    product: record.info.id,
    inventoryCount: inventoryCountOf(record),
    version: record.version,
    epoch,
  };
  if (record.retired) state.retired = true;
  return state;
}

/**
 * A product's entry in the catalog feed, as JSON: its state and what the catalog page shows of it.
 *
 * The part that comes from the product's data (name, price, price text, image, limit text) is written once
 * per version of that data, not once per change of its stock.
 *
 * @param record The product's record.
 * @param stateJson The product's state as {@linkcode productMessage} wrote it.
 * @returns The state plus `name`, `price`, `priceText` (as the pages show it), `image` and
 *   `limitText` (its limit per shopper, as the pages show it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const info = {
 *   id: "a", name: "A", description: "", price: { amount: "4.00", currency: "EUR" }, image: null,
 * };
 * const record = { info, total: 3, held: 1, sold: 0, version: 4, retired: false, listedTotal: null };
 * assert.deepEqual(JSON.parse(catalogEntryJson(record, productMessage(record, "e1").json)), {
 *   product: "a", inventoryCount: 2, version: 4, epoch: "e1",
 *   name: "A", price: { amount: "4.00", currency: "EUR" }, priceText: "€4.00", image: null,
 *   limitText: "one per shopper",
 * });
 * ```
 */
export function catalogEntryJson(record: ProductState, stateJson: string): string {
  let shown = SHOWN_FIELDS.get(record.info);
  if (shown === undefined) {
    const { name, price, image } = record.info;
    const priceText = formatPrice(price);
    shown = JSON.stringify({ name, price, priceText, image, limitText: limitText(record.info) })
      .slice(1);
    SHOWN_FIELDS.set(record.info, shown);
  }
  return `${stateJson.slice(0, -1)},${shown}`;
}

/** What the catalog page shows of each product's data, as JSON fields, by that data. */
const SHOWN_FIELDS = new WeakMap<ProductInfo, string>();

/** Where a client stands: the epoch it saw (if it said) and the version. */
export interface Since {
  /** The epoch, or undefined for a plain `since=V`. */
  readonly epoch: string | undefined;
  /** The version. */
  readonly version: number;
}

/**
 * Reads a cursor: `<epoch>.<version>` or a plain version.
 *
 * @param text The text of `since` or `Last-Event-ID`.
 * @returns The cursor, or undefined when it is not one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseSince("ab12cd34.7"), { epoch: "ab12cd34", version: 7 });
 * assert.deepEqual(parseSince("7"), { epoch: undefined, version: 7 });
 * assert.equal(parseSince("x.y"), undefined);
 * ```
 */
export function parseSince(text: string): Since | undefined {
  const match = /^(?:([0-9a-f]{1,32})\.)?(\d{1,15})$/.exec(text);
  if (match === null) return undefined;
  return { epoch: match[1], version: Number(match[2]) };
}
