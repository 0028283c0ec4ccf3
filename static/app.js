// The product page's script: keeps the count live, runs the buttons, and tells when it is gone.
// @ts-check
/// <reference lib="dom" />
import { keepConnected, transportsOf } from "./connection.js";
import { LiveState, parseState, parseStateOf, stateCursor } from "./live_state.js";
import { startQueue } from "./queue.js";
import { setText } from "./set_text.js";

const STATUS_PATH = "/cart/status";

const body = document.body;
/**
 * @param {string} id
 * @returns {HTMLElement} The page's element of that id.
 */
const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
const elements = {
  count: byId("count"),
  stock: byId("stock"),
  add: /** @type {HTMLButtonElement} */ (byId("add")),
  remove: /** @type {HTMLButtonElement} */ (byId("remove")),
  buy: /** @type {HTMLButtonElement} */ (byId("buy")),
  order: byId("order"),
  error: byId("error"),
  hold: byId("hold"),
  gone: byId("gone"),
};
const session = body.dataset.session;
const product = /** @type {string} */ (body.dataset.product);
/** This product's status, for every transport. */
const statusUrl = `${STATUS_PATH}?product=${encodeURIComponent(product)}`;
const productName = document.title;

let inCart = body.dataset.inCart === "true";
/** How long an add holds the unit ("" in the page: holds never expire). */
const holdTtlMs = Number(elements.hold.dataset.holdTtlSeconds || NaN) * 1000;
const holdPolicyText = (elements.hold.textContent ?? "").trim();
/** When this shopper's hold ends, in ms since the epoch; NaN when there is none to count. */
let holdExpiresAt = Date.parse(elements.hold.dataset.holdExpiresAt ?? "");
/** @type {ReturnType<typeof setTimeout> | undefined} */
let holdTimer;
/** @typedef {"add" | "remove" | "checkout"} Action */
/** @type {Action | undefined} The action being sent, if any: the buttons wait for it. */
let pending;
/**
 * @type {string | undefined} The order id of the shopper's last purchase: from the server when the
 * page loads (a sale made meanwhile, as by the payment callback), then this page's own.
 */
let orderId = body.dataset.orderId || undefined;
/** The browser is leaving for the order service's payment page. */
let leaving = false;
/** @type {Record<Action, HTMLButtonElement>} The button that sends each action. */
const buttonOf = { add: elements.add, remove: elements.remove, checkout: elements.buy };

const live = new LiveState(
  {
    product,
    inventoryCount: Number(body.dataset.inventoryCount),
    version: Number(body.dataset.version),
    epoch: body.dataset.epoch,
    retired: false,
  },
  () => render(),
);
/** The product is no longer on sale: nothing to add, remove or wait for. */
let retired = false;
/** A product that opens at a set time has a waiting room: Add waits for the shopper's turn. */
const queue = body.dataset.opensAt
  ? startQueue({ product, inCart: () => inCart, onTurn: () => render() })
  : undefined;

function render() {
  const { inventoryCount, version } = live.current;
  const soldOut = inventoryCount === 0 && !inCart;
  const waiting = queue !== undefined && !queue.canAdd();
  // Only touch the live region when the text changes, so screen readers announce real news.
  setText(elements.count, String(inventoryCount));
  elements.count.dataset.version = String(version);
  setText(
    elements.stock,
    retired ? "No longer on sale" : inCart ? "In your cart" : soldOut ? "Sold out" : "Available",
  );
  elements.add.disabled = retired || pending !== undefined || inCart || soldOut || waiting;
  setText(
    elements.add,
    retired
      ? "Unavailable"
      : pending === "add"
      ? "Adding…"
      : inCart
      ? "In your cart ✓"
      : soldOut
      ? "Sold out"
      : waiting
      ? "Wait for your turn"
      : "Add to cart",
  );
  elements.remove.disabled = retired || pending !== undefined || !inCart;
  setText(elements.remove, pending === "remove" ? "Removing…" : "Remove");
  // "Purchased ✓" until the shopper holds another unit, which they may buy in turn.
  const purchased = orderId !== undefined && !inCart;
  elements.buy.disabled = retired || pending !== undefined || !inCart;
  setText(
    elements.buy,
    pending === "checkout" ? "Buying…" : purchased ? "Purchased ✓" : "Buy now",
  );
  elements.order.hidden = orderId === undefined;
  setText(elements.order, orderId === undefined ? "" : `Order ${orderId}`);
  renderHold();
  elements.gone.hidden = !retired;
  body.dataset.inCart = String(inCart);
  body.dataset.soldOut = String(soldOut);
  body.dataset.purchased = String(purchased);
  body.dataset.retired = String(retired);
  document.title = retired
    ? `No longer on sale · ${productName}`
    : `${inventoryCount} left · ${productName}`;
}

/** The product was retired (or the shop no longer knows it): its holds ended with it. */
function retire() {
  if (retired) return;
  retired = true;
  inCart = false;
  holdExpiresAt = NaN;
  connection.stop();
  queue?.stop();
  render();
}

