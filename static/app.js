// The page script: keeps the count live over WebSocket, SSE or long polling, and runs the buttons.
import { backoffDelay, LiveState, parseState } from "./live_state.js";

/** Transports in order of preference, by the name `?transport=` uses. */
const TRANSPORTS = ["ws", "sse", "poll"];
const TRANSPORT_NAMES = { ws: "WebSocket", sse: "Server-Sent Events", poll: "long polling" };
const STATUS_PATH = "/cart/status";
/** A long poll answers within the server's poll timeout (25 s by default); past this it is lost. */
const POLL_DEADLINE_MS = 60_000;
/**
 * A `since` no cart reaches (the largest the server accepts), so the server answers it at once
 * with the state as it is. A page that has just (re)connected cannot send the version it shows:
 * a restarted server may be on that same version with another count, and would wait.
 */
const NOW = 999_999_999_999_999;

const body = document.body;
const elements = {
  count: document.getElementById("count"),
  stock: document.getElementById("stock"),
  add: document.getElementById("add"),
  remove: document.getElementById("remove"),
  error: document.getElementById("error"),
  live: document.getElementById("live"),
  hold: document.getElementById("hold"),
  liveText: document.getElementById("live-text"),
};
const session = body.dataset.session;
const product = body.dataset.product;
/** This product's status, for every transport. */
const statusUrl = `${STATUS_PATH}?product=${encodeURIComponent(product)}`;
const productName = document.title;

let inCart = body.dataset.inCart === "true";
/** How long an add holds the unit ("" in the page: holds never expire). */
const holdTtlMs = Number(elements.hold.dataset.holdTtlSeconds || NaN) * 1000;
const holdPolicyText = elements.hold.textContent.trim();
/** When this shopper's hold ends, in ms since the epoch; NaN when there is none to count. */
let holdExpiresAt = Date.parse(elements.hold.dataset.holdExpiresAt);
let holdTimer;
/** The action being sent, if any: the buttons wait for it. */
let pending;

const live = new LiveState(
  {
    inventoryCount: Number(body.dataset.inventoryCount),
    version: Number(body.dataset.version),
  },
  () => render(),
  () => pollState(NOW),
);

/**
 * Long-polls the cart's state once.
 *
 * @param {number} since The version the page has (answered at its next change), or `NOW`.
 * @returns {Promise<import("./live_state.js").CartState>}
 * @throws {Error} When the server cannot be reached or does not answer with a state.
 */
async function pollState(since) {
  const response = await fetch(`${statusUrl}&since=${since}`, {
    cache: "no-store",
    signal: AbortSignal.timeout(POLL_DEADLINE_MS),
  });
  const state = response.ok ? parseState(await response.json()) : undefined;
  if (state === undefined) throw new Error(`long poll answered ${response.status}`);
  return state;
}

function render() {
  const { inventoryCount, version } = live.current;
  const soldOut = inventoryCount === 0 && !inCart;
  // Only touch the live region when the text changes, so screen readers announce real news.
  setText(elements.count, String(inventoryCount));
  elements.count.dataset.version = String(version);
  setText(elements.stock, inCart ? "In your cart" : soldOut ? "Sold out" : "Available");
  elements.add.disabled = pending !== undefined || inCart || soldOut;
  setText(
    elements.add,
    pending === "add"
      ? "Adding…"
      : inCart
      ? "In your cart ✓"
      : soldOut
      ? "Sold out"
      : "Add to cart",
  );
  elements.remove.disabled = pending !== undefined || !inCart;
  setText(elements.remove, pending === "remove" ? "Removing…" : "Remove");
  renderHold();
  body.dataset.inCart = String(inCart);
  body.dataset.soldOut = String(soldOut);
  document.title = `${inventoryCount} left · ${productName}`;
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
 * Shows how the page is connected; a count that is not live is marked as the last one known.
 *
 * @param {"connecting" | "live" | "reconnecting"} state
 * @param {string} transport
 * @param {number} attempt Failed attempts so far, shown to tests and the curious.
 */
function showConnection(state, transport, attempt) {
  const name = TRANSPORT_NAMES[transport];
  elements.live.dataset.state = state;
  elements.live.dataset.transport = transport;
  elements.live.dataset.attempt = String(attempt);
  body.dataset.connection = state;
  setText(
    elements.liveText,
    state === "live"
      ? `Live via ${name}`
      : state === "connecting"
      ? `Connecting via ${name}…`
      : `Connection lost — reconnecting via ${name}…`,
  );
}

/**
 * @typedef {object} Listener
 * @property {() => void} onLive The connection works and the state is current.
 * @property {(state: import("./live_state.js").CartState) => void} onState A state arrived.
 * @property {() => void} onLost The connection ended; called at most once.
 */

/** @type {Record<string, (listener: Listener) => void>} Each opens one connection. */
const OPENERS = {
  ws(listener) {
    const url = new URL(statusUrl, location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(url);
    socket.onmessage = messageHandler(listener);
    socket.onclose = () => listener.onLost();
  },
  sse(listener) {
    const source = new EventSource(statusUrl);
    source.onmessage = messageHandler(listener);
    // EventSource would retry on its own, every few seconds and all pages at once: we close it
    // and retry with our own jittered backoff instead.
    source.onerror = () => {
      source.close();
      listener.onLost();
    };
  },
  poll(listener) {
    (async () => {
      try {
        let state = await pollState(NOW);
        listener.onLive();
        for (;;) {
          listener.onState(state);
          // Ask past what this server last said, not what the page shows: after a restart the
          // page may show a version the server has not reached, which it would answer at once.
          state = await pollState(state.version);
        }
      } catch {
        listener.onLost();
      }
    })();
  },
};

/**
 * Handles a push transport's messages: the first state means the connection works (the server
 * sends the current state as soon as it opens); anything that is not a state is ignored.
 *
 * @param {Listener} listener
 * @returns {(event: MessageEvent) => void}
 */
function messageHandler(listener) {
  let opened = false;
  return (event) => {
    let state;
    try {
      state = parseState(JSON.parse(event.data));
    } catch {
      return;
    }
    if (state === undefined) return;
    if (!opened) {
      opened = true;
      listener.onLive();
    }
    listener.onState(state);
  };
}

/**
 * Keeps one connection open. A transport that has never worked falls through to the next one at
 * once; once one has worked the page stays with it and retries it with jittered backoff.
 *
 * @param {string[]} candidates Transports to try, in order.
 */
function keepConnected(candidates) {
  let index = 0;
  let attempt = 0;
  let everLive = false;

  const connect = () => {
    const transport = candidates[index];
    let isLive = false;
    showConnection(everLive ? "reconnecting" : "connecting", transport, attempt);
    OPENERS[transport]({
      onLive() {
        isLive = true;
        everLive = true;
        candidates = [transport];
        index = 0;
        attempt = 0;
        showConnection("live", transport, attempt);
      },
      onState: (state) => live.offer(state),
      onLost() {
        if (!isLive && index + 1 < candidates.length) {
          index++;
          connect();
          return;
        }
        index = 0;
        const delay = backoffDelay(attempt);
        attempt++;
        showConnection(everLive ? "reconnecting" : "connecting", transport, attempt);
        setTimeout(connect, delay);
      },
    });
  };
  connect();
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
    if (response.ok) {
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

const forced = new URLSearchParams(location.search).get("transport");
keepConnected(TRANSPORTS.includes(forced) ? [forced] : [...TRANSPORTS]);
