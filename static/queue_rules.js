// The waiting room's rules without the DOM: reading its messages, the server's clock, a shopper's
// place in line, the wait, and the words the panel shows.
// @ts-check

/** @typedef {"before" | "queueing" | "open" | "soldOut"} QueuePhase */

/**
 * One product's waiting room as `/queue/status` tells every page of it.
 *
 * @typedef {object} QueueStatus
 * @property {string} product The product.
 * @property {QueuePhase} phase Where the drop stands.
 * @property {number} opensAt When the product opens (the draw), in ms since the epoch.
 * @property {number} serverTime The server's clock when it made the message, in ms.
 * @property {string | null} commitment Hex SHA-256 of the draw's secret seed, once the line opens.
 * @property {string | null} seed The seed, 64 hex digits, once drawn.
 * @property {number} servingUpTo Every number up to this one has had its turn.
 * @property {number} queued Tickets numbered above `servingUpTo` and not gone.
 * @property {number} free Units no one holds.
 * @property {number} held Units held in carts: they may come back.
 * @property {number} admitRate Shoppers admitted per second at most.
 * @property {boolean} paused The shop paused admissions.
 * @property {number} version Rises with every change, within one epoch.
 * @property {string | undefined} epoch The life of the store it comes from.
 */

/**
 * This shopper's own place, as `GET /queue` (or the answer to joining) tells it.
 *
 * @typedef {object} QueueTicket
 * @property {string | null} ticket The ticket's id, null when the shopper has not joined.
 * @property {number | null} number The ticket's number, null until the draw.
 * @property {boolean} admitted It is the shopper's turn: they may add one unit.
 * @property {number} admissionExpiresAt When the turn ends, in ms; NaN when there is none.
 */

const PHASES = ["before", "queueing", "open", "soldOut"];
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
/** An hour, in ms. */
export const HOUR_MS = HOUR;

/**
 * Reads a time the server sends either as ms since the epoch or as an ISO 8601 date-time.
 *
 * @param {unknown} value A number, a string or anything else.
 * @returns {number} Ms since the epoch; NaN when it is no time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(timeOf("2026-12-06T19:00:00+01:00"), Date.UTC(2026, 11, 6, 18));
 * assert.equal(timeOf(1_000), 1_000);
 * assert.ok(Number.isNaN(timeOf(null)));
 * ```
 */
export function timeOf(value) {
  if (typeof value === "number") return Number.isFinite(value) ? value : NaN;
  if (typeof value === "string" && value !== "") return Date.parse(value);
  return NaN;
}

/**
 * Reads a waiting room's status message, ignoring anything else the server may send.
 *
 * @param {unknown} value A parsed JSON value.
 * @returns {QueueStatus | undefined} The status, or undefined when the value is not one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const status = parseQueueStatus({
 *   product: "a", phase: "open", opensAt: "2026-12-06T18:00:00Z", serverTime: 5, commitment: "c",
 *   seed: "s", servingUpTo: 3, queued: 9, free: 2, held: 1, admitRate: 20, paused: false,
 *   version: 7, epoch: "e1",
 * });
 * assert.equal(status?.opensAt, Date.UTC(2026, 11, 6, 18));
 * assert.equal(parseQueueStatus({ product: "a", inventoryCount: 3, version: 7 }), undefined);
 * ```
 */
export function parseQueueStatus(value) {
  if (!isRecord(value)) return undefined;
  const { product, phase, serverTime, commitment, seed, paused, epoch } = value;
  const opensAt = timeOf(value.opensAt);
  if (typeof product !== "string" || !PHASES.includes(/** @type {string} */ (phase))) {
    return undefined;
  }
  const counts = [value.servingUpTo, value.queued, value.free, value.held, value.version];
  if (!counts.every(isWholeNumber) || typeof value.admitRate !== "number") return undefined;
  if (Number.isNaN(opensAt) || typeof serverTime !== "number") return undefined;
  if (epoch !== undefined && typeof epoch !== "string") return undefined;
  return {
    product,
    phase: /** @type {QueuePhase} */ (phase),
    opensAt,
    serverTime,
    commitment: typeof commitment === "string" ? commitment : null,
    seed: typeof seed === "string" ? seed : null,
    servingUpTo: /** @type {number} */ (value.servingUpTo),
    queued: /** @type {number} */ (value.queued),
    free: /** @type {number} */ (value.free),
    held: /** @type {number} */ (value.held),
    admitRate: value.admitRate,
    paused: paused === true,
    version: /** @type {number} */ (value.version),
    epoch,
  };
}

