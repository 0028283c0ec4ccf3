// The <live-stock product="ID"> element: one product's live count on any site, from one script tag.
// @ts-check
/// <reference lib="dom" />
import { keepConnected, transportsOf } from "./connection.js";
import { LiveState, parseStateOf, stateCursor } from "./live_state.js";
import { setText } from "./set_text.js";

/**
 * The shop's server: this module is its `/static/live_stock.js` (a page elsewhere loads it
 * through `/embed.js`), so the feed is found from the module's own URL, not the page's.
 */
const SERVER = new URL("../", import.meta.url);

/** What the element shows, as its `state` part and custom state say it. */
/** @typedef {"loading" | "available" | "sold-out" | "retired"} StockState */

/** The words of each state, unless a `label-<state>` attribute says others; the count stands
 * before the words of `available`. */
const WORDS = {
  loading: "Checking stock…",
  available: "left",
  "sold-out": "Sold out",
  retired: "No longer on sale",
};

/** The words beside the count while it is not live: it is the last one known. */
const CONNECTION_WORDS = {
  connecting: "",
  live: "",
  reconnecting: "(reconnecting…)",
  ended: "(updates ended)",
};

// A constructed sheet, not a <style>: the host page's CSP (style-src) governs inline styles,
// not adopted sheets, so the element looks the same on a strict page.
const SHEET = new CSSStyleSheet();
SHEET.replaceSync(`
  :host { display: inline-block; font: inherit; color: inherit; }
  :host([hidden]) { display: none; }
  [part~="count"] { font-weight: 700; font-variant-numeric: tabular-nums; }
  [part~="count"][hidden] { display: none; }
  [part~="stock"][data-connection="reconnecting"], [part~="stock"][data-connection="ended"] {
    opacity: 0.6;
  }
  [part~="connection"] { font-size: 0.85em; }
  /* A retired product's updates have ended for good: nothing to say of the connection. */
  [part~="connection"]:empty, [data-state="retired"] [part~="connection"] { display: none; }
  [part~="stock"][data-state="retired"] { opacity: 1; }
`);

/**
 * `<live-stock product="moon-pin">`: how many units of a product are left, kept live over
 * WebSocket, Server-Sent Events or long polling (the shop page's own connection code), and
 * "Sold out" once none are. Styled from the page through `::part(stock | count | label |
 * connection)` and `:state(available | sold-out | retired)`; the stock is a polite live region.
 * `label-available`, `label-sold-out`, `label-retired` and `label-loading` attributes give the
 * words in the shop's language. A `transport` attribute (`ws`, `sse` or `poll`) forces one
 * transport.
 */
export class LiveStockElement extends HTMLElement {
  static observedAttributes = [
    "product",
    "transport",
    ...Object.keys(WORDS).map((state) => `label-${state}`),
  ];

  /** @type {{ stop(): void } | undefined} */
  #connection;
  /** The product and transport followed now. */
  #following = "";
  /** @type {ElementInternals | undefined} */
  #internals;
  #stock;
  #count;
  #label;
  #status;

  constructor() {
    super();
    const shadow = this.attachShadow({ mode: "open" });
    shadow.adoptedStyleSheets = [SHEET];
    // Custom states let a page style `live-stock:state(sold-out)`; older browsers go without.
    this.#internals = "attachInternals" in this ? this.attachInternals() : undefined;
    this.#stock = part("span", "stock");
    // A status is a polite live region: a screen reader reads the whole of it on each change.
    this.#stock.setAttribute("role", "status");
    this.#stock.setAttribute("aria-atomic", "true");
    this.#count = part("span", "count");
    this.#label = part("span", "label");
    this.#status = part("span", "connection");
    this.#stock.append(this.#count, " ", this.#label, " ", this.#status);
    shadow.append(this.#stock);
    this.#show("loading", undefined);
  }

  /** Starts following the product once the element is on a page. */
  connectedCallback() {
    this.#follow();
  }

  /** Stops following it when the element leaves the page: nothing stays open. */
  disconnectedCallback() {
    this.#connection?.stop();
    this.#connection = undefined;
  }

  /**
   * Follows another product (or transport) when that attribute changes; shows new words at once.
   *
   * @param {string} name The attribute's name.
   */
  attributeChangedCallback(name) {
    if (name.startsWith("label-")) this.#relabel();
    else if (this.isConnected) this.#follow();
  }

  #follow() {
    const product = this.getAttribute("product");
    const transport = this.getAttribute("transport") ?? "";
    // A parsed element is told of its attributes and then of its connection: follow once.
    const following = `${product} ${transport}`;
    if (this.#connection !== undefined && following === this.#following) return;
    this.#following = following;
    this.#connection?.stop();
    this.#connection = undefined;
    if (!product) return;
    this.#show("loading", undefined);
    const live = new LiveState(
      // Version -1: the feed's first state, of any epoch, is news.
      { product, inventoryCount: 0, version: -1, epoch: undefined, retired: false },
      (state) => this.#show(stockStateOf(state), state.inventoryCount),
    );
    const feed = new URL(`cart/status?product=${encodeURIComponent(product)}`, SERVER);
    const connection = keepConnected({
      url: feed.href,
      epoch: () => live.current.epoch ?? "",
      onMessage(value) {
        const state = parseStateOf(value, product);
        if (state === undefined) return false;
        live.offer(state);
        if (live.current.retired) connection.stop();
        return true;
      },
      cursorOf: stateCursor,
      onGone: () => this.#show("retired", undefined),
      onConnection: (state, via) => {
        this.#stock.dataset.connection = state;
        this.#stock.dataset.transport = via;
        setText(this.#status, CONNECTION_WORDS[state]);
      },
    }, transportsOf(new URLSearchParams({ transport }).toString()));
    this.#connection = connection;
  }

  /**
   * @param {StockState} state
   * @param {number | undefined} count The units left, shown when available.
   */
  #show(state, count) {
    this.#stock.dataset.state = state;
    this.#count.hidden = state !== "available";
    setText(this.#count, state === "available" ? String(count) : "");
    this.#relabel();
    const states = this.#internals?.states;
    if (states === undefined) return;
    for (const name of Object.keys(WORDS)) {
      if (name === state) states.add(name);
      else states.delete(name);
    }
  }

  /** Shows the words of the state shown, in the page's words when it gives them. */
  #relabel() {
    const state = /** @type {StockState} */ (this.#stock.dataset.state ?? "loading");
    setText(this.#label, this.getAttribute(`label-${state}`) ?? WORDS[state]);
  }
}

/**
 * @param {import("./live_state.js").ProductState} state
 * @returns {StockState} What the element says of it.
 */
function stockStateOf(state) {
  if (state.retired) return "retired";
  return state.inventoryCount === 0 ? "sold-out" : "available";
}

/**
 * @param {string} tag
 * @param {string} name Its part name, for `::part()`.
 * @returns {HTMLElement}
 */
function part(tag, name) {
  const element = document.createElement(tag);
  element.setAttribute("part", name);
  return element;
}

// A page that loads the script twice (two widgets, two tags) defines the element once.
if (customElements.get("live-stock") === undefined) {
  customElements.define("live-stock", LiveStockElement);
}
