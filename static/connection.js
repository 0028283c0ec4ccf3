// A page's one live connection to a feed: WebSocket, then SSE, then long polling, and its indicator.
// @ts-check
/// <reference lib="dom" />
import { backoffDelay } from "./live_state.js";

/** Transports in order of preference, by the name `?transport=` uses. */
export const TRANSPORTS = ["ws", "sse", "poll"];
const TRANSPORT_NAMES = { ws: "WebSocket", sse: "Server-Sent Events", poll: "long polling" };
/** A long poll answers within the server's poll timeout (25 s by default); past this it is lost. */
const POLL_DEADLINE_MS = 60_000;
/**
 * A version no topic reaches (the largest a `since` may carry). A connection's first poll names
 * it, so that the server answers at once with the state as it is: that answer tells the page the
 * connection works, where `since` = the state shown would wait for the next change.
 */
const UNREACHED_VERSION = 999_999_999_999_999;

/**
 * @typedef {object} Feed
 * @property {string} url The feed's path and query, e.g. `/cart/status?product=moon-pin`, or its
 * whole URL on another origin (a page that embeds our count).
 * @property {() => string} epoch The epoch the page shows, for the `since` of a first poll; "" when
 * it shows none yet.
 * @property {(value: unknown) => boolean} onMessage Takes a parsed message; returns false when it
 * is not one of the feed's (the first one that is tells that the connection works).
 * @property {(value: unknown) => string | undefined} cursorOf Where a long poll's answer stands
 * (`<epoch>.<version>`), the `since` of the next poll; undefined when it is not an answer.
 * @property {() => void} [onGone] The feed answered 404 or 410: its product is no longer on sale.
 * Without it such an answer counts as a lost connection.
 * @property {string} [indicator] The id of the indicator that shows this connection (`live` by
 * default): a page with a second feed (the waiting room's) shows it apart from the stock's.
 * @property {(state: ConnectionState, transport: string, attempt: number) => void} [onConnection]
 * Shows the connection instead of the page's indicator (an element with its own shadow DOM).
 */

/** @typedef {"connecting" | "live" | "reconnecting" | "ended"} ConnectionState */

/**
 * @typedef {object} Listener
 * @property {(text: string) => void} onText A message arrived, as JSON text.
 * @property {(value: unknown) => void} onAnswer A long poll answered, parsed.
 * @property {() => void} onLost The connection ended or failed; called at most once.
 * @property {() => void} onGone The feed answered 404 or 410.
 */

/** @type {Record<string, (feed: Feed, listener: Listener) => () => void>} Each opens one
 * connection and returns what closes it without telling the listener. */
const OPENERS = {
  ws(feed, listener) {
    const url = new URL(feed.url, location.href);
    // The feed's own scheme: a page on https may follow a feed elsewhere, and the other way round.
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(url);
    socket.onmessage = (event) => listener.onText(event.data);
    socket.onclose = () => listener.onLost();
    return () => {
      socket.onclose = null;
      socket.close();
    };
  },
  sse(feed, listener) {
    const source = new EventSource(feed.url);
    source.onmessage = (event) => listener.onText(event.data);
    // EventSource would retry on its own, every few seconds and all pages at once: we close it
    // and retry with our own jittered backoff instead.
    source.onerror = () => {
      source.close();
      listener.onLost();
    };
    return () => source.close();
  },
  poll(feed, listener) {
    const stop = new AbortController();
    (async () => {
      let since = firstCursor(feed);
      try {
        for (;;) {
          const answer = await pollFeed(feed, since, stop.signal);
          const cursor = feed.cursorOf(answer);
          if (cursor === undefined) throw new TypeError("Long poll answered no state");
          listener.onAnswer(answer);
          // Ask past what this server last said, not what the page shows: after a restart the
          // page may show a state of the old epoch that the answer did not replace.
          since = cursor;
        }
      } catch (error) {
        if (stop.signal.aborted) return;
        if (error instanceof GoneError) listener.onGone();
        else listener.onLost();
      }
    })();
    return () => stop.abort();
  },
};

/** The feed answered 404 or 410: what it tells of is no longer on sale. */
class GoneError extends Error {}

/**
 * @param {Feed} feed
 * @returns {string} A `since` the server answers at once.
 */
function firstCursor(feed) {
  const epoch = feed.epoch();
  // A version alone that no topic reaches is answered at once too.
  return epoch === "" ? String(UNREACHED_VERSION) : `${epoch}.${UNREACHED_VERSION}`;
}

/**
 * Long-polls a feed once.
 *
 * @param {Feed} feed The feed.
 * @param {string} since Where the page stands, `<epoch>.<version>`.
 * @param {AbortSignal} signal Ends the poll.
 * @returns {Promise<unknown>} The parsed answer.
 * @throws {GoneError} When the feed answers 404 or 410.
 * @throws {Error} When the server cannot be reached or answers anything else but 200.
 */
