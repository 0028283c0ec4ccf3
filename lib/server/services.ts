/** Builds the shop's services (topics, subscriptions, checkouts, admin area) and its app. */
import { type CheckoutOutcome, Checkouts, type OrderService } from "../inventory/checkout.ts";
import type { Inventory } from "../inventory/inventory.ts";
import type { Payments } from "../inventory/payments.ts";
import { OrderHistory } from "../inventory/order_history.ts";
import { orderLogInMemory } from "../inventory/order_log.ts";
import type { OrderWebhookSetting } from "./config_values.ts";
import { throttledRefusals } from "../orders/refusal_throttle.ts";
import { MemoryPresence, type Presence } from "../realtime/presence.ts";
import { Subscriptions } from "../realtime/subscriptions.ts";
import { Topics } from "../realtime/topics.ts";
import { ClientConnections } from "../limits/client_connections.ts";
import { ClientRefusals } from "../limits/client_refusals.ts";
import {
  MemoryRateLimiter,
  type RateLimiter,
  type TokenBucketRule,
} from "../limits/rate_limiter.ts";
import { type Clock, systemClock } from "../time/clock.ts";
import { adminAccess } from "../admin/admin_auth.ts";
import { AdminFeed } from "../admin/admin_feed.ts";
import { adminRoutes } from "../admin/admin_routes.ts";
import { type App, createApp } from "../http/app.ts";
import type { Drops } from "../queue/drops.ts";
import { dropGate, queueRoutes } from "../queue/queue_api.ts";
import { QueueFeed } from "../queue/queue_feed.ts";
import { JoinChallenge, type JoinChallengeOptions } from "../queue/join_challenge.ts";
import { ClientLimits } from "../http/client_limits.ts";
import { ConnectionLimit } from "../http/guards.ts";
import { type Gauges, Metrics } from "../http/monitoring.ts";
import { isHttpsRequest, originGuard } from "../http/origin.ts";
import type { Templates } from "../http/page.ts";
import { RefusalLog } from "../http/refusal_log.ts";
import { DEFAULT_SHOP, type ShopWords } from "../inventory/shop.ts";
import {
  cartRoutes,
  fileRoutes,
  monitoringRoutes,
  pageRoutes,
  paymentRoutes,
  statusRoutes,
} from "../http/routes.ts";
import type { Guard, Route } from "../http/router.ts";
import type { AssetTable } from "../http/static_assets.ts";

/**
 * Addresses whose add rate is remembered at once: idle ones go first (a full bucket is no
 * bucket); a flood of new addresses past it may forget a busy one, which then starts full again.
 */
const MAX_RATE_CLIENTS = 100_000;

/** The settings the handler enforces, which the server's Config carries. */
export interface AppSettings {
  /** How long a long poll waits for a change before answering the current state, in ms. */
  pollTimeoutMs: number;
  /** Long polls, event streams and WebSockets held at once; past it new ones are refused. */
  maxConnections: number;
  /** A WebSocket silent this long is pinged at half of it and closed if still silent, in ms. */
  websocketTimeoutMs: number;
  /** How often an event stream gets a heartbeat comment, in ms. */
  sseHeartbeatMs: number;
  /** A request body must arrive within this long, in ms. */
  bodyTimeoutMs: number;
  /** The longest request target (path and query) accepted, in bytes. */
  maxUrlBytes: number;
  /** The most header bytes (names and values) accepted. */
  maxHeaderBytes: number;
  /** Believe the forwarded headers of a reverse proxy in front of us. */
  trustProxy: boolean;
  /** Adds a second per client address, with a burst of twice as many; 0 turns the limit off. */
  addRate: number;
  /** Long polls, event streams and WebSockets one address holds at once; 0 turns the cap off. */
  maxConnectionsPerClient: number;
  /** The most holds at once from one client address, over its sessions and products; 0 for none. */
  maxHoldsPerClient: number;
  /** The most products the catalog may hold. */
  maxProducts: number;
  /** How long a checkout may take, all tries of the order service included, in ms. */
  webhookTimeoutMs: number;
  /** How long a hold awaits payment once the order service sent the shopper to pay, in ms. */
  paymentTimeoutMs: number;
  /** How long an admin sign-in lasts, in ms: the admin cookie expires then. */
  adminSessionMs: number;
  /** The proof of work a drop's join needs (ALTCHA's maxnumber); 0 needs none. */
  queueChallenge: number;
}

