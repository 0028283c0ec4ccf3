/** `GET /metrics`: the Prometheus counters and gauges of the shop and its connections. */
import type { Inventory } from "../inventory/inventory.ts";
import { inventoryCountOf } from "../inventory/ledger.ts";
import type { CheckoutOutcome } from "../inventory/checkout.ts";
import type { SubscriberCounts } from "../realtime/subscriptions.ts";
import { CLIENT_REFUSAL_KINDS } from "./client_limits.ts";
import { Histogram } from "./histogram.ts";
import { type Refusal, REFUSALS } from "../inventory/refusal.ts";
import { CHECKOUT_LABELS, checkoutLabel, REFUSAL_ANSWERS } from "./refusal_answers.ts";

/** Live gauges read when /metrics is scraped: the transports' counts, and these. */
export interface Gauges extends SubscriberCounts {
  /** Long polls waiting now. */
  longPollWaiters: number;
  /** Long polls waiting, event streams and WebSockets now: what `--max-connections` bounds. */
  connections: number;
  /** Long polls, streams and upgrades refused for `--max-connections`, since start. */
  connectionsRefused: number;
  /** Times accepting a connection failed (out of file descriptors) and the listener was reopened. */
  acceptErrors: number;
  /** Servers still serving: the listening one, and dead ones that may still hold connections. */
  listeners: number;
}

/**
 * Every status the app answers. Each route's request counter starts at 0 for each of them, so that
 * `rate()` sees a series' first request instead of its appearance.
 */
export const REQUEST_STATUSES: readonly number[] = [
  101,
  200,
  201,
  304,
  400,
  401,
  403,
  404,
  405,
  408,
  409,
  410,
  413,
  414,
  415,
  426,
  429,
  431,
  500,
  503,
];

/**
 * Counts requests by route and status and renders every metric.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemClock } from "../time/clock.ts";
 * import { Inventory } from "../inventory/inventory.ts";
 * import { openMemoryStore } from "../store/memory_store.ts";
 * const store = openMemoryStore({ holdTtlMs: 60_000, clock: systemClock });
 * const inventory = await Inventory.open(store, 60_000);
 * const info = { id: "a", name: "A", description: "", price: { amount: "1", currency: "EUR" }, image: null };
 * await inventory.list({ info, total: 3 });
 * const metrics = new Metrics(["page", "cart"]);
 * metrics.countRequest("cart", 409);
 * const text = metrics.render(inventory, {
 *   longPollWaiters: 0, websocketSubscribers: 0, sseSubscribers: 0, websocketLagging: 0,
 *   websocketSlowClosed: 0, sseSlowClosed: 0, connections: 0, connectionsRefused: 0,
 *   acceptErrors: 0, listeners: 1,
 * });
 * const lines = text.split("\n");
 * assert.ok(lines.includes('inventory_available_units{product="a"} 3'));
 * assert.ok(lines.includes('inventory_http_requests_total{route="cart",status="409"} 1'));
 * assert.ok(lines.includes('inventory_http_requests_total{route="page",status="200"} 0'));
 * await store.close();
 * ```
 */
