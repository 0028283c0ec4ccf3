/** `GET /healthz` and `GET /metrics`: liveness, and counters in Prometheus' text format. */
import type { Inventory } from "../inventory/inventory.ts";
import { inventoryCountOf } from "../inventory/ledger.ts";
import { jsonResponse } from "./http_error.ts";

/** Live gauges read when /metrics is scraped. */
export interface Gauges {
  /** WebSocket subscribers connected now. */
  websocketSubscribers: number;
  /** SSE streams open now. */
  sseSubscribers: number;
  /** WebSockets not reading now, waiting to drain before they get the newest state. */
  websocketLagging: number;
  /** WebSockets closed for not reading, since start. */
  websocketSlowClosed: number;
  /** Event streams ended for not reading, since start. */
  sseSlowClosed: number;
  /** Long polls waiting now. */
  longPollWaiters: number;
  /** Long polls waiting, event streams and WebSockets now: what `--max-connections` bounds. */
  connections: number;
  /** Long polls, streams and upgrades refused with 503 for `--max-connections`, since start. */
  connectionsRefused: number;
  /** Times accepting a connection failed (out of file descriptors) and the listener was reopened. */
  acceptErrors: number;
  /** Servers still serving: the listening one, and dead ones that may still hold connections. */
  listeners: number;
}

/** Counts requests by route and status and renders every metric. */
export class Metrics {
  readonly #requests = new Map<string, number>();

  /**
   * Counts one answered request.
   *
   * @param route The route's name in the routing table (never the raw path, to bound labels).
   * @param status The HTTP status answered.
   */
  countRequest(route: string, status: number): void {
    const key = `route="${route}",status="${status}"`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
  }

  /**
   * Renders every metric in Prometheus' text exposition format.
   *
   * @param inventory The inventory, for each product's stock and version (one series per
   * product: `--max-products` bounds them).
   * @param gauges Subscriber counts from the push transports.
   * @returns The text of `/metrics`.
   */
  render(inventory: Inventory, gauges: Gauges): string {
    const products = inventory.products();
    const lines = [
      ...perProduct(
        "inventory_count",
        "Units still free to add.",
        products.map((record) => [record.info.id, inventoryCountOf(record)]),
      ),
      ...perProduct(
        "inventory_version",
        "Version of the product's state.",
        products.map((record) => [record.info.id, record.version]),
      ),
      ...gauge(
        "inventory_long_poll_waiters",
        "Long polls waiting for a change.",
        gauges.longPollWaiters,
      ),
      ...gauge(
        "inventory_websocket_subscribers",
        "Open status WebSockets.",
        gauges.websocketSubscribers,
      ),
      ...gauge(
        "inventory_websocket_lagging",
        "WebSockets not reading, waiting to drain before they get the newest state.",
        gauges.websocketLagging,
      ),
      ...gauge(
        "inventory_sse_subscribers",
        "Open status event streams.",
        gauges.sseSubscribers,
      ),
      ...gauge(
        "inventory_connections",
        "Waiting long polls, event streams and WebSockets.",
        gauges.connections,
      ),
      ...counter(
        "inventory_websocket_slow_closed_total",
        "WebSockets closed for not reading.",
        gauges.websocketSlowClosed,
      ),
      ...counter(
        "inventory_sse_slow_closed_total",
        "Event streams ended for not reading.",
        gauges.sseSlowClosed,
      ),
      ...counter(
        "inventory_connections_refused_total",
        "Long polls, streams and upgrades refused with 503 past --max-connections.",
        gauges.connectionsRefused,
      ),
      ...gauge(
        "inventory_listeners",
        "Servers still serving: the listening one, and those whose accept loop died that may still hold connections.",
        gauges.listeners,
      ),
      ...counter(
        "inventory_accept_errors_total",
        "Accepts that failed (e.g. out of file descriptors); the listener was reopened.",
        gauges.acceptErrors,
      ),
      "# HELP inventory_http_requests_total Requests answered, by route and status.",
      "# TYPE inventory_http_requests_total counter",
      ...[...this.#requests].map(([labels, n]) => `inventory_http_requests_total{${labels}} ${n}`),
    ];
    return lines.join("\n") + "\n";
  }
}

function perProduct(name: string, help: string, values: [string, number][]): string[] {
  return [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} gauge`,
    ...values.map(([product, value]) => `${name}{product="${product}"} ${value}`),
  ];
}

function gauge(name: string, help: string, value: number): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`];
}

function counter(name: string, help: string, value: number): string[] {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} counter`, `${name} ${value}`];
}

/**
 * Answers `GET /healthz`.
 *
 * @returns 200 `{"status": "ok"}`.
 */
export function healthResponse(): Response {
  return jsonResponse({ status: "ok" });
}
