/** Every transport of live status: WebSocket, event stream, long poll, and the demo's echo. */
import type { Clock } from "../time/clock.ts";
import { DeadlineQueue } from "../time/deadline_queue.ts";
import { EchoSockets } from "./echo_sockets.ts";
import { longPollResponse, type PollCount } from "./long_poll.ts";
import type { Since } from "./message.ts";
import { PollGate } from "./poll_gate.ts";
import { SseHub } from "./sse_hub.ts";
import { refusalStream, retryFrame } from "./sse_wire.ts";
import type { Topic } from "./topic.ts";
import { DEFAULT_WEBSOCKET_HUB_OPTIONS, WebSocketHub } from "./websocket_hub.ts";

/** The timing of the three transports. */
export interface SubscriptionOptions {
  /** How long a long poll waits for a change before answering the current state, in ms. */
  readonly pollTimeoutMs: number;
  /** A WebSocket silent this long is pinged at half of it and closed if still silent, in ms. */
  readonly websocketTimeoutMs: number;
  /** How often an event stream gets a heartbeat comment, in ms. */
  readonly sseHeartbeatMs: number;
}

/** The subscriber counts of every transport, as /metrics shows them. */
export interface SubscriberCounts {
  /** WebSocket subscribers connected now. */
  websocketSubscribers: number;
  /** Event streams open now. */
  sseSubscribers: number;
  /** WebSockets not reading now, waiting to drain before they get the newest state. */
  websocketLagging: number;
  /** WebSockets closed for not reading, since start. */
  websocketSlowClosed: number;
  /** Event streams ended for not reading, since start. */
  sseSlowClosed: number;
}

/** The subscribers of every topic, by transport, and the count of connections they hold. */
export class Subscriptions {
  readonly #websockets: WebSocketHub;
  readonly #streams: SseHub;
  readonly #echoes = new EchoSockets();
  readonly #clock: Clock;
  readonly #gates = new Map<Topic, PollGate>();
  /** One for every topic: every long poll waits as long as the others. */
  readonly #pollDeadlines: DeadlineQueue;
  /** Long polls from their first line to their answer, through the gate included. */
  readonly #longPolls: PollCount = { open: 0 };

  /**
   * Makes the hubs; none starts anything until its first subscriber.
   *
   * @param options The transports' timing.
   * @param clock The timers of every transport, and the draws of their `retry:` fields.
   */
  constructor(options: SubscriptionOptions, clock: Clock) {
    this.#clock = clock;
    this.#websockets = new WebSocketHub({
      ...DEFAULT_WEBSOCKET_HUB_OPTIONS,
      timeoutMs: options.websocketTimeoutMs,
    }, clock);
    this.#streams = new SseHub(options.sseHeartbeatMs, clock);
    this.#pollDeadlines = new DeadlineQueue(options.pollTimeoutMs, clock);
  }

  /** Long polls, event streams and WebSockets (opening ones and echo sockets too) held now. */
  get connections(): number {
    return this.#longPolls.open + this.#websockets.opening + this.#websockets.size +
      this.#streams.size + this.#echoes.size;
  }

  /** The subscriber counts of /metrics. */
  gauges(): SubscriberCounts {
    return {
      websocketSubscribers: this.#websockets.size,
      sseSubscribers: this.#streams.size,
      websocketLagging: this.#websockets.lagging,
      websocketSlowClosed: this.#websockets.slowClosed,
      sseSlowClosed: this.#streams.slowClosed,
    };
  }

  /**
   * Upgrades a request to a WebSocket that follows a topic.
   *
   * @param request A request with `Upgrade: websocket`.
   * @param topic The topic.
   * @param onEnd Called once when the socket ends.
   * @returns The 101 response.
   */
  websocket(request: Request, topic: Topic, onEnd?: () => void): Response {
    return this.#websockets.accept(request, topic, onEnd);
  }

  /**
   * Opens an event stream that follows a topic, with a `retry:` for its reconnects.
   *
   * @param request A request that accepts `text/event-stream`.
   * @param topic The topic.
   * @param onEnd Called once when the stream ends.
   * @returns The streaming response.
   */
  stream(request: Request, topic: Topic, onEnd?: () => void): Response {
    return this.#streams.accept(request, topic, retryFrame(() => this.#clock.random()), onEnd);
  }

  /**
   * Answers an event-stream request refused for the connection limit: a stream that ends at once
   * and asks its client to come back later (an `EventSource` given a 503 stops for good).
   *
   * @returns The 200 stream with no event in it.
   */
  refusedStream(): Response {
    return refusalStream(() => this.#clock.random());
  }

  /**
   * Answers a long poll on a topic: at once when the client is elsewhere, else at the next
   * change or when its time runs out.
   *
   * @param request The request; its signal takes the poll out when the client leaves.
   * @param topic The topic.
   * @param since Where the client stands.
   * @param onEnd Called once when the poll is answered.
   * @returns The topic's state with `Cache-Control: no-store`.
   */
  longPoll(
    request: Request,
    topic: Topic,
    since: Since | undefined,
    onEnd?: () => void,
  ): Promise<Response> {
    let gate = this.#gates.get(topic);
    if (gate === undefined) {
      gate = new PollGate(topic);
      this.#gates.set(topic, gate);
    }
    const answer = longPollResponse(
      topic,
      gate,
      this.#pollDeadlines,
      request,
      since,
      this.#longPolls,
    );
    if (onEnd !== undefined) void answer.then(onEnd);
    return answer;
  }

  /**
   * Upgrades a request to the demo's echo socket, which holds a connection until it closes.
   *
   * @param request A request with `Upgrade: websocket`.
   * @returns The 101 response.
   */
  echo(request: Request): Response {
    return this.#echoes.accept(request);
  }

  /** Ends every subscription, and closes the echo sockets. */
  close(): void {
    // The polls just released pass the gates at once, not after a pause a storm had set.
    for (const gate of this.#gates.values()) gate.flush();
    this.#websockets.close();
    this.#streams.close();
    this.#echoes.close();
  }
}