async function pollFeed(feed, since, signal) {
  const separator = feed.url.includes("?") ? "&" : "?";
  const response = await fetch(`${feed.url}${separator}since=${encodeURIComponent(since)}`, {
    cache: "no-store",
    signal: AbortSignal.any([signal, AbortSignal.timeout(POLL_DEADLINE_MS)]),
  });
  if (response.status === 404 || response.status === 410) {
    await response.body?.cancel();
    throw new GoneError(`Long poll answered ${response.status}`);
  }
  if (!response.ok) throw new Error(`Long poll answered ${response.status}`);
  return await response.json();
}

/**
 * The transports a page tries: the one `?transport=` forces, or all of them in order.
 *
 * @param {string} search The page URL's query, e.g. `location.search`.
 * @returns {string[]} Transport names.
 */
export function transportsOf(search) {
  const forced = new URLSearchParams(search).get("transport");
  return TRANSPORTS.includes(forced ?? "") ? [/** @type {string} */ (forced)] : [...TRANSPORTS];
}

/**
 * Shows how the page is connected in its `#live` indicator (`#live-text` holds the words); a
 * count that is not live is marked on `<body data-connection>` so the page can show it as the
 * last one known.
 *
 * @param {ConnectionState} state
 * @param {string} transport One of {@linkcode TRANSPORTS}.
 * @param {number} attempt Failed attempts so far, shown to tests and the curious.
 * @param {string} indicator The indicator's id (its words are in `<id>-text`); only the page's main
 * one, `live`, marks `<body data-connection>`, which fades the count.
 */
export function showConnection(state, transport, attempt, indicator = "live") {
  const live = /** @type {HTMLElement} */ (document.getElementById(indicator));
  const text = /** @type {HTMLElement} */ (document.getElementById(`${indicator}-text`));
  const name = TRANSPORT_NAMES[/** @type {keyof TRANSPORT_NAMES} */ (transport)];
  live.dataset.state = state;
  live.dataset.transport = transport;
  live.dataset.attempt = String(attempt);
  if (indicator === "live") document.body.dataset.connection = state;
  const words = state === "live"
    ? `Live via ${name}`
    : state === "connecting"
    ? `Connecting via ${name}…`
    : state === "reconnecting"
    ? `Connection lost — reconnecting via ${name}…`
    : "Updates ended";
  if (text.textContent !== words) text.textContent = words;
}

/**
 * Keeps one connection to a feed open. A transport that has never worked falls through to the
 * next one at once; once one has worked the page stays with it and retries it with jittered
 * backoff. A push transport that fails before its first message is checked with one long poll,
 * which alone can see a 404 or 410: then, as after `stop()`, nothing reconnects.
 *
 * @param {Feed} feed What to follow.
 * @param {string[]} candidates Transports to try, in order (see {@linkcode transportsOf}).
 * @returns {{ stop(): void }} Ends the connection for good and says so in the indicator.
 */
export function keepConnected(feed, candidates) {
  let index = 0;
  let attempt = 0;
  let everLive = false;
  let stopped = false;
  /** @type {() => void} */
  let close = () => {};
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  /** @type {(state: ConnectionState, transport: string, attempt: number) => void} */
  const show = feed.onConnection ??
    ((state, transport, attempt) => showConnection(state, transport, attempt, feed.indicator));

  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearTimeout(timer);
    close();
    show("ended", candidates[index], attempt);
  };
  const gone = () => {
    stop();
    feed.onGone?.();
  };

  const connect = () => {
    const transport = candidates[index];
    let isLive = false;
    let ended = false;
    const becomeLive = () => {
      if (isLive || stopped) return;
      isLive = true;
      everLive = true;
      candidates = [transport];
      index = 0;
      attempt = 0;
      show("live", transport, attempt);
    };
    const retry = () => {
      if (stopped) return;
      if (!isLive && index + 1 < candidates.length) {
        index++;
        connect();
        return;
      }
      index = 0;
      const delay = backoffDelay(attempt);
      attempt++;
      show(everLive ? "reconnecting" : "connecting", transport, attempt);
      timer = setTimeout(connect, delay);
    };
    show(everLive ? "reconnecting" : "connecting", transport, attempt);
    close = OPENERS[transport](feed, {
      onText(text) {
        let value;
        try {
          value = JSON.parse(text);
        } catch {
          return;
        }
        // The server sends the current state as soon as a push connection opens.
        if (feed.onMessage(value)) becomeLive();
      },
      onAnswer(value) {
        becomeLive();
        feed.onMessage(value);
      },
      onLost() {
        if (ended || stopped) return;
        ended = true;
        if (isLive || transport === "poll") {
          retry();
          return;
        }
        // A refused upgrade or stream shows no status code: one poll tells a product that is
        // gone from a server that is away or a proxy that refuses this transport.
        const probe = new AbortController();
        close = () => probe.abort();
        pollFeed(feed, firstCursor(feed), probe.signal).then(
          (answer) => {
            feed.onMessage(answer);
            retry();
          },
          (error) => {
            if (probe.signal.aborted) return;
            if (error instanceof GoneError && feed.onGone) gone();
            else retry();
          },
        );
      },
      onGone() {
        if (feed.onGone) gone();
        else this.onLost();
      },
    });
  };
  connect();
  return { stop };
}
