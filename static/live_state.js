// The pages' rules without the DOM: which state to show, and how long to wait before reconnecting.
// @ts-check

/**
 * @typedef {object} ProductState
 * @property {string | undefined} product The product it tells of, when the message names it.
 * @property {number} inventoryCount Units still free to add.
 * @property {number} version Rises by one on every change of the product, within one epoch.
 * @property {string | undefined} epoch The life of the store it comes from; undefined when the
 * message does not say (the answer to a click), which counts as the epoch shown.
 * @property {boolean} retired The product is no longer on sale: this is its last state.
 */

/**
 * @typedef {object} Price
 * @property {string} amount An exact decimal, e.g. "18.50".
 * @property {string} currency An ISO 4217 code, e.g. "EUR".
 */

/**
 * @typedef {ProductState & {
 *   product: string, name: string, price: Price, priceText: string, image: string | null,
 *   limitText: string
 * }} CatalogEntry
 * A product as the catalog feed tells of it: its state and what a tile shows of it.
 */

/**
 * @typedef {object} CatalogSnapshot
 * @property {string} epoch The life of the store.
 * @property {number} version The catalog's version: rises with any change of any product.
 * @property {CatalogEntry[]} products Every product on sale.
 */

/** The first reconnect waits up to this long, in ms: a wider window spreads a crowd's retries. */
export const BACKOFF_BASE_MS = 2_000;
/** No reconnect waits longer than this, in ms. */
export const BACKOFF_CAP_MS = 30_000;

/**
 * How long to wait before reconnect attempt number `attempt` (0 for the first).
 *
 * Exponential backoff with full jitter: a random delay between 0 and `base · 2^attempt` (capped).
 * When a server restarts, every open page loses its connection in the same instant; the jitter
 * spreads their returns over the whole window instead of one burst.
 *
 * @param {number} attempt Failed attempts since the connection last worked.
 * @param {() => number} random A source of numbers in [0, 1), `Math.random` by default.
 * @returns {number} The delay in whole ms.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(backoffDelay(3, () => 0.5), 8000);
 * ```
 */
export function backoffDelay(attempt, random = Math.random) {
  const window = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
  return Math.floor(random() * window);
}

/**
 * Reads a product's state from a parsed message, ignoring anything else the server may send.
 *
 * @param {unknown} value A parsed JSON value: a status message, a catalog entry or a cart answer.
 * @returns {ProductState | undefined} The state, or undefined when the value is not one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseState({ product: "a", inventoryCount: 3, version: 7, epoch: "e1" }), {
 *   product: "a", inventoryCount: 3, version: 7, epoch: "e1", retired: false,
 * });
 * assert.equal(parseState({ type: "ping" }), undefined);
 * ```
 */
export function parseState(value) {
  if (!isRecord(value)) return undefined;
  const { product, inventoryCount, version, epoch, retired } = value;
  if (!isWholeNumber(inventoryCount) || !isWholeNumber(version)) return undefined;
  if (product !== undefined && typeof product !== "string") return undefined;
  if (epoch !== undefined && typeof epoch !== "string") return undefined;
  return { product, inventoryCount, version, epoch, retired: retired === true };
}

/**
 * Reads the state of one product from a parsed message of its feed: anything else, a state of
 * another product included, is not one. The shop page and `<live-stock>` read their feed with it.
 *
 * @param {unknown} value A parsed JSON value.
 * @param {string} product The product the feed is of.
 * @returns {ProductState | undefined} The state, or undefined when the value is not one of it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(parseStateOf({ product: "a", inventoryCount: 3, version: 7 }, "a")?.version, 7);
 * assert.equal(parseStateOf({ inventoryCount: 3, version: 7 }, "a")?.inventoryCount, 3);
 * assert.equal(parseStateOf({ product: "b", inventoryCount: 3, version: 7 }, "a"), undefined);
 * ```
 */
export function parseStateOf(value, product) {
  const state = parseState(value);
  if (state === undefined || (state.product !== undefined && state.product !== product)) {
    return undefined;
  }
  return state;
}

/**
 * Where a long poll's answer of a product's feed stands, for the next poll's `since`.
 *
 * @param {unknown} value A parsed JSON value.
 * @returns {string | undefined} `epoch.version`; undefined without a state or an epoch.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(stateCursor({ inventoryCount: 3, version: 7, epoch: "e1" }), "e1.7");
 * assert.equal(stateCursor({ inventoryCount: 3, version: 7 }), undefined);
 * ```
 */
