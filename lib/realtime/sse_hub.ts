/** Server-Sent Events on `GET /cart/status`: a stream per client, conflated when it stops reading. */
import type { ShoppingCart, StateMessage } from "../inventory/cart.ts";
import { PushThrottle } from "./push_throttle.ts";
import { forEachSliced } from "./sliced_loop.ts";
import { retryFrame } from "./sse_wire.ts";

/** How often an idle stream gets a comment line, so proxies and clients know it is alive, in ms. */
export const SSE_HEARTBEAT_MS = 15_000;

const encoder = new TextEncoder();
const HEARTBEAT = encoder.encode(": heartbeat\n\n");

/** One open stream: its controller, and what it missed while it was not reading. */
interface Stream {
  controller: ReadableStreamDefaultController<Uint8Array>;
  /** It skipped a state while it was not reading. */
  stale: boolean;
  /** At the last heartbeat it could take nothing, and it has read nothing since. */
  blocked: boolean;
}

/**
 * Keeps the open event streams and writes each change to all of them.
 *
 * A frame is encoded once per change and shared by every stream. A stream whose queue is not
 * empty (its client is not reading) is marked stale instead; when the client reads again it gets
 * only the newest state. So a slow reader holds at most one frame of ours. A stream that takes
 * nothing from one heartbeat to the next while data waits (its client stopped reading, or is gone
 * and its socket buffers are full) is ended and counted, so it does not hold a descriptor forever.
 * When writing to every stream is costly, changes that come faster than that are conflated
 * ({@linkcode PushThrottle}), and a push to thousands of streams runs in slices so that other
 * requests are answered between.
 */
export class SseHub {
  readonly #streams = new Set<Stream>();
  readonly #cart: ShoppingCart;
  #frame: { version: number; bytes: Uint8Array } | undefined;
  readonly #heartbeat: ReturnType<typeof setInterval>;
  readonly #throttle = new PushThrottle(() => this.#broadcast(this.#cart.current));
  readonly #unsubscribe: () => void;
  #slowClosed = 0;

  /**
   * Subscribes to the cart and starts the heartbeat.
   *
   * @param cart The cart whose changes are pushed.
   * @param heartbeatMs How often to send a comment to every idle stream.
   */
  constructor(cart: ShoppingCart, heartbeatMs: number = SSE_HEARTBEAT_MS) {
    this.#cart = cart;
    this.#unsubscribe = cart.subscribe(() => this.#throttle.request());
    // One timer for every stream, not one per stream.
    this.#heartbeat = setInterval(() => this.#beat(), heartbeatMs);
  }

  /** Streams currently open. */
  get size(): number {
    return this.#streams.size;
  }

  /** Streams ended so far for not reading. */
  get slowClosed(): number {
    return this.#slowClosed;
  }

  /**
   * Opens an event stream: a jittered `retry:` time, then the current state unless `Last-Event-ID`
   * already names it.
   *
   * @param request A request that accepts `text/event-stream`.
   * @returns The streaming response.
   */
  accept(request: Request): Response {
    const lastEventId = request.headers.get("last-event-id")?.trim();
    let entry: Stream;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        entry = { controller, stale: false, blocked: false };
        this.#streams.add(entry);
        controller.enqueue(retryFrame());
        const current = this.#cart.current;
        if (lastEventId !== String(current.state.version)) {
          controller.enqueue(this.#frameOf(current));
        }
      },
      pull: () => {
        entry.blocked = false;
        if (entry.stale) {
          entry.stale = false;
          entry.controller.enqueue(this.#frameOf(this.#cart.current));
        }
      },
      cancel: () => {
        this.#streams.delete(entry);
      },
    }, { highWaterMark: 1 });
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-store",
        "x-accel-buffering": "no",
      },
    });
  }

  /** Ends every stream and stops the heartbeat. For shutdown. */
  close(): void {
    this.#unsubscribe();
    this.#throttle.flush();
    clearInterval(this.#heartbeat);
    for (const entry of this.#streams) {
      try {
        entry.controller.close();
      } catch {
        // Already errored by a client that left.
      }
    }
    this.#streams.clear();
  }

  #frameOf(message: StateMessage): Uint8Array {
    const version = message.state.version;
    if (this.#frame?.version !== version) {
      this.#frame = {
        version,
        bytes: encoder.encode(`id: ${version}\ndata: ${message.json}\n\n`),
      };
    }
    return this.#frame.bytes;
  }

  #broadcast(message: StateMessage): void | Promise<void> {
    const frame = this.#frameOf(message);
    // A stream that catches up (pull) during a push in slices may get this frame twice, never an
    // older one after a newer one: a pass whose state is no longer the newest stops.
    return forEachSliced(this.#streams, (entry) => {
      if ((entry.controller.desiredSize ?? 0) > 0) {
        entry.controller.enqueue(frame);
      } else entry.stale = true;
    }, () => this.#cart.current.state.version === message.state.version);
  }

  #beat(): void {
    for (const entry of this.#streams) {
      if ((entry.controller.desiredSize ?? 0) > 0) {
        entry.controller.enqueue(HEARTBEAT);
      } else if (entry.blocked) {
        this.#slowClosed++;
        this.#streams.delete(entry);
        // error(), not close(): close() would wait for the client to read what is queued.
        // Deno logs the reason, one line per stream ended.
        entry.controller.error("ended an event stream that stopped reading");
      } else entry.blocked = true;
    }
  }
}
