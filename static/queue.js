// The product page's waiting room panel: follows the room's feed, joins the line, shows the
// shopper's place and turn, and tells the page when Add may be pressed.
// @ts-check
/// <reference lib="dom" />
import { altchaPayload, solveChallenge } from "./altcha_solver.js";
import { keepConnected, transportsOf } from "./connection.js";
import { isNews } from "./live_state.js";
import {
  clockText,
  Pace,
  parseQueueStatus,
  parseQueueTicket,
  queueView,
  ServerClock,
  timeOf,
} from "./queue_rules.js";
import { setText } from "./set_text.js";

/** @typedef {import("./queue_rules.js").QueueStatus} QueueStatus */
/** @typedef {import("./queue_rules.js").QueueTicket} QueueTicket */

const QUEUE_PATH = "/queue";
/** The countdowns tick once a second: they show whole seconds. */
const TICK_MS = 1000;

/** A shopper with no ticket. */
const NO_TICKET = Object.freeze({
  ticket: null,
  number: null,
  admitted: false,
  admissionExpiresAt: NaN,
});

/**
 * @typedef {object} QueueOptions
 * @property {string} product The page's product.
 * @property {() => boolean} inCart Whether the shopper holds the product now (the page knows).
 * @property {() => void} onTurn Called whenever whether Add may be pressed may have changed.
 */

/**
 * @typedef {object} Queue
 * @property {() => boolean} canAdd It is the shopper's turn: Add may be pressed.
 * @property {() => void} refresh Reads the shopper's place again (after an add used the turn).
 * @property {() => void} stop Ends the feed and the countdowns (the product is gone).
 */

/** The shop refused to let the shopper join, for a reason it gave. */
class JoinRefused extends Error {}

/**
 * The proof of work a new ticket needs (`--queue-challenge`), solved in the page.
 *
 * @returns {Promise<string | undefined>} The `altcha` field to join with; undefined when the shop
 * asks for none.
 * @throws {JoinRefused} When the challenge cannot be had or has no solution.
 */
