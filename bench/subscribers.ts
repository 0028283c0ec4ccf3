/** Status subscribers for the load tools: one socket each, over WebSocket, SSE or long polling. */
import { RawHttpConnection } from "../tests/support/raw_http.ts";

/** The three ways a page can follow the cart. */
export const TRANSPORTS = ["ws", "sse", "poll"] as const;

/** One of {@linkcode TRANSPORTS}. */
export type Transport = typeof TRANSPORTS[number];

/** An open subscriber. */
export interface Subscriber {
  /** The newest version it has. */
  readonly version: number;
  /** Closes its socket; no more calls follow. */
  close(): void;
}

/** What a subscriber reports to its owner. */
export interface SubscriberEvents {
  /** A state newer than the one it had; `from` is the version it had before. */
  onVersion(from: number, to: number): void;
  /** A state it already had or an older one: a duplicated or reordered update. */
  onDuplicate(): void;
  /** Its connection failed after it had opened. */
  onLost(error: unknown): void;
}

/**
 * A version the cart never reached, so that a first long poll answers at once: the server answers
 * at once whenever `since` differs from its version (a client that saw another server's versions).
 */
const UNSEEN_VERSION = "999999999999999";

/**
 * Opens one subscriber and resolves once it has the current state.
 *
 * @param base The server's URL.
 * @param transport How to follow the cart.
 * @param events Where its news goes after the first state.
 * @returns The subscriber, holding the version of the first state it got.
 * @throws {Error} When it cannot connect or the server refuses it.
 */
export function openSubscriber(
  base: URL,
  transport: Transport,
  events: SubscriberEvents,
): Promise<Subscriber> {
  switch (transport) {
    case "ws":
      return openWebSocket(base, events);
    case "sse":
      return openEventStream(base, events);
    case "poll":
      return openLongPoll(base, events);
  }
}

/** Tracks one subscriber's version and sorts its messages into news and duplicates. */
class VersionTracker {
  version = -1;
  closed = false;
  readonly #first = Promise.withResolvers<void>();
  readonly #events: SubscriberEvents;

  constructor(events: SubscriberEvents) {
    this.#events = events;
  }

  get opened(): Promise<void> {
    return this.#first.promise;
  }

  see(version: number): void {
    if (this.closed) return;
    if (this.version < 0) {
      this.version = version;
      this.#first.resolve();
    } else if (version > this.version) {
      const from = this.version;
      this.version = version;
      this.#events.onVersion(from, version);
    } else this.#events.onDuplicate();
  }

  /** The handle its owner holds: the newest version, and a close that silences this tracker. */
  subscriber(closeSocket: () => void): Subscriber {
    const newest = () => this.version;
    return {
      get version() {
        return newest();
      },
      close: () => {
        this.closed = true;
        closeSocket();
      },
    };
  }

  fail(error: unknown): void {
    if (this.closed) return;
    this.closed = true;
    if (this.version < 0) this.#first.reject(error);
    else this.#events.onLost(error);
  }
}

async function openWebSocket(base: URL, events: SubscriberEvents): Promise<Subscriber> {
  const url = new URL("/cart/status", base);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  const tracker = new VersionTracker(events);
  const socket = new WebSocket(url);
  socket.onmessage = (event) => tracker.see(JSON.parse(event.data).version);
  socket.onerror = (event) => tracker.fail((event as ErrorEvent).message ?? "socket error");
  socket.onclose = (event) => tracker.fail(`closed with ${event.code}`);
  await tracker.opened;
  return tracker.subscriber(() => socket.close());
}

async function openEventStream(base: URL, events: SubscriberEvents): Promise<Subscriber> {
  const tracker = new VersionTracker(events);
  const connection = await RawHttpConnection.open(base);
  let pending = "";
  const status = await connection.stream("/cart/status", (text) => {
    pending += text;
    const end = pending.lastIndexOf("\n\n");
    if (end < 0) return;
    // Our ids are `<epoch>.<version>`; the bare baseline's are plain versions.
    for (const match of pending.slice(0, end).matchAll(/^id: (?:[0-9a-f]+\.)?(\d+)$/gm)) {
      tracker.see(Number(match[1]));
    }
    pending = pending.slice(end + 2);
  }, (error) => tracker.fail(error)).catch((error) => {
    connection.close();
    throw error;
  });
  if (status !== 200) {
    connection.close();
    throw new Error(`Event stream answered ${status}`);
  }
  await tracker.opened.catch((error) => {
    connection.close();
    throw error;
  });
  return tracker.subscriber(() => connection.close());
}

async function openLongPoll(base: URL, events: SubscriberEvents): Promise<Subscriber> {
  const tracker = new VersionTracker(events);
  const connection = await RawHttpConnection.open(base);
  const loop = async () => {
    let since = UNSEEN_VERSION;
    let known: number | undefined;
    while (!tracker.closed) {
      const { status, body } = await connection.send("GET", `/cart/status?since=${since}`);
      if (status !== 200) throw new Error(`Long poll answered ${status}: ${body}`);
      const { version, epoch } = JSON.parse(body);
      // The same version again is a poll that timed out, not a duplicate.
      if (version !== known) tracker.see(version);
      known = version;
      // Our server names its epoch; the bare baseline does not.
      since = epoch === undefined ? String(version) : `${epoch}.${version}`;
    }
  };
  loop().catch((error) => {
    connection.close();
    tracker.fail(error);
  });
  await tracker.opened;
  return tracker.subscriber(() => connection.close());
}