/**
 * Reads the shopper's own place from `GET /queue` or from the answer to `POST /queue` (which
 * says nothing of a turn: none yet).
 *
 * @param {unknown} value A parsed JSON value.
 * @returns {QueueTicket | undefined} The place, or undefined when the value is not one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(parseQueueTicket({ ticket: "t1", number: null, drawAt: "x" }), {
 *   ticket: "t1", number: null, admitted: false, admissionExpiresAt: NaN,
 * });
 * assert.equal(parseQueueTicket({ error: "sold out" }), undefined);
 * ```
 */
export function parseQueueTicket(value) {
  if (!isRecord(value)) return undefined;
  const { ticket, number, admitted } = value;
  if (ticket !== null && typeof ticket !== "string") return undefined;
  if (number !== null && number !== undefined && !isWholeNumber(number)) return undefined;
  return {
    ticket,
    number: number ?? null,
    admitted: admitted === true,
    admissionExpiresAt: timeOf(value.admissionExpiresAt),
  };
}

/** How many of the latest readings of the server's clock count. */
const CLOCK_READINGS = 8;

/**
 * The server's clock as seen from the page: countdowns follow it, not the device's own clock,
 * which may be minutes off.
 *
 * A reading (the server's time in a message, against the device's time when it arrived) is never
 * ahead of the server: a message waits in the network, and a conflated message may have been made
 * well before it is sent. So the largest offset among recent readings is the best guess; only
 * recent ones count, so a device whose clock is set again follows within a few messages.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const clock = new ServerClock(10_000, 4_000); // the page rendered at server 10 s, device 4 s
 * clock.observe(12_000, 7_000); // a message made a second before it arrived
 * assert.equal(clock.now(8_000), 14_000);
 * ```
 */
export class ServerClock {
  /** @type {number[]} Server time − device time of each recent reading, in ms. */
  #offsets = [];

  /**
   * @param {number} serverTime The server's time rendered into the page, in ms; NaN if none.
   * @param {number} deviceTime The device's time when the page loaded.
   */
  constructor(serverTime, deviceTime) {
    this.observe(serverTime, deviceTime);
  }