export class Metrics {
  /** Route → status → count; built up front so that counting a request allocates nothing. */
  readonly #requests = new Map<string, Map<number, number>>();
  /** Metric label → count, every outcome a checkout may have at 0 from the start. */
  readonly #checkouts = new Map<string, number>(CHECKOUT_LABELS.map((label) => [label, 0]));
  /** Per-address refusals by kind, every kind at 0 from the start. */
  readonly #clientRefusals = new Map<string, number>(CLIENT_REFUSAL_KINDS.map((kind) => [kind, 0]));
  /** Metric label → count of adds and removes refused so, every kind at 0 from the start. */
  readonly #refusals = new Map<string, number>(
    REFUSALS.map((kind) => [REFUSAL_ANSWERS[kind].metric, 0]),
  );
  #storeUnavailable = 0;
  #acceptErrors = 0;
  /** How long each call to the order service took, in seconds. */
  readonly webhookLatency = new Histogram([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]);

  /**
   * Counts one checkout's outcome.
   *
   * @param outcome What it did.
   */
  countCheckout(outcome: CheckoutOutcome): void {
    const label = checkoutLabel(outcome);
    this.#checkouts.set(label, this.#checkouts.get(label)! + 1);
  }

  /**
   * Counts one request refused by a per-address limit.
   *
   * @param kind The limit, as the `kind` label names it.
   */
  countClientRefusal(kind: string): void {
    this.#clientRefusals.set(kind, (this.#clientRefusals.get(kind) ?? 0) + 1);
  }

  /**
   * Counts one add or remove the store refused.
   *
   * @param kind Why.
   */
  countRefusal(kind: Refusal): void {
    const label = REFUSAL_ANSWERS[kind].metric;
    this.#refusals.set(label, this.#refusals.get(label)! + 1);
  }

  /** Counts one request refused (503) because the store could not be reached. */
  countStoreUnavailable(): void {
    this.#storeUnavailable++;
  }

  /** Counts one failed accept (the listener died and is being reopened). */
  countAcceptError(): void {
    this.#acceptErrors++;
  }

  /** Accepts that failed since start. */
  get acceptErrors(): number {
    return this.#acceptErrors;
  }

  /**
   * Declares each route's request counters.
   *
   * @param routes The routing table's route names; {@linkcode Metrics.declareRoutes} adds more.
   */
  constructor(routes: Iterable<string> = []) {
    this.declareRoutes(routes);
  }

  /**
   * Declares routes' request counters, each at 0 for every status in
   * {@linkcode REQUEST_STATUSES} until its first request.
   *
   * @param routes The route names.
   */
  declareRoutes(routes: Iterable<string>): void {
    for (const route of routes) {
      if (this.#requests.has(route)) continue;
      this.#requests.set(route, new Map(REQUEST_STATUSES.map((status) => [status, 0])));
    }
  }

  /**
   * Counts one answered request. A route or status not declared up front gets its series now.
   *
   * @param route The route's name in the routing table (never the raw path, to bound labels).
   * @param status The HTTP status answered.
   */
  countRequest(route: string, status: number): void {
    let statuses = this.#requests.get(route);
    if (statuses === undefined) {
      statuses = new Map();
      this.#requests.set(route, statuses);
    }
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  }

  /**
   * Renders every metric in Prometheus' text exposition format.
   *
   * @param inventory The inventory, for each product's stock and version (one series per
   * product: `--max-products` bounds them) and the store's health.
   * @param gauges Subscriber counts from the push transports.
   * @returns The text of `/metrics`.
   */
  render(inventory: Inventory, gauges: Gauges): string {
    const products = inventory.products();
    const lines = [
      ...perProduct(
        "inventory_available_units",
        "Units still free to add.",
        products.map((record) => [record.info.id, inventoryCountOf(record)]),
      ),
      ...perProduct(
        "inventory_sold_units",
        "Units sold so far.",
        products.map((record) => [record.info.id, record.sold]),
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
        "Long polls, streams and upgrades refused past --max-connections.",
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
      ...gauge(
        "inventory_store_reachable",
        "1 while the inventory store answers, 0 while it cannot be reached.",
        inventory.storeHealth().reachable ? 1 : 0,
      ),
      ...counter(
        "inventory_store_unavailable_total",
        "Requests refused with 503 because the inventory store could not be reached.",
        this.#storeUnavailable,
      ),
      "# HELP inventory_client_refusals_total Requests refused by a per-address limit, by kind.",
      "# TYPE inventory_client_refusals_total counter",
      ...[...this.#clientRefusals].map(([kind, n]) =>
        `inventory_client_refusals_total{kind="${kind}"} ${n}`
      ),
      "# HELP inventory_cart_refusals_total Adds and removes refused, by reason.",
      "# TYPE inventory_cart_refusals_total counter",
      ...[...this.#refusals].map(([reason, n]) =>
        `inventory_cart_refusals_total{reason="${reason}"} ${n}`
      ),
      "# HELP inventory_checkouts_total Checkouts, by outcome.",
      "# TYPE inventory_checkouts_total counter",
      ...[...this.#checkouts].map(([outcome, n]) =>
        `inventory_checkouts_total{outcome="${outcome}"} ${n}`
      ),
      ...this.webhookLatency.render(
        "inventory_order_webhook_duration_seconds",
        "Calls to the order service, by how long each took.",
      ),
      "# HELP inventory_http_requests_total Requests answered, by route and status.",
      "# TYPE inventory_http_requests_total counter",
    ];
    for (const [route, statuses] of this.#requests) {
      for (const [status, count] of statuses) {
        lines.push(`inventory_http_requests_total{route="${route}",status="${status}"} ${count}`);
      }
    }
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