/** What the app needs besides the inventory: its settings, and what the server loaded. */
export interface AppOptions extends AppSettings {
  /** The drops' lines (opened over the store's engine); the caller closes them after the app. */
  drops: Drops;
  /** The shop's order service; none sells at once (demo mode). */
  orderService?: OrderService;
  /**
   * The payments the order service sends shoppers to make, with its callbacks' routes; none
   * sells an order sent to pay at once.
   */
  payments?: Payments;
  /**
   * Where each change of an order's status is recorded, for the dashboard; one in this process's
   * memory by default.
   */
  orders?: OrderHistory;
  /** Where checkouts that did not sell and refused callbacks are logged; the console by default. */
  log?: (line: string) => void;
  /** The order service's URL and secret, whose callbacks are checked with it. */
  orderWebhook?: OrderWebhookSetting;
  /** Origins besides our own trusted to post (and to open /echo); any origin reads the status feeds. */
  allowedOrigins: readonly string[];
  /** Origins allowed to frame the shop's pages (never the admin's); none by default. */
  frameAncestors?: readonly string[];
  /** The server itself speaks HTTPS. */
  https: boolean;
  /** The page templates. */
  templates: Templates;
  /** The files under /static/. */
  assets: AssetTable;
  /** The catalog's images under /media/. */
  media: AssetTable;
  /** The shop's name and tagline on its pages; {@linkcode DEFAULT_SHOP} by default. */
  shop?: ShopWords;
  /** The admin API's bearer token and the sign-in's; without one `/admin/*` answers 404. */
  adminToken?: string;
  /**
   * Time, timers and draws of everything the app runs: transports, deadlines, checkouts, the
   * admin area; real ones by default.
   */
  clock?: Clock;
  /** How many servers still serve connections, for /metrics; none given counts 0. */
  listeners?: () => number;
  /** Where the fleet's processes share their watchers; this process's memory by default. */
  presence?: Presence;
  /** Makes the add rate the fleet shares; one in this process's memory by default. */
  sharedAddRate?: (rule: TokenBucketRule) => RateLimiter;
  /**
   * The join challenges' key and spent solutions the fleet shares; this process's own random key
   * and memory by default.
   */
  sharedJoinChallenges?: Pick<JoinChallengeOptions, "hmacKey" | "spent">;
}

/**
 * Builds every service of the shop around the inventory, composes their routes and makes the app.
 *
 * @param inventory The inventory.
 * @param options Timeouts, origins, templates and assets.
 * @returns The app; pass `app.handle` to `Deno.serve`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { systemClock } from "../time/clock.ts";
 * import { Inventory } from "../inventory/inventory.ts";
 * import { openMemoryStore } from "../store/memory_store.ts";
 * import { DropQueues } from "../queue/drop_queues.ts";
 * import { linesInMemory } from "../queue/line_store.ts";
 * const store = openMemoryStore({ holdTtlMs: 60_000, clock: systemClock });
 * const inventory = await Inventory.open(store, 60_000);
 * const drops = await DropQueues.open(inventory, linesInMemory(), {
 *   windowMs: 1_800_000, admitRate: 20, admissionTtlMs: 120_000, maxTicketsPerClient: 4,
 * }, systemClock);
 * const app = buildApp(inventory, {
 *   pollTimeoutMs: 25_000, allowedOrigins: [], maxConnections: 18_000,
 *   websocketTimeoutMs: 60_000, sseHeartbeatMs: 15_000, bodyTimeoutMs: 10_000,
 *   maxUrlBytes: 8192, maxHeaderBytes: 16_384, https: false, trustProxy: false, maxProducts: 1000,
 *   addRate: 5, maxConnectionsPerClient: 32, maxHoldsPerClient: 4,
 *   webhookTimeoutMs: 5_000, paymentTimeoutMs: 900_000, adminSessionMs: 480 * 60_000, queueChallenge: 0,
 *   templates: { product: "", catalog: "", missing: "", admin: "", adminSignIn: "" }, assets: new Map(), media: new Map(),
 *   drops,
 * });
 * const response = await app.handle(new Request("http://localhost/healthz"));
 * assert.equal(response.status, 200);
 * app.stop();
 * await drops.close();
 * await store.close();
 * ```
 */