export function stateCursor(value) {
  const state = parseState(value);
  return state?.epoch === undefined ? undefined : `${state.epoch}.${state.version}`;
}

/**
 * Reads one product of the catalog feed.
 *
 * @param {unknown} value A parsed JSON value.
 * @returns {CatalogEntry | undefined} The entry, or undefined when the value is not one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const price = { amount: "9.00", currency: "EUR" };
 * const entry = parseCatalogEntry({
 *   product: "moon-pin", inventoryCount: 5, version: 2, epoch: "e1", name: "Pin", price, image: null,
 * });
 * assert.equal(entry?.name, "Pin");
 * assert.equal(parseCatalogEntry({ inventoryCount: 5, version: 2 }), undefined);
 * ```
 */
export function parseCatalogEntry(value) {
  const state = parseState(value);
  if (state === undefined || state.product === undefined || !isRecord(value)) return undefined;
  const { name, price, priceText, image, limitText } = value;
  if (typeof name !== "string" || !isPrice(price)) return undefined;
  if (image !== null && typeof image !== "string") return undefined;
  // The server formats prices; a bare amount and code stand in should it not say.
  const text = typeof priceText === "string" ? priceText : `${price.amount} ${price.currency}`;
  // A server from before limits per shopper says none: the tile shows none.
  const limit = typeof limitText === "string" ? limitText : "";
  return {
    ...state,
    product: state.product,
    name,
    price,
    priceText: text,
    image,
    limitText: limit,
  };
}

/**
 * Reads the catalog feed's opening message: every product on sale, as of one catalog version.
 *
 * @param {unknown} value A parsed JSON value.
 * @returns {CatalogSnapshot | undefined} The snapshot, or undefined when the value is not one
 * (a malformed entry makes the whole snapshot unreadable: it replaces everything shown).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseCatalogSnapshot({ epoch: "e1", version: 0, products: [] }), {
 *   epoch: "e1", version: 0, products: [],
 * });
 * assert.equal(parseCatalogSnapshot({ product: "a", inventoryCount: 1, version: 1 }), undefined);
 * ```
 */
export function parseCatalogSnapshot(value) {
  if (!isRecord(value) || !Array.isArray(value.products)) return undefined;
  const { epoch, version } = value;
  if (typeof epoch !== "string" || !isWholeNumber(version)) return undefined;
  const products = value.products.map(parseCatalogEntry);
  if (products.some((entry) => entry === undefined)) return undefined;
  return { epoch, version, products: /** @type {CatalogEntry[]} */ (products) };
}

/**
 * @param {unknown} value
 * @returns {value is Record<string, unknown>}
 */