/** Says until when the shopper's unit is held, and lets it go from the page when it expires. */
function renderHold() {
  clearTimeout(holdTimer);
  if (!inCart || !Number.isFinite(holdExpiresAt)) {
    setText(elements.hold, holdPolicyText);
    return;
  }
  const until = new Date(holdExpiresAt).toLocaleTimeString([], {
    hour: "2-digit",
    minute: "2-digit",
  });
  setText(elements.hold, `Held for you until ${until}; each add starts the time again.`);
  // The server frees the unit then and pushes the new count; the page stops claiming it too.
  holdTimer = setTimeout(() => {
    inCart = false;
    holdExpiresAt = NaN;
    render();
  }, Math.max(0, holdExpiresAt - Date.now()));
}

/**
 * Sends the shopper's add, remove or checkout and shows the answer.
 *
 * @param {Action} action
 */
async function send(action) {
  pending = action;
  setText(elements.error, "");
  render();
  try {
    const response = await fetch("/cart", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ action, session, product }),
      cache: "no-store",
    });
    const answer = await response.json().catch(() => ({}));
    const state = parseState(answer);
    if (state !== undefined) live.offer(state);
    const paymentUrl = action === "checkout" && response.status === 202
      ? paymentPageOf(answer.paymentUrl)
      : undefined;
    if (response.status === 404 || response.status === 410) {
      retire();
    } else if (paymentUrl !== undefined) {
      // The order service takes payment on its own page; its callback settles the hold, which
      // waits until then. Only an http(s) page: never a javascript: URL from a bad answer.
      setText(elements.error, "Taking you to the payment page…");
      // The buttons stay as they are ("Buying…") while the browser leaves.
      leaving = true;
      location.assign(paymentUrl);
    } else if (response.ok) {
      const wasHeld = inCart && Number.isFinite(holdExpiresAt);
      inCart = answer.inCart === true;
      // Adding again does not extend a hold: it ends when it would have, counted from its take.
      if (!inCart) holdExpiresAt = NaN;
      else if (!wasHeld) holdExpiresAt = Date.now() + holdTtlMs;
      if (action === "checkout" && typeof answer.orderId === "string") orderId = answer.orderId;
    } else if (response.status === 409 && answer.error === "sold out") {
      inCart = false;
      setText(elements.error, "Sorry, it is sold out: the last one just went to someone else.");
    } else if (response.status === 409 && answer.error === "not in cart") {
      // The hold ended (it expired, or went from another tab) before the checkout arrived.
      inCart = false;
      holdExpiresAt = NaN;
      setText(elements.error, "Your hold on it has ended: add it to your cart again to buy it.");
    } else {
      const reason = answer.error ?? `the shop answered ${response.status}`;
      // A refused or failed checkout keeps the hold: the shopper may try again.
      setText(
        elements.error,
        response.status === 402
          ? `Your order was refused: ${reason}`
          : `That did not work: ${reason}.${
            action === "checkout" ? " It is still held for you." : ""
          }`,
      );
    }
  } catch {
    setText(elements.error, "Could not reach the shop. Check your connection and try again.");
  } finally {
    if (!leaving) settle(action);
  }
}

/**
 * Ends a command: the buttons come back, and keyboard focus stays on a useful one.
 *
 * @param {Action} action The command that ended.
 */
function settle(action) {
  pending = undefined;
  // An add uses the shopper's turn: the waiting room learns so from the server.
  if (action === "add") queue?.refresh();
  render();
  // The clicked button is often disabled now (in the cart, sold out, bought): keep keyboard
  // focus on the page's next useful control rather than losing it to the document.
  const next = Object.values(buttonOf).find((button) => !button.disabled);
  if (buttonOf[action].disabled && next !== undefined) next.focus();
}

/**
 * The payment page a checkout's 202 names, when it is an http(s) URL.
 *
 * @param {unknown} value The answer's `paymentUrl`.
 * @returns {string | undefined} The URL, or undefined for anything else.
 */
function paymentPageOf(value) {
  if (typeof value !== "string") return undefined;
  const url = URL.parse(value);
  return url !== null && (url.protocol === "https:" || url.protocol === "http:")
    ? url.href
    : undefined;
}

// Back from the payment page, a page restored from the back-forward cache still says "Buying…":
// load it afresh, to show the hold as it is now (awaiting payment, or sold).
addEventListener("pageshow", (event) => {
  if (event.persisted && leaving) location.reload();
});

elements.add.addEventListener("click", () => send("add"));
elements.remove.addEventListener("click", () => send("remove"));
elements.buy.addEventListener("click", () => send("checkout"));
document.documentElement.classList.remove("no-js");
render();

const connection = keepConnected({
  url: statusUrl,
  epoch: () => live.current.epoch ?? "",
  onMessage(value) {
    const state = parseStateOf(value, product);
    if (state === undefined) return false;
    live.offer(state);
    if (live.current.retired) retire();
    return true;
  },
  cursorOf: stateCursor,
  onGone: retire,
}, transportsOf(location.search));
