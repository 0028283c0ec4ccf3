/** Live status for subscribers: one topic served as WebSocket, event stream or long poll. */
import type { Inventory } from "../inventory/inventory.ts";
import { DeadlineQueue } from "../time/deadline_queue.ts";
import { PollGate } from "../realtime/poll_gate.ts";
import { SseHub } from "../realtime/sse_hub.ts";
import { refusalStream, retryFrame } from "../realtime/sse_wire.ts";
import type { Topic } from "../realtime/topic.ts";
import type { Topics } from "../realtime/topics.ts";
import { EchoSockets } from "../realtime/echo_sockets.ts";
import { DEFAULT_WEBSOCKET_HUB_OPTIONS, WebSocketHub } from "../realtime/websocket_hub.ts";
import { ConnectionLimit, isEventStream, isUpgrade } from "./guards.ts";
import type { RequestHead } from "./request_head.ts";
import { HttpError } from "./http_error.ts";
import { longPollResponse, type PollCount, sinceOf } from "./long_poll.ts";
import type { Gauges } from "./monitoring.ts";

/** The timing of the three transports, and how many connections they may hold. */
export interface SubscriptionOptions {
  /** Long polls, event streams and WebSockets held at once; past it new ones are refused. */
  readonly maxConnections: number;
  /** How long a long poll waits for a change before answering the current state, in ms. */
  readonly pollTimeoutMs: number;
  /** A WebSocket silent this long is pinged at half of it and closed if still silent, in ms. */
  readonly websocketTimeoutMs: number;
  /** How often an event stream gets a heartbeat comment, in ms. */
  readonly sseHeartbeatMs: number;
}

/** The subscribers of every topic, by transport, and the count of connections they hold. */
export class Subscriptions {
  readonly #websockets: WebSocketHub;
  readonly #streams: SseHub;
  readonly #echoes = new EchoSockets();
  readonly #gates = new Map<Topic, PollGate>();
  /** One for every topic: every long poll waits as long as the others. */
  readonly #pollDeadlines: DeadlineQueue;
  /** Long polls from their first line to their answer, through the gate included. */
  readonly #longPolls: PollCount = { open: 0 };

  /** The limit on the connections held here; its guard goes on the routes that subscribe. */
  readonly limit: ConnectionLimit;

  /**
   * Makes the hubs; none starts anything until its first subscriber.
   *
   * @param options The transports' timing and the connection limit.
   */
  constructor(options: SubscriptionOptions) {
    this.#websockets = new WebSocketHub({
      ...DEFAULT_WEBSOCKET_HUB_OPTIONS,
      timeoutMs: options.websocketTimeoutMs,
    });
    this.#streams = new SseHub(options.sseHeartbeatMs);
    this.#pollDeadlines = new DeadlineQueue(options.pollTimeoutMs);
    this.limit = new ConnectionLimit(options.maxConnections, () => this.connections);
  }

  /** Long polls, event streams and WebSockets (opening ones and echo sockets too) held now. */
  get connections(): number {
    return this.#longPolls.open + this.#websockets.opening + this.#websockets.size +
      this.#streams.size + this.#echoes.size;
  }

  /** The subscriber counts of /metrics. */
  gauges(): Pick<
    Gauges,
    | "websocketSubscribers"
    | "sseSubscribers"
    | "websocketLagging"
    | "websocketSlowClosed"
    | "sseSlowClosed"
  > {
    return {
      websocketSubscribers: this.#websockets.size,
      sseSubscribers: this.#streams.size,
      websocketLagging: this.#websockets.lagging,
      websocketSlowClosed: this.#websockets.slowClosed,
      sseSlowClosed: this.#streams.slowClosed,
    };
  }

  /**
   * Serves a topic by the transport the request asks for: upgrade, event stream, else long poll.
   *
   * @param request The request.
   * @param head Its head (which transport it asks for).
   * @param url Its parsed URL (`since` for a long poll).
   * @param topic The topic.
   * @returns The response.
   * @throws {HttpError} 400 for a bad `since`.
   */
  subscribe(
    request: Request,
    head: RequestHead,
    url: URL,
    topic: Topic,
  ): Response | Promise<Response> {
    const since = sinceOf(url);
    if (isUpgrade(head)) return this.#websockets.accept(request, topic);
    if (isEventStream(head)) {
      return this.limit.hasRoom()
        ? this.#streams.accept(request, topic, retryFrame())
        : refusalStream();
    }
    let gate = this.#gates.get(topic);
    if (gate === undefined) {
      gate = new PollGate(topic);
      this.#gates.set(topic, gate);
    }
    return longPollResponse(topic, gate, this.#pollDeadlines, request, since, this.#longPolls);
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

/**
 * The topic of the product a status request names, or of the only product.
 *
 * @param inventory The inventory.
 * @param topics The topics.
 * @param url The request's URL, with `product` unless the shop sells one product.
 * @returns The product's topic.
 * @throws {HttpError} 400 for a missing or repeated `product`, 404 for an unknown one, 410 for a
 *   retired one.
 */
export function productTopicOf(inventory: Inventory, topics: Topics, url: URL): Topic {
  const values = url.searchParams.getAll("product");
  if (values.length > 1) throw new HttpError(400, 'Parameter "product" is given more than once');
  let id = values[0];
  if (id === undefined) {
    const sole = inventory.soleProduct();
    if (sole === undefined) throw new HttpError(400, 'Parameter "product" is missing');
    id = sole.info.id;
  }
  const record = inventory.get(id);
  const topic = topics.product(id);
  if (record === undefined || topic === undefined) {
    throw new HttpError(404, `No product "${id}"`);
  }
  if (record.retired) throw new HttpError(410, `Product "${id}" is no longer on sale`);
  return topic;
}