async function solvedChallenge() {
  const response = await fetch(`${QUEUE_PATH}/challenge`, { cache: "no-store" });
  if (response.status === 404) {
    await response.body?.cancel();
    return undefined;
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new JoinRefused(answer?.error ?? `the shop answered ${response.status}`);
  const number = await solveChallenge(answer);
  if (number === null) throw new JoinRefused("the check that you are not a robot failed");
  return altchaPayload(answer, number);
}

/**
 * @param {string} id
 * @returns {HTMLElement} The page's element of that id.
 */
const byId = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/**
 * Starts the waiting room panel of a product that opens at a set time (`<body data-opens-at>`).
 *
 * @param {QueueOptions} options The product and what the page wants to know.
 * @returns {Queue} What the page asks of the panel.
 */
export function startQueue(options) {
  const { product } = options;
  const query = `product=${encodeURIComponent(product)}`;
  const elements = {
    panel: byId("queue"),
    status: byId("queue-status"),
    detail: byId("queue-detail"),
    join: /** @type {HTMLButtonElement} */ (byId("queue-join")),
    error: byId("queue-error"),
    commitment: byId("queue-commitment"),
    seed: byId("queue-seed"),
    ticket: byId("queue-ticket"),
    drawLink: /** @type {HTMLAnchorElement} */ (byId("queue-draw-link")),
  };
  const body = document.body;
  const clock = new ServerClock(Number(body.dataset.serverTime || NaN), Date.now());
  const pace = new Pace();
  const commitmentText = elements.commitment.textContent ?? "";
  const seedText = elements.seed.textContent ?? "";
  const ticketText = elements.ticket.textContent ?? "";
  elements.drawLink.href = `${QUEUE_PATH}/draw?${query}`;

  /** @type {QueueStatus} Until the feed speaks: the opening time the page was rendered with. */
  let status = {
    product,
    phase: "before",
    opensAt: timeOf(body.dataset.opensAt),
    serverTime: NaN,
    commitment: null,
    seed: null,
    servingUpTo: 0,
    queued: 0,
    free: 0,
    held: 0,
    admitRate: 0,
    paused: false,
    // Below any real version: the feed's first message is always news.
    version: -1,
    epoch: body.dataset.epoch,
  };
  /** The feed has spoken: until then the panel does not guess the phase. */
  let heard = false;
  /** @type {QueueTicket} */
  let ticket = NO_TICKET;
  let joining = false;
  /** What the page last asked the server about (a turn come, a turn ended): once each. */
  let asked = "";
  let reading = false;
  let readAgain = false;
  let canAdd = false;
  let stopped = false;

  function render() {
    const context = { pace: pace.perSecond(), inCart: options.inCart() };
    const view = heard ? queueView(status, ticket, clock.now(Date.now()), context) : {
      state: "connecting",
      status: "",
      detail: Number.isFinite(status.opensAt) ? `Opens at ${clockText(status.opensAt)}` : "",
      canJoin: false,
      canAdd: false,
    };
    // Only news goes to the live region; what ticks is beside it.
    setText(elements.status, view.status);
    setText(elements.detail, view.detail);
    elements.panel.dataset.state = view.state;
    elements.join.hidden = !view.canJoin;
    elements.join.disabled = joining;
    setText(elements.join, joining ? "Joining…" : "Join the line");
    setText(elements.commitment, status.commitment ?? commitmentText);
    setText(elements.seed, status.seed ?? seedText);
    setText(elements.ticket, ticket.ticket ?? ticketText);
    if (view.canAdd !== canAdd) {
      canAdd = view.canAdd;
      options.onTurn();
    }
    // A turn that has come, or one that has ended: the page asks the server, which decides.
    const question = !heard || ticket.number === null
      ? ""
      : ticket.admitted
      ? view.canAdd ? "" : `ended ${ticket.admissionExpiresAt}`
      : status.servingUpTo >= ticket.number
      ? `come ${ticket.number}`
      : "";
    if (question !== "" && question !== asked) {
      asked = question;
      readTicket();
    }
  }

  /** Reads the shopper's own place; one read at a time, another after it if asked meanwhile. */
  async function readTicket() {
    if (reading) {
      readAgain = true;
      return;
    }
    reading = true;
    try {
      const response = await fetch(`${QUEUE_PATH}?${query}`, { cache: "no-store" });
      const read = parseQueueTicket(await response.json().catch(() => undefined));
      if (response.ok && read !== undefined) ticket = read;
    } catch {
      // The feed shows the connection's trouble; the next change asks again.
    } finally {
      reading = false;
    }
    if (stopped) return;
    render();
    if (readAgain) {
      readAgain = false;
      readTicket();
    }
  }

  async function join() {
    joining = true;
    setText(elements.error, "");
    render();
    try {
      const altcha = await solvedChallenge();
      const response = await fetch(QUEUE_PATH, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(altcha === undefined ? { product } : { product, altcha }),
        cache: "no-store",
      });
      const answer = await response.json().catch(() => ({}));
      const joined = response.ok ? parseQueueTicket(answer) : undefined;
      if (joined !== undefined) {
        ticket = joined;
      } else {
        const reason = typeof answer?.error === "string"
          ? answer.error
          : `the shop answered ${response.status}`;
        setText(
          elements.error,
          response.status === 429
            ? `Too many tickets come from your network: ${reason}.`
            : `Could not join the line: ${reason}.`,
        );
      }
    } catch (error) {
      setText(
        elements.error,
        error instanceof JoinRefused
          ? `Could not join the line: ${error.message}.`
          : "Could not reach the shop. Check your connection and try again.",
      );
    } finally {
      joining = false;
      render();
    }
    // A ticket taken after the draw has its number already; its turn may have come.
    if (ticket.ticket !== null) readTicket();
    if (!elements.join.hidden) elements.join.focus();
    else elements.status.closest("section")?.focus();
  }

  elements.join.addEventListener("click", join);
  elements.panel.hidden = false;
  // The section takes the focus after a join (the button is gone): programmatically only.
  elements.panel.tabIndex = -1;
  render();
  readTicket();
  const ticker = setInterval(render, TICK_MS);

  const connection = keepConnected({
    url: `${QUEUE_PATH}/status?${query}`,
    indicator: "queue-live",
    epoch: () => status.epoch ?? "",
    onMessage(value) {
      const offered = parseQueueStatus(value);
      if (offered === undefined || offered.product !== product) return false;
      clock.observe(offered.serverTime, Date.now());
      if (!isNews(offered, status)) return true;
      const drawn = status.phase !== "open" && offered.phase === "open";
      status = offered;
      heard = true;
      // The line moves only once open: a reading from before would count the wait for the draw.
      if (status.phase === "open") pace.record(offered.serverTime, offered.servingUpTo);
      render();
      // The draw gave every ticket its number: the shopper learns theirs.
      if (drawn && ticket.ticket !== null) readTicket();
      return true;
    },
    cursorOf(value) {
      const offered = parseQueueStatus(value);
      return offered?.epoch === undefined ? undefined : `${offered.epoch}.${offered.version}`;
    },
  }, transportsOf(location.search));

  return {
    canAdd: () => canAdd,
    refresh: () => {
      if (!stopped) readTicket();
    },
    stop() {
      stopped = true;
      clearInterval(ticker);
      connection.stop();
    },
  };
}
