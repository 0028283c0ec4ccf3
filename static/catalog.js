// The catalog page's script: keeps every tile's count live over one connection to the catalog feed.
// @ts-check
/// <reference lib="dom" />
import { keepConnected, transportsOf } from "./connection.js";
import { LiveCatalog, parseCatalogEntry, parseCatalogSnapshot } from "./live_state.js";
import { setText } from "./set_text.js";

const FEED_PATH = "/catalog/status";

const list = /** @type {HTMLUListElement} */ (document.getElementById("products"));
const news = /** @type {HTMLElement} */ (document.getElementById("news"));
const blank = /** @type {HTMLTemplateElement} */ (document.getElementById("tile-template"));
/** The picture of a product that has none, as the blank tile carries it. */
const blankImage = /** @type {string} */ (blank.content.querySelector("img")?.getAttribute("src"));

/** The epoch of what the page shows: the page's, then the latest snapshot's. */
let epoch = /** @type {string} */ (document.body.dataset.epoch);

/**
 * @param {string} product
 * @returns {HTMLElement | null} The product's tile.
 */
function tileOf(product) {
  return list.querySelector(`li.tile[data-product="${CSS.escape(product)}"]`);
}

/**
 * @param {Element} tile
 * @param {string} selector
 * @returns {HTMLElement}
 */
function part(tile, selector) {
  return /** @type {HTMLElement} */ (tile.querySelector(selector));
}

/**
 * Shows a product's entry in its tile: count, sold out or no longer on sale, and its details.
 *
 * @param {HTMLElement} tile
 * @param {import("./live_state.js").CatalogEntry} entry
 */
function fill(tile, entry) {
  const soldOut = entry.inventoryCount === 0;
  tile.dataset.product = entry.product;
  tile.dataset.version = String(entry.version);
  tile.dataset.soldOut = String(soldOut);
  tile.dataset.retired = String(entry.retired);
  const link = /** @type {HTMLAnchorElement} */ (part(tile, ".tile-link"));
  link.href = `/products/${encodeURIComponent(entry.product)}`;
  const image = /** @type {HTMLImageElement} */ (part(tile, "img"));
  const src = entry.image ?? blankImage;
  if (image.getAttribute("src") !== src) image.src = src;
  setText(part(tile, ".tile-name"), entry.name);
  setText(part(tile, ".tile-label"), `${entry.name}: `);
  const code = `${entry.price.amount} ${entry.price.currency}`;
  if (tile.dataset.price !== code) {
    tile.dataset.price = code;
    setText(part(tile, ".tile-price"), entry.priceText);
  }
  setText(part(tile, ".tile-limit"), entry.limitText);
  setText(part(tile, ".tile-count"), String(entry.inventoryCount));
  setText(
    part(tile, ".tile-state"),
    entry.retired ? "No longer on sale" : soldOut ? "Sold out" : "",
  );
}

/**
 * @param {string} text What changed in the list, for screen readers.
 */
function announce(text) {
  setText(news, text);
}

const catalog = new LiveCatalog(
  [...list.querySelectorAll("li.tile")].map((element) => {
    const tile = /** @type {HTMLElement} */ (element);
    return {
      product: /** @type {string} */ (tile.dataset.product),
      inventoryCount: Number(part(tile, ".tile-count").textContent),
      version: Number(tile.dataset.version),
      epoch,
      retired: false,
    };
  }),
  {
    onAdd(entry) {
      const tile = /** @type {HTMLElement} */ (blank.content.firstElementChild?.cloneNode(true));
      fill(tile, entry);
      list.append(tile);
      announce(`New: ${entry.name}`);
    },
    onChange(entry) {
      const tile = tileOf(entry.product);
      if (tile === null) return;
      const wasRetired = tile.dataset.retired === "true";
      fill(tile, entry);
      if (entry.retired && !wasRetired) announce(`${entry.name} is no longer on sale`);
    },
    onRemove(product) {
      const tile = tileOf(product);
      if (tile === null) return;
      // Keyboard focus on a tile that goes would fall back to the document: keep it in the list.
      const focused = tile.contains(document.activeElement);
      const next = tile.nextElementSibling ?? tile.previousElementSibling;
      const name = part(tile, ".tile-name").textContent;
      tile.remove();
      if (focused) /** @type {HTMLElement | null} */ (next?.querySelector(".tile-link"))?.focus();
      announce(`${name} is no longer on sale`);
    },
  },
);

document.documentElement.classList.remove("no-js");

keepConnected({
  url: FEED_PATH,
  epoch: () => epoch,
  onMessage(value) {
    const snapshot = parseCatalogSnapshot(value);
    if (snapshot !== undefined) {
      epoch = snapshot.epoch;
      catalog.offerSnapshot(snapshot);
      return true;
    }
    const entry = parseCatalogEntry(value);
    if (entry === undefined) return false;
    catalog.offerEntry(entry);
    return true;
  },
  cursorOf(value) {
    const snapshot = parseCatalogSnapshot(value);
    return snapshot && `${snapshot.epoch}.${snapshot.version}`;
  },
}, transportsOf(location.search));
