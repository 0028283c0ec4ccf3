/** WebSocket push on `GET /cart/status`: every open socket gets each new state, conflated for slow readers. */
import type { ShoppingCart, StateMessage } from "../inventory/cart.ts";
import { PushThrottle } from "./push_throttle.ts";
import { forEachSliced } from "./sliced_loop.ts";

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

/** Defaults: a state message is ~40 bytes, so a socket 16 KiB behind has stopped reading. */
export const DEFAULT_WEBSOCKET_HUB_OPTIONS: WebSocketHubOptions = {
  lagBytes: 16 * 1024,
  maxBufferedBytes: 64 * 1024,
  drainCheckMs: 250,
  timeoutMs: 60_000,
};

/** Close code for a shutting-down server. */
export const CLOSE_GOING_AWAY = 1001;
/** Close code for a peer that broke our policy (here: stopped reading). */
export const CLOSE_POLICY_VIOLATION = 1008;

/**
 * Keeps the set of subscribed sockets and sends each change to all of them.
 *
 * One cart subscription serves every socket: the message is serialized once per change. A socket
 * whose `bufferedAmount` shows it is not reading is skipped; when it drains it gets only the newest
 * state. Past `maxBufferedBytes` it is closed. When pushing to every socket is costly, changes that
 * come faster than that are conflated ({@linkcode PushThrottle}), and a push to thousands of
 * sockets runs in slices so that other requests are answered in between.
 */
export class WebSocketHub {
  readonly #sockets = new Set<WebSocket>();
  readonly #opening = new Set<WebSocket>();
  readonly #lagging = new Set<WebSocket>();
  readonly #options: WebSocketHubOptions;
  readonly #cart: ShoppingCart;
  #drainTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #throttle = new PushThrottle(() => this.#broadcast(this.#cart.current));
  /** A push in slices is under way. */
  #passing = false;
  #unsubscribe: () => void;
  #slowClosed = 0;

  /**
   * @param cart The cart whose changes are pushed.
   * @param options Slow-reader limits.
   */
  constructor(
    cart: ShoppingCart,
    options: WebSocketHubOptions = DEFAULT_WEBSOCKET_HUB_OPTIONS,
  ) {
    this.#cart = cart;
    this.#options = options;
    this.#unsubscribe = cart.subscribe(() => this.#throttle.request());
  }

  /** Sockets currently subscribed. */
  get size(): number {
    return this.#sockets.size;
  }

  /** Upgrades answered but not open yet; they hold a connection too. */
  get opening(): number {
    return this.#opening.size;
  }

  /** Sockets skipped by the last change for not reading; they get the newest state on draining. */
  get lagging(): number {
    return this.#lagging.size;
  }

  /** Sockets closed so far for not reading. */
  get slowClosed(): number {
    return this.#slowClosed;
  }

  /**
   * Upgrades a request and subscribes the socket; it gets the current state as soon as it opens.
   *
   * @param request A request with `Upgrade: websocket`.
   * @returns The 101 response to return from the handler.
   */
  accept(request: Request): Response {
    // Deno's idleTimeout is the only public way to send protocol pings, which browsers and Deno
    // clients answer by themselves, so a silent but live page is never dropped. Its timers are
    // per socket: one stall, however long, only delays the pings (tests/heartbeat_test.ts), but a
    // stall longer than half the timeout that starts while pings await their pongs closes those
    // sockets. At the default 60 s that takes a 30 s stall; pings from one shared sweep would
    // avoid it, but Deno 2.9.6 exposes neither ping nor pong to JS.
    const { socket, response } = Deno.upgradeWebSocket(request, {
      idleTimeout: this.#options.timeoutMs / 1000,
    });
    this.#opening.add(socket);
    socket.onopen = () => {
      this.#opening.delete(socket);
      this.#sockets.add(socket);
      socket.send(this.#cart.current.json);
    };
    socket.onclose = () => this.#forget(socket);
    socket.onerror = () => this.#forget(socket);
    return response;
  }

  /** Closes every socket with 1001 and stops listening to the cart. For shutdown. */
  close(): void {
    this.#unsubscribe();
    this.#throttle.flush();
    for (const socket of [...this.#sockets, ...this.#opening]) {
      this.#close(socket, CLOSE_GOING_AWAY, "server stopping");
    }
  }

  #broadcast(message: StateMessage): void | Promise<void> {
    const done = forEachSliced(
      this.#sockets,
      (socket) => this.#deliver(socket, message),
      // A newer state has come: stop, so that no socket gets this one after the newer one (from
      // the drain check, or a socket that joined); the throttle sends the newer one to all next.
      () => this.#cart.current.state.version === message.state.version,
    );
    if (done === undefined) {
      this.#checkLagging();
      return;
    }
    this.#passing = true;
    return done.finally(() => {
      this.#passing = false;
      this.#checkLagging();
    });
  }

  #deliver(socket: WebSocket, message: StateMessage): void {
    const buffered = socket.bufferedAmount;
    if (buffered > this.#options.maxBufferedBytes) {
      this.#slowClosed++;
      this.#close(socket, CLOSE_POLICY_VIOLATION, "not reading");
    } else if (buffered > this.#options.lagBytes) {
      this.#lagging.add(socket);
    } else {
      this.#lagging.delete(socket);
      socket.send(message.json);
    }
  }

  #checkLagging(): void {
    if (this.#lagging.size > 0) this.#scheduleDrainCheck();
  }

  #scheduleDrainCheck(): void {
    if (this.#drainTimer !== undefined) return;
    this.#drainTimer = setTimeout(() => {
      this.#drainTimer = undefined;
      // A push in slices will reach these sockets (or has found them lagging still): sending now
      // could give one the same state twice.
      if (this.#passing) return this.#scheduleDrainCheck();
      for (const socket of this.#lagging) {
        if (socket.bufferedAmount <= this.#options.lagBytes) {
          this.#lagging.delete(socket);
          socket.send(this.#cart.current.json);
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
    this.#opening.delete(socket);
    this.#sockets.delete(socket);
    this.#lagging.delete(socket);
    if (this.#lagging.size === 0 && this.#drainTimer !== undefined) {
      clearTimeout(this.#drainTimer);
      this.#drainTimer = undefined;
    }
  }
}