  /**
   * Takes one reading; a NaN server time is ignored.
   *
   * @param {number} serverTime The server's time a message carries, in ms.
   * @param {number} deviceTime The device's time when it arrived.
   * @returns {void}
   */
  observe(serverTime, deviceTime) {
    if (!Number.isFinite(serverTime)) return;
    this.#offsets.push(serverTime - deviceTime);
    if (this.#offsets.length > CLOCK_READINGS) this.#offsets.shift();
  }

  /**
   * @param {number} deviceTime The device's time now (`Date.now()`).
   * @returns {number} The server's time now, in ms (the device's, before any reading).
   */
  now(deviceTime) {
    return deviceTime + (this.#offsets.length === 0 ? 0 : Math.max(...this.#offsets));
  }
}

/** The pace counts the admissions of about this long, in ms. */
const PACE_WINDOW_MS = 30 * SECOND;
/** A pace measured over less than this is too noisy to go by, in ms. */
const PACE_MIN_SPAN_MS = 3 * SECOND;

/**
 * How fast the line moves lately: `servingUpTo` against the server's clock over the last half
 * minute. Admission follows the free units, not only the rate, so the pace can be far below the
 * admit rate when units are scarce (or zero while all are held).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const pace = new Pace();
 * pace.record(0, 10);
 * assert.equal(pace.perSecond(), undefined); // too soon to tell
 * pace.record(4_000, 30);
 * assert.equal(pace.perSecond(), 5);
 * ```
 */
export class Pace {
  /** @type {{ at: number, servingUpTo: number }[]} Readings, oldest first. */
  #readings = [];

  /**
   * Records where the line stood at a moment of the server's clock.
   *
   * @param {number} at The server's time, in ms.
   * @param {number} servingUpTo Where the line stood.
   * @returns {void}
   */
  record(at, servingUpTo) {
    const last = this.#readings.at(-1);
    // A reading from before the last one (a late message) or a line that went back (a new epoch)
    // says nothing of the pace: start again from it.
    if (last !== undefined && (at < last.at || servingUpTo < last.servingUpTo)) {
      this.#readings = [];
    }
    this.#readings.push({ at, servingUpTo });
    while (this.#readings.length > 2 && at - this.#readings[1].at >= PACE_WINDOW_MS) {
      this.#readings.shift();
    }
  }

  /** @returns {number | undefined} Admissions per second lately; undefined when too soon. */
  perSecond() {
    const first = this.#readings[0];
    const last = this.#readings.at(-1);
    if (first === undefined || last === undefined || last.at - first.at < PACE_MIN_SPAN_MS) {
      return undefined;
    }
    return (last.servingUpTo - first.servingUpTo) / ((last.at - first.at) / SECOND);
  }
}

/**
 * A shopper's place in the line: how many turns are still to come before theirs, theirs included.
 *
 * @param {number | null} number The shopper's number; null before the draw.
 * @param {number} servingUpTo Every number up to this one has had its turn.
 * @returns {number | undefined} 1 for "next", 0 once their turn has come; undefined before the
 * draw.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(positionOf(1_240, 6), 1_234);
 * assert.equal(positionOf(5, 9), 0);
 * assert.equal(positionOf(null, 9), undefined);
 * ```
 */
export function positionOf(number, servingUpTo) {
  if (number === null) return undefined;
  return Math.max(0, number - servingUpTo);
}

/**
 * How long until a place's turn comes, at the recent pace where there is one (never faster than
 * the admit rate), else at the admit rate.
 *
 * @param {number} position The place in line (see {@linkcode positionOf}).
 * @param {number} admitRate The shop's admissions per second at most.
 * @param {number | undefined} pace Admissions per second lately (see {@linkcode Pace}).
 * @returns {number | undefined} The wait in ms; undefined when the line does not move now.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(waitEstimate(1_200, 20, undefined), 60_000);
 * assert.equal(waitEstimate(1_200, 20, 2), 600_000);
 * assert.equal(waitEstimate(10, 20, 0), undefined);
 * ```
 */
export function waitEstimate(position, admitRate, pace) {
  const rate = pace === undefined ? admitRate : Math.min(pace, admitRate);
  if (!(rate > 0)) return undefined;
  return (position / rate) * SECOND;
}

/**
 * A countdown's words: hours and minutes, minutes and seconds, or seconds, rounded up.
 *
 * @param {number} ms How long, in ms.
 * @returns {string} E.g. "1 h 02 min", "3 min 05 s", "45 s".
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(durationText(HOUR_MS + 2 * 60_000 + 30_000), "1 h 02 min");
 * assert.equal(durationText(185_000), "3 min 05 s");
 * assert.equal(durationText(44_100), "45 s");
 * assert.equal(durationText(-5), "0 s");
 * ```
 */
export function durationText(ms) {
  const seconds = Math.max(0, Math.ceil(ms / SECOND));
  if (seconds >= HOUR / SECOND) {
    const hours = Math.floor(seconds / 3600);
    const minutes = Math.floor((seconds % 3600) / 60);
    return `${hours} h ${String(minutes).padStart(2, "0")} min`;
  }
  if (seconds >= 60) {
    return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, "0")} s`;
  }
  return `${seconds} s`;
}

/**
 * A wait's words, rough on purpose: an estimate shown to the second would promise too much.
 *
 * @param {number} ms The estimated wait, in ms.
 * @returns {string} E.g. "less than a minute", "about 3 minutes", "about 1 h 10 min".
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(estimateText(20_000), "less than a minute");
 * assert.equal(estimateText(150_000), "about 3 minutes");
 * assert.equal(estimateText(HOUR_MS + 10 * 60_000), "about 1 h 10 min");
 * ```
 */
export function estimateText(ms) {
  if (ms < MINUTE) return "less than a minute";
  const minutes = Math.round(ms / MINUTE);
  if (minutes < 60) return `about ${minutes} minute${minutes === 1 ? "" : "s"}`;
  return `about ${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, "0")} min`;
}

/**
 * A number with thousands separators, as the page's English says it.
 *
 * @param {number} value A whole number.
 * @returns {string} E.g. "1,234".
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(numberText(1234), "1,234");
 * ```
 */
export function numberText(value) {
  return new Intl.NumberFormat("en").format(value);
}

/**
 * A time of day on a 24-hour clock, in the shopper's own zone unless one is given.
 *
 * @param {number} ms The moment, in ms since the epoch.
 * @param {string} [timeZone] An IANA zone, e.g. "UTC"; the device's by default.
 * @returns {string} E.g. "18:00".
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(clockText(Date.UTC(2026, 11, 6, 18), "UTC"), "18:00");
 * ```
 */
export function clockText(ms, timeZone) {
  return new Intl.DateTimeFormat("en-GB", { hour: "2-digit", minute: "2-digit", timeZone })
    .format(ms);
}

/**
 * What the waiting room panel shows.
 *
 * @typedef {object} QueueView
 * @property {string} state A name for styles and tests: `before`, `join`, `waiting` (a ticket
 * before the draw), `numbered`, `admitted`, `done` (the turn was used or has passed), `soldOut`.
 * @property {string} status The news, for the live region: it changes only when something does.
 * @property {string} detail What ticks (a countdown, the estimate): kept out of the live region.
 * @property {boolean} canJoin The Join button is offered.
 * @property {boolean} canAdd It is the shopper's turn: Add is enabled.
 */

/**
 * What the panel shows for the room's status, the shopper's place and the time.
 *
 * @param {QueueStatus} status The room's latest status.
 * @param {QueueTicket} ticket The shopper's place (no ticket: `ticket` null).
 * @param {number} now The server's time now, in ms (see {@linkcode ServerClock}).
 * @param {{ pace?: number, inCart?: boolean, timeZone?: string }} [context] The line's recent
 * pace, whether the shopper holds the unit already, and the zone to tell times in.
 * @returns {QueueView} The panel's words and buttons.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const status = {
 *   product: "a", phase: "open" as const, opensAt: 0, serverTime: 0, commitment: "c", seed: "s",
 *   servingUpTo: 6, queued: 1_300, free: 50, held: 0, admitRate: 20, paused: false, version: 1,
 *   epoch: "e1",
 * };
 * const ticket = { ticket: "t", number: 3_606, admitted: false, admissionExpiresAt: NaN };
 * const view = queueView(status, ticket, 0);
 * assert.equal(view.status, "You're number 3,600 in line");
 * assert.equal(view.detail, "about 3 minutes");
 * assert.equal(view.canAdd, false);
 * ```
 */
export function queueView(status, ticket, now, context = {}) {
  const view = { status: "", detail: "", canJoin: false, canAdd: false };
  const drawAt = clockText(status.opensAt, context.timeZone);
  if (status.phase === "soldOut") {
    return { ...view, state: "soldOut", status: "Sold out", detail: "Every unit has gone." };
  }
  if (status.phase === "before") {
    return {
      ...view,
      state: "before",
      status: `Opens at ${drawAt}`,
      detail: `in ${durationText(status.opensAt - now)}`,
    };
  }
  if (ticket.ticket === null) {
    return {
      ...view,
      state: "join",
      status: status.phase === "queueing"
        ? `The line is open — the draw is at ${drawAt}`
        : "The line is open: join to get a number",
      detail: status.phase === "queueing"
        ? `Everyone who joins before ${drawAt} has the same chance.`
        : "",
      canJoin: true,
    };
  }
  if (status.phase === "queueing" || ticket.number === null) {
    return {
      ...view,
      state: "waiting",
      status: `You're in line — the draw is at ${drawAt}`,
      detail: `in ${durationText(status.opensAt - now)}`,
    };
  }
  if (ticket.admitted && ticket.admissionExpiresAt > now) {
    return {
      ...view,
      state: "admitted",
      status: "It's your turn: add it to your cart now",
      detail: `Your turn ends in ${durationText(ticket.admissionExpiresAt - now)}`,
      canAdd: true,
    };
  }
  const position = /** @type {number} */ (positionOf(ticket.number, status.servingUpTo));
  if (position === 0) {
    return {
      ...view,
      state: "done",
      status: context.inCart ? "It's in your cart" : "Your turn has passed",
      detail: context.inCart ? "Buy it before your hold ends." : "",
    };
  }
  const wait = waitEstimate(position, status.admitRate, context.pace);
  return {
    ...view,
    state: "numbered",
    status: `You're number ${numberText(position)} in line`,
    detail: status.paused
      ? "The shop has paused the line for now."
      : wait === undefined
      ? status.held > 0
        ? `All units are in carts: ${numberText(status.held)} may come back.`
        : "The line is not moving right now."
      : estimateText(wait),
  };
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
 * @returns {value is number}
 */
function isWholeNumber(value) {
  return Number.isSafeInteger(value) && /** @type {number} */ (value) >= 0;
}