function isRecord(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * @param {unknown} value
 * @returns {value is Price}
 */
function isPrice(value) {
  return isRecord(value) && typeof value.amount === "string" &&
    typeof value.currency === "string";
}

/**
 * @param {unknown} value
 * @returns {value is number}
 */
function isWholeNumber(value) {
  return Number.isSafeInteger(value) && /** @type {number} */ (value) >= 0;
}

/**
 * Whether a page that shows `shown` should show `offered` instead.
 *
 * The epoch names one life of the store: versions only compare within it. A state from another
 * epoch (the store started again, empty, and counts versions from 0) is the server's truth now
 * and becomes the base at once; within one epoch only a newer version is news, because messages
 * reach a page by several roads (a push, a late poll, the answer to a click) and can overtake one
 * another. A state that names no epoch is taken to be of the epoch shown.
 *
 * @param {{ epoch?: string, version: number }} offered A state that arrived (a product's, or
 * any other versioned feed's, such as the waiting room's).
 * @param {{ epoch?: string, version: number }} shown The state the page shows.
 * @returns {boolean} True when `offered` should be shown.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const shown = { epoch: "e1", version: 6 };
 * assert.equal(isNews({ epoch: "e1", version: 5 }, shown), false);
 * assert.equal(isNews({ epoch: "e1", version: 7 }, shown), true);
 * assert.equal(isNews({ epoch: "e2", version: 0 }, shown), true, "another life of the store");
 * ```
 */
export function isNews(offered, shown) {
  if (offered.epoch !== undefined && offered.epoch !== shown.epoch) return true;
  return offered.version > shown.version;
}

/**
 * One product's state as a page shows it: never one older than it has shown from the same life
 * of the store (see {@linkcode isNews}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const shown: number[] = [];
 * const live = new LiveState(
 *   { product: "a", inventoryCount: 9, version: 1, epoch: "e1", retired: false },
 *   (state) => shown.push(state.inventoryCount),
 * );
 * live.offer({ product: "a", inventoryCount: 8, version: 2, epoch: "e1", retired: false });
 * live.offer({ product: "a", inventoryCount: 99, version: 1, epoch: "e1", retired: false });
 * assert.deepEqual(shown, [8]);
 * ```
 */
export class LiveState {
  /** @type {ProductState} */
  #state;
  /** @type {(state: ProductState) => void} */
  #onChange;

  /**
   * @param {ProductState} initial The state the server rendered into the page; it names its epoch.
   * @param {(state: ProductState) => void} onChange Called with each state the page should show.
   */
  constructor(initial, onChange) {
    this.#state = initial;
    this.#onChange = onChange;
  }

  /** @returns {ProductState} The state shown now. */
  get current() {
    return this.#state;
  }

  /**
   * Offers a state from any source; it is shown when it is news (see {@linkcode isNews}).
   *
   * @param {ProductState} state A state the server sent.
   * @returns {boolean} True when it is shown.
   */
  offer(state) {
    if (!isNews(state, this.#state)) return false;
    this.#state = { ...state, epoch: state.epoch ?? this.#state.epoch };
    this.#onChange(this.#state);
    return true;
  }
}

/**
 * @typedef {object} CatalogListener
 * @property {(entry: CatalogEntry) => void} onAdd A product to show that was not shown.
 * @property {(entry: CatalogEntry) => void} onChange A shown product's newer state; a retired one
 * says `retired: true` and gets no further news.
 * @property {(product: string) => void} onRemove A shown product that is no longer listed.
 */

/**
 * Every product a catalog page shows, each kept by the {@linkcode isNews} rule.
 *
 * A snapshot (the feed's opening, after every (re)connection) replaces what is shown: a product
 * it lists and the page lacks is added, a product it does not list is removed, and a product in
 * both takes the snapshot's state only when that is news, so even a snapshot never shows a
 * product older than the page has shown. A single entry updates or adds its product.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const price = { amount: "9.00", currency: "EUR" };
 * const pin = { product: "pin", inventoryCount: 5, version: 0, epoch: "e1", retired: false, name: "Pin", price, priceText: "€9.00", image: null, limitText: "one per shopper" };
 * const events: string[] = [];
 * const catalog = new LiveCatalog([pin], {
 *   onAdd: (entry) => events.push(`add ${entry.product}`),
 *   onChange: (entry) => events.push(`${entry.product} ${entry.inventoryCount}`),
 *   onRemove: (product) => events.push(`remove ${product}`),
 * });
 * catalog.offerEntry({ ...pin, inventoryCount: 4, version: 1 });
 * catalog.offerSnapshot({ epoch: "e1", version: 9, products: [{ ...pin, product: "tote" }] });
 * assert.deepEqual(events, ["pin 4", "remove pin", "add tote"]);
 * ```
 */
export class LiveCatalog {
  /** @type {Map<string, ProductState>} */
  #products = new Map();
  /** @type {CatalogListener} */
  #listener;

  /**
   * @param {(ProductState & { product: string })[]} initial The products the server rendered into
   * the page.
   * @param {CatalogListener} listener Told of every change to show.
   */
  constructor(initial, listener) {
    this.#listener = listener;
    for (const state of initial) this.#products.set(state.product, state);
  }

  /**
   * Takes a snapshot of the whole catalog.
   *
   * @param {CatalogSnapshot} snapshot The feed's opening message.
   * @returns {void}
   */
  offerSnapshot(snapshot) {
    const listed = new Set(snapshot.products.map((entry) => entry.product));
    for (const product of this.#products.keys()) {
      if (listed.has(product)) continue;
      this.#products.delete(product);
      this.#listener.onRemove(product);
    }
    for (const entry of snapshot.products) this.offerEntry(entry);
  }

  /**
   * Takes one product's news.
   *
   * @param {CatalogEntry} entry A product's state and details.
   * @returns {void}
   */
  offerEntry(entry) {
    const known = this.#products.get(entry.product);
    if (known === undefined) {
      // A retired product the page does not show needs no tile.
      if (entry.retired) return;
      this.#products.set(entry.product, entry);
      this.#listener.onAdd(entry);
    } else if (isNews(entry, known)) {
      this.#products.set(entry.product, entry);
      this.#listener.onChange(entry);
    }
  }
}
