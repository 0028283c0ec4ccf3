/** Server-Sent Events: a stream per client on its topic, conflated when it stops reading. */
import { Fanout } from "./fanout.ts";
import type { StateMessage } from "./message.ts";
import type { Topic } from "./topic.ts";
import { type SseStream, SseStreams } from "./sse_streams.ts";
import { type Clock, systemClock } from "../time/clock.ts";

/** How often an idle stream gets a comment line, so proxies and clients know it is alive, in ms. */
export const SSE_HEARTBEAT_MS = 15_000;

const encoder = new TextEncoder();
const HEARTBEAT = encoder.encode(": heartbeat\n\n");

/** One open stream: its topic, and whether it missed a state while it was not reading. */
interface Stream extends SseStream {
  readonly topic: Topic;
  /** It skipped a state while it was not reading. */
  stale: boolean;
}

/**
 * Keeps the open event streams of every topic and writes each change to them.
 *
 * A frame (`id: <epoch>.<version>` and `data: <json>`) is encoded once per change and shared by
 * every stream. A stream whose queue is not empty (its client is not reading) is marked stale
 * instead; when the client reads again it gets the topic's current state. So a slow reader holds
 * at most one frame of ours. A stream that takes nothing from one heartbeat to the next while data
 * waits is ended and counted. After `close()` a new stream ends at once.
 */
export class SseHub {
  readonly #fanouts = new Map<Topic, Fanout<Stream>>();
  readonly #streams: SseStreams<Stream>;
  readonly #frames = new WeakMap<StateMessage, Uint8Array>();
  readonly #heartbeatMs: number;
  readonly #clock: Clock;
  #cancelHeartbeat: (() => void) | undefined;

  /**
   * Creates the SseHub.
   *
   * @param heartbeatMs How often to send a comment to every idle stream.
   * @param clock The heartbeat's timer.
   */
  constructor(heartbeatMs: number = SSE_HEARTBEAT_MS, clock: Clock = systemClock) {
    this.#heartbeatMs = heartbeatMs;
    this.#clock = clock;
    this.#streams = new SseStreams<Stream>({
      // Ended at the second heartbeat in a row that finds it not reading.
      maxMissed: 2,
      slowReason: "ended an event stream that stopped reading",
      onKeep: (entry) => {
        this.#fanoutOf(entry.topic).add(entry);
        this.#heartbeatSoon();
      },
      onPull: (entry) => {
        if (!entry.stale) return;
        entry.stale = false;
        entry.controller.enqueue(this.#openingFrame(entry.topic));
        if (entry.topic.closed) this.#streams.end(entry);
      },
      onForget: (entry) => this.#forget(entry),
    });
  }

  /** Streams currently open. */
  get size(): number {
    return this.#streams.size;
  }

  /** Streams ended so far for not reading. */
  get slowClosed(): number {
    return this.#streams.slowClosed;
  }

  /**
   * Opens an event stream on a topic: its current state first, unless `Last-Event-ID` names it.
   *
   * @param request A request that accepts `text/event-stream`.
   * @param topic The topic to follow.
   * @param preamble Bytes to send first (e.g. a `retry:` field).
   * @param onEnd Called once when the stream ends, however it ends.
   * @returns The streaming response.
   */
  accept(request: Request, topic: Topic, preamble?: Uint8Array, onEnd?: () => void): Response {
    const lastEventId = request.headers.get("last-event-id")?.trim();
    return this.#streams.open(
      (controller) => {
        if (preamble !== undefined) controller.enqueue(preamble);
        if (lastEventId !== topic.cursor()) controller.enqueue(this.#openingFrame(topic));
        return { controller, topic, stale: false, missed: 0 };
      },
      () => !topic.closed,
      onEnd,
    );
  }

  /** Ends every stream and stops the heartbeat; later streams end at once. For shutdown. */
  close(): void {
    for (const fanout of this.#fanouts.values()) fanout.close();
    this.#streams.close();
  }

  #fanoutOf(topic: Topic): Fanout<Stream> {
    let fanout = this.#fanouts.get(topic);
    if (fanout === undefined) {
      fanout = new Fanout(topic, (entry, messages) => this.#deliver(entry, messages));
      this.#fanouts.set(topic, fanout);
    }
    return fanout;
  }

  #deliver(entry: Stream, messages: readonly StateMessage[]): void {
    if (!this.#streams.hasRoom(entry)) {
      entry.stale = true;
      return;
    }
    for (const message of messages) {
      entry.controller.enqueue(this.#frameOf(message));
      if (message.last) this.#streams.end(entry);
    }
  }

  #openingFrame(topic: Topic): Uint8Array {
    return encoder.encode(`id: ${topic.cursor()}\ndata: ${topic.opening()}\n\n`);
  }

  #frameOf(message: StateMessage): Uint8Array {
    let frame = this.#frames.get(message);
    if (frame === undefined) {
      frame = encoder.encode(`id: ${message.cursor}\ndata: ${message.json}\n\n`);
      this.#frames.set(message, frame);
    }
    return frame;
  }

  /** Sets the heartbeat's timer, while a stream is open. */
  #heartbeatSoon(): void {
    if (this.#cancelHeartbeat !== undefined || this.#streams.size === 0) return;
    this.#cancelHeartbeat = this.#clock.setTimer(() => {
      this.#cancelHeartbeat = undefined;
      this.#beat();
      this.#heartbeatSoon();
    }, this.#heartbeatMs);
  }

  #beat(): void {
    for (const entry of this.#streams.values()) {
      if (this.#streams.hasRoom(entry)) entry.controller.enqueue(HEARTBEAT);
      else this.#streams.missedBeat(entry);
    }
  }

  #forget(entry: Stream): void {
    const fanout = this.#fanouts.get(entry.topic);
    if (fanout !== undefined && fanout.delete(entry) && fanout.size === 0) {
      fanout.close();
      this.#fanouts.delete(entry.topic);
    }
    if (this.#streams.size === 0) {
      this.#cancelHeartbeat?.();
      this.#cancelHeartbeat = undefined;
    }
  }
}
