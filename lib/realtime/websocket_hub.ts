/** WebSocket push: every open socket gets each new state of its topic, conflated for slow readers. */
import { Fanout } from "./fanout.ts";
import type { StateMessage } from "./message.ts";
import type { Topic } from "./topic.ts";
import { type Clock, systemClock } from "../time/clock.ts";

/** Limits that keep one slow reader from growing the server's memory. */
export interface WebSocketHubOptions {
  /** Above this many unsent bytes a socket is skipped and later sent only the newest state. */
  lagBytes: number;
  /** Above this many unsent bytes a socket is closed with 1008. */
  maxBufferedBytes: number;
  /** How often lagging sockets are checked for having drained, in ms. */
  drainCheckMs: number;
  /**
   * A socket that sends nothing (not even a pong) for half of this is pinged, and closed when
   * still silent at the end of it, in ms (whole seconds: Deno counts seconds); 0 turns pings off.
   */
  timeoutMs: number;
}

/** Defaults: a state message is small, so a socket this far behind has stopped reading. */
export const DEFAULT_WEBSOCKET_HUB_OPTIONS: WebSocketHubOptions = {
  lagBytes: 16 * 1024,
  maxBufferedBytes: 64 * 1024,
  drainCheckMs: 250,
  timeoutMs: 60_000,
};

/** Close code for a shutting-down server, or a product that is gone. */
export const CLOSE_GOING_AWAY = 1001;
/** Close code for a peer that broke our policy (here: stopped reading). */
export const CLOSE_POLICY_VIOLATION = 1008;

/**
 * Keeps the subscribed sockets of every topic and sends each change to them.
 *
 * One message is serialized per change and shared by every socket. A socket whose
 * `bufferedAmount` shows it is not reading is skipped; when it drains it gets the topic's current
 * state. Past `maxBufferedBytes` it is closed. After `close()` a new socket is closed with 1001 as
 * soon as it opens, so nothing outlives a shutdown.
 */
export class WebSocketHub {
  readonly #fanouts = new Map<Topic, Fanout<WebSocket>>();
  readonly #topicOf = new Map<WebSocket, Topic>();
  readonly #opening = new Set<WebSocket>();
  /** What to call when a socket ends, for the sockets accepted with one. */
  readonly #ends = new Map<WebSocket, () => void>();
  readonly #lagging = new Set<WebSocket>();
  readonly #options: WebSocketHubOptions;
  readonly #clock: Clock;
  #cancelDrainCheck: (() => void) | undefined;
  #slowClosed = 0;
  #closed = false;

  /**
   * Makes a hub with no socket; nothing starts until the first one is accepted.
   *
   * @param options Slow-reader limits and the ping timeout.
   * @param clock The timer of the drain checks.
   */
  constructor(
    options: WebSocketHubOptions = DEFAULT_WEBSOCKET_HUB_OPTIONS,
    clock: Clock = systemClock,
  ) {
    this.#options = options;
    this.#clock = clock;
  }

  /** Sockets currently subscribed. */
  get size(): number {
    return this.#topicOf.size - this.#opening.size;
  }

  /** Upgrades answered but not open yet; they hold a connection too. */
  get opening(): number {
    return this.#opening.size;
  }

  /** Sockets skipped by a change for not reading; they get the newest state on draining. */
  get lagging(): number {
    return this.#lagging.size;
  }

  /** Sockets closed so far for not reading. */
  get slowClosed(): number {
    return this.#slowClosed;
  }

