// The product page's script: keeps the count live, runs the buttons, and tells when it is gone.
// @ts-check
/// <reference lib="dom" />
import { keepConnected, transportsOf } from "./connection.js";
import { LiveState, parseState } from "./live_state.js";

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
/** @type {"add" | "remove" | undefined} The action being sent, if any: the buttons wait for it. */
let pending;

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

function render() {
  const { inventoryCount, version } = live.current;
  const soldOut = inventoryCount === 0 && !inCart;
  // Only touch the live region when the text changes, so screen readers announce real news.
  setText(elements.count, String(inventoryCount));
  elements.count.dataset.version = String(version);
  setText(
    elements.stock,
    retired ? "No longer on sale" : inCart ? "In your cart" : soldOut ? "Sold out" : "Available",
  );
  elements.add.disabled = retired || pending !== undefined || inCart || soldOut;
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
      : "Add to cart",
  );
  elements.remove.disabled = retired || pending !== undefined || !inCart;
  setText(elements.remove, pending === "remove" ? "Removing…" : "Remove");
  renderHold();
  elements.gone.hidden = !retired;
  body.dataset.inCart = String(inCart);
  body.dataset.soldOut = String(soldOut);
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
 * @param {HTMLElement} element
 * @param {string} text
 */
function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

/**
 * Sends the shopper's add or remove and shows the answer.
 *
 * @param {"add" | "remove"} action
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
    if (response.status === 404 || response.status === 410) {
      retire();
    } else if (response.ok) {
      inCart = answer.inCart === true;
      holdExpiresAt = inCart ? Date.now() + holdTtlMs : NaN;
    } else if (response.status === 409) {
      inCart = false;
      setText(elements.error, "Sorry, it is sold out: the last one just went to someone else.");
    } else {
      setText(
        elements.error,
        `That did not work: ${answer.error ?? `the shop answered ${response.status}`}.`,
      );
    }
  } catch {
    setText(elements.error, "Could not reach the shop. Check your connection and try again.");
  } finally {
    pending = undefined;
    render();
    // The clicked button is often disabled now (in the cart, sold out): keep keyboard focus on
    // the page's next useful control rather than losing it to the document.
    const other = action === "add" ? elements.remove : elements.add;
    if (elements[action].disabled && !other.disabled) other.focus();
  }
}

elements.add.addEventListener("click", () => send("add"));
elements.remove.addEventListener("click", () => send("remove"));
document.documentElement.classList.remove("no-js");
render();

const connection = keepConnected({
  url: statusUrl,
  epoch: () => live.current.epoch ?? "",
  onMessage(value) {
    const state = parseState(value);
    if (state === undefined || (state.product !== undefined && state.product !== product)) {
      return false;
    }
    live.offer(state);
    if (live.current.retired) retire();
    return true;
  },
  cursorOf(value) {
    const state = parseState(value);
    return state?.epoch === undefined ? undefined : `${state.epoch}.${state.version}`;
  },
  onGone: retire,
}, transportsOf(location.search));