export function buildApp(inventory: Inventory, options: AppOptions): App {
  const clock = options.clock ?? systemClock;
  const metrics = new Metrics();
  const topics = new Topics(inventory);
  const queueFeed = new QueueFeed(options.drops, topics.tally, clock);
  const subscriptions = new Subscriptions(options, clock);
  const limit = new ConnectionLimit(
    options.maxConnections,
    () => subscriptions.connections,
    clock,
  );
  const log = options.log ?? ((line: string) => console.warn(line));
  const orders = options.orders ?? new OrderHistory(orderLogInMemory(), { clock, log });
  const checkouts = new Checkouts(inventory, {
    service: options.orderService,
    timeoutMs: options.webhookTimeoutMs,
    onOutcome: (outcome: CheckoutOutcome) => metrics.countCheckout(outcome),
    clock,
    payments: options.payments,
    log,
    onOrder: (change) => orders.record(change),
  });
  const gauges = (): Gauges => ({
    longPollWaiters: topics.tally.waiters,
    ...subscriptions.gauges(),
    connections: subscriptions.connections,
    connectionsRefused: limit.refused,
    acceptErrors: metrics.acceptErrors,
    listeners: options.listeners?.() ?? 0,
  });

  // Until the server has an injected logger, this is the one place refusals reach the console.
  const refusals = new RefusalLog({ now: () => clock.now(), log: (line) => console.warn(line) });
  const rateRule: TokenBucketRule = {
    perSecond: options.addRate,
    burst: 2 * options.addRate,
    maxClients: MAX_RATE_CLIENTS,
  };
  const clientLimits = new ClientLimits({
    trustProxy: options.trustProxy,
    maxHoldsPerClient: options.maxHoldsPerClient,
    addRate: options.addRate === 0
      ? undefined
      : options.sharedAddRate?.(rateRule) ?? new MemoryRateLimiter(rateRule, clock),
    connections: options.maxConnectionsPerClient === 0
      ? undefined
      : new ClientConnections(options.maxConnectionsPerClient),
    refusals: new ClientRefusals({
      clock,
      log: (line) => console.warn(line),
      count: (kind) => metrics.countClientRefusal(kind),
    }),
  });
  const trustedOrigin = originGuard(options, refusals);
  const sameOrigin: Guard = ({ request, url, head }) => trustedOrigin(request, url, head);
  const pageOptions = (request: Request) => ({
    templates: options.templates,
    secure: isHttpsRequest(request, options),
    frameAncestors: options.frameAncestors ?? [],
    newSession: () => clock.randomUUID(),
    now: () => clock.now(),
    shop: options.shop ?? DEFAULT_SHOP,
  });

  const routes: Route[] = [
    ...pageRoutes(inventory, pageOptions),
    ...cartRoutes(
      inventory,
      checkouts,
      sameOrigin,
      clientLimits,
      dropGate(inventory, options.drops),
      (kind) => metrics.countRefusal(kind),
    ),
    ...statusRoutes(inventory, topics, subscriptions, limit, sameOrigin, clientLimits),
    ...queueRoutes({
      inventory,
      drops: options.drops,
      challenge: options.queueChallenge === 0 ? undefined : new JoinChallenge(
        { difficulty: options.queueChallenge, ...options.sharedJoinChallenges },
        clock,
      ),
      feed: queueFeed,
      subscriptions,
      limit,
      sameOrigin,
      clientLimits,
    }),
    ...monitoringRoutes(inventory, metrics, gauges),
    ...(options.payments === undefined || options.orderWebhook === undefined ? [] : paymentRoutes({
      payments: options.payments,
      secret: options.orderWebhook.secret,
      log: throttledRefusals(log, () => clock.now()),
    })),
    ...fileRoutes(options.assets, options.media),
  ];
  let adminFeed: AdminFeed | undefined;
  if (options.adminToken !== undefined) {
    const access = adminAccess({
      token: options.adminToken,
      sessionMs: options.adminSessionMs,
      clock,
      https: options.https,
      trustProxy: options.trustProxy,
    });
    adminFeed = new AdminFeed(inventory, {
      clock,
      drops: options.drops,
      heartbeatMs: options.sseHeartbeatMs,
      presence: options.presence ?? new MemoryPresence(),
      orders,
      local: () => {
        const { websocketSubscribers, sseSubscribers } = subscriptions.gauges();
        return {
          websocket: websocketSubscribers,
          sse: sseSubscribers,
          longPoll: topics.tally.waiters,
        };
      },
    });
    adminFeed.start();
    routes.push(
      ...adminRoutes(
        inventory,
        access,
        options.templates,
        sameOrigin,
        options.maxProducts,
        adminFeed,
        options.drops,
        { trustProxy: options.trustProxy, log: (line) => console.log(line) },
        orders,
      ),
    );
  }

  return createApp({
    routes,
    limits: options,
    metrics,
    checkouts,
    gauges,
    clock,
    stop() {
      topics.close();
      queueFeed.close();
      subscriptions.close();
      adminFeed?.close();
    },
  });
}
