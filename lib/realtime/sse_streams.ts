/** The open event streams of one kind: registry, back-pressure, slow-reader end and latch. */
import { eventStreamResponse } from "./sse_wire.ts";

/** One open event stream; its owner adds what it needs (its topic, what it missed). */
export interface SseStream {
  /** Where its frames go. */
  readonly controller: ReadableStreamDefaultController<Uint8Array>;
  /** Beats in a row that found it not reading; reset when it reads. */
  missed: number;
}

/** What the owner of streams does at their turns. */
export interface SseStreamsOptions<S extends SseStream> {
  /** Beats in a row a stream may find it not reading; at this many it is ended as slow. */
  readonly maxMissed: number;
  /** Why a slow stream is ended (Deno logs it, one line per stream). */
  readonly slowReason: string;
  /** A stream was kept open: start what it needs (a timer, a subscription). */
  readonly onKeep?: (stream: S) => void;
  /** Its client read everything sent: send it what it missed meanwhile. */
  readonly onPull?: (stream: S) => void;
  /** A stream left (ended, cancelled, or slow): forget what it held. */
  readonly onForget?: (stream: S) => void;
}

/**
 * Keeps open event streams. Each holds at most one frame queued (`highWaterMark: 1`): a frame
 * sent to a stream with no room is the owner's to keep until its client reads again
 * (`onPull`), so a slow reader never grows the server's memory. A stream that a beat after beat
 * finds not reading is ended. After `close()` a new stream gets its first frames and ends.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const streams = new SseStreams<SseStream>({ maxMissed: 2, slowReason: "slow" });
 * const hello = new TextEncoder().encode("data: hi\n\n");
 * const response = streams.open((controller) => {
 *   controller.enqueue(hello);
 *   return { controller, missed: 0 };
 * });
 * assert.equal(streams.size, 1);
 * streams.close();
 * assert.equal(await response.text(), "data: hi\n\n");
 * assert.equal(streams.size, 0);
 * ```
 */
export class SseStreams<S extends SseStream> {
  readonly #streams = new Set<S>();
  /** What to call when a stream ends, for the streams opened with one. */
  readonly #ends = new Map<S, () => void>();
  readonly #options: SseStreamsOptions<S>;
  #slowClosed = 0;
  #closed = false;

  /**
   * Makes an empty set of streams.
   *
   * @param options The slow-reader limit and the owner's hooks.
   */
  constructor(options: SseStreamsOptions<S>) {
    this.#options = options;
  }

  /** Streams open now. */
  get size(): number {
    return this.#streams.size;
  }

  /** Streams ended so far for not reading. */
  get slowClosed(): number {
    return this.#slowClosed;
  }

  /** Whether `close()` was called: new streams end after their first frames. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Opens a stream.
   *
   * @param start Sends the first frames and makes the stream's entry.
   * @param stays Whether to keep it open after its first frames (e.g. its topic still lives).
   * @param onEnd Called once when the stream ends, however it ends.
   * @returns The streaming response.
   */
  open(
    start: (controller: ReadableStreamDefaultController<Uint8Array>) => S,
    stays: (stream: S) => boolean = () => true,
    onEnd?: () => void,
  ): Response {
    let entry: S;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        entry = start(controller);
        if (this.#closed || !stays(entry)) {
          controller.close();
          onEnd?.();
          return;
        }
        this.#streams.add(entry);
        if (onEnd !== undefined) this.#ends.set(entry, onEnd);
        this.#options.onKeep?.(entry);
      },
      pull: () => {
        entry.missed = 0;
        this.#options.onPull?.(entry);
      },
      cancel: () => this.#forget(entry),
    }, { highWaterMark: 1 });
    return eventStreamResponse(body);
  }

  /** The streams open now, to iterate; one may be ended while iterating. */
  values(): SetIterator<S> {
    return this.#streams.values();
  }

  /**
   * Whether a stream's client has read all it was sent.
   *
   * @param stream The stream.
   * @returns True when a frame fits.
   */
  hasRoom(stream: S): boolean {
    return (stream.controller.desiredSize ?? 0) > 0;
  }

  /**
   * Counts a beat that found a stream not reading, and ends it as slow at the limit.
   *
   * @param stream The stream.
   */
  missedBeat(stream: S): void {
    if (++stream.missed < this.#options.maxMissed) return;
    this.#slowClosed++;
    this.#forget(stream);
    // error(), not close(): close() would wait for the client to read what is queued.
    stream.controller.error(this.#options.slowReason);
  }

  /**
   * Ends a stream once its client has read what is queued.
   *
   * @param stream The stream.
   */
  end(stream: S): void {
    this.#forget(stream);
    try {
      stream.controller.close();
    } catch {
      // Already errored by a client that left.
    }
  }

  /** Ends every stream; later streams end after their first frames. For shutdown. */
  close(): void {
    this.#closed = true;
    for (const stream of [...this.#streams]) this.end(stream);
  }

  #forget(stream: S): void {
    if (!this.#streams.delete(stream)) return;
    this.#options.onForget?.(stream);
    const end = this.#ends.get(stream);
    if (end === undefined) return;
    this.#ends.delete(stream);
    end();
  }
}