  /**
   * Upgrades a request and subscribes the socket to a topic; it gets the topic's current state
   * as soon as it opens.
   *
   * @param request A request with `Upgrade: websocket`.
   * @param topic The topic to follow.
   * @param onEnd Called once when the socket ends, however it ends.
   * @returns The 101 response to return from the handler.
   */
  accept(request: Request, topic: Topic, onEnd?: () => void): Response {
    // Deno's idleTimeout is the only public way to send protocol pings, which browsers and Deno
    // clients answer by themselves, so a silent but live page is never dropped. Its timers are
    // per socket: a stall longer than half the timeout that starts while pings await their pongs
    // closes those sockets. Deno 2.9.6 exposes neither ping nor pong to JS.
    const { socket, response } = Deno.upgradeWebSocket(request, {
      idleTimeout: this.#options.timeoutMs / 1000,
    });
    this.#opening.add(socket);
    this.#topicOf.set(socket, topic);
    if (onEnd !== undefined) this.#ends.set(socket, onEnd);
    // Shared handlers that find their socket in the event: no closures per socket. Listeners, not
    // `onopen` and the like: each of those makes a wrapper, and the first a map, for every socket.
    socket.addEventListener("open", this.#onOpen);
    socket.addEventListener("close", this.#onEnd);
    socket.addEventListener("error", this.#onEnd);
    return response;
  }

  readonly #onOpen = (event: Event) => {
    const socket = event.target as WebSocket;
    const topic = this.#topicOf.get(socket);
    this.#opening.delete(socket);
    if (topic === undefined) return;
    if (this.#closed || topic.closed) {
      this.#close(socket, CLOSE_GOING_AWAY, this.#closed ? "server stopping" : "product gone");
      return;
    }
    socket.send(topic.opening());
    this.#fanoutOf(topic).add(socket);
  };

  readonly #onEnd = (event: Event) => this.#forget(event.target as WebSocket);

  /** Closes every socket with 1001 and stops following topics; later sockets are closed too. */
  close(): void {
    this.#closed = true;
    for (const fanout of this.#fanouts.values()) fanout.close();
    for (const socket of [...this.#topicOf.keys()]) {
      this.#close(socket, CLOSE_GOING_AWAY, "server stopping");
    }
  }

  #fanoutOf(topic: Topic): Fanout<WebSocket> {
    let fanout = this.#fanouts.get(topic);
    if (fanout === undefined) {
      fanout = new Fanout(topic, (socket, messages) => this.#deliver(socket, messages));
      this.#fanouts.set(topic, fanout);
    }
    return fanout;
  }

  #deliver(socket: WebSocket, messages: readonly StateMessage[]): void {
    const buffered = socket.bufferedAmount;
    if (buffered > this.#options.maxBufferedBytes) {
      this.#slowClosed++;
      this.#close(socket, CLOSE_POLICY_VIOLATION, "not reading");
    } else if (buffered > this.#options.lagBytes) {
      this.#lagging.add(socket);
      this.#scheduleDrainCheck();
    } else if (this.#lagging.delete(socket)) {
      // It skipped news while it lagged, maybe of other products than this push's (the catalog):
      // the topic's current state covers all of it.
      const topic = this.#topicOf.get(socket)!;
      socket.send(topic.opening());
      if (topic.closed || messages.some((message) => message.last)) {
        this.#close(socket, CLOSE_GOING_AWAY, "product gone");
      }
    } else {
      for (const message of messages) {
        socket.send(message.json);
        if (message.last) this.#close(socket, CLOSE_GOING_AWAY, "product gone");
      }
    }
  }

  #scheduleDrainCheck(): void {
    if (this.#cancelDrainCheck !== undefined) return;
    this.#cancelDrainCheck = this.#clock.setTimer(() => {
      this.#cancelDrainCheck = undefined;
      for (const socket of this.#lagging) {
        const topic = this.#topicOf.get(socket)!;
        // A push under way or waiting will reach this socket (or find it lagging still): sending
        // now could give it the same state twice.
        if (this.#fanouts.get(topic)?.passing) continue;
        if (socket.bufferedAmount <= this.#options.lagBytes) {
          this.#lagging.delete(socket);
          socket.send(topic.opening());
          if (topic.closed) this.#close(socket, CLOSE_GOING_AWAY, "product gone");
        }
      }
      if (this.#lagging.size > 0) this.#scheduleDrainCheck();
    }, this.#options.drainCheckMs);
  }

  #close(socket: WebSocket, code: number, reason: string): void {
    // Deno may not fire `close` for a close we start (deno#27924): forget the socket now.
    this.#forget(socket);
    try {
      socket.close(code, reason);
    } catch {
      // Already closing.
    }
  }

  #forget(socket: WebSocket): void {
    const end = this.#ends.get(socket);
    if (end !== undefined) {
      this.#ends.delete(socket);
      end();
    }
    const topic = this.#topicOf.get(socket);
    if (topic === undefined) return;
    this.#topicOf.delete(socket);
    this.#opening.delete(socket);
    this.#lagging.delete(socket);
    const fanout = this.#fanouts.get(topic);
    if (fanout !== undefined && fanout.delete(socket) && fanout.size === 0) {
      fanout.close();
      this.#fanouts.delete(topic);
    }
    if (this.#lagging.size === 0) {
      this.#cancelDrainCheck?.();
      this.#cancelDrainCheck = undefined;
    }
  }
}
