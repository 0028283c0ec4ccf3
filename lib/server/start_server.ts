/** Starts the HTTP server around the inventory, and stops it gracefully. */
import { join } from "node:path";
import { type CatalogEntry, syncCatalog } from "../inventory/catalog_sync.ts";
import { type Clock, systemClock } from "../time/clock.ts";
import { Inventory } from "../inventory/inventory.ts";
import { openKvStore } from "../store/kv_store.ts";
import { openKvLines } from "../store/kv_lines.ts";
import { DropQueues } from "../queue/drop_queues.ts";
import type { Drops } from "../queue/drops.ts";
import { newChallengeKey } from "../queue/join_challenge.ts";
import type { LineAccess } from "../store/redis_drops.ts";
import { linesInMemory, type LineStore } from "../queue/line_store.ts";
import { openMemoryStore } from "../store/memory_store.ts";
import { redactedUrl } from "../store/redis_url.ts";
import type { InventoryStore } from "../inventory/store_port.ts";
import { MemoryPresence, type Presence } from "../realtime/presence.ts";
import type { App } from "../http/app.ts";
import type { Templates } from "../http/page.ts";
import { type AssetTable, loadAssets } from "../http/static_assets.ts";
import type { Config } from "./config.ts";
import { DEMO_PRODUCT } from "./demo_catalog.ts";
import type { ShopWords } from "../inventory/shop.ts";
import { type ResilientServer, serveResiliently } from "./listener.ts";
import { type AppOptions, buildApp } from "./services.ts";
import { orderWebhook } from "../orders/order_webhook.ts";
import { type PaymentBook, paymentsInMemory } from "../inventory/payment_book.ts";
import { Payments } from "../inventory/payments.ts";
import { openKvPaymentBook } from "../store/kv_payment_book.ts";
import { type OrderLog, orderLogInMemory } from "../inventory/order_log.ts";
import { OrderHistory } from "../inventory/order_history.ts";
import { recordingEndings } from "../inventory/payment_endings.ts";
import { openKvOrderLog } from "../store/kv_order_log.ts";

/** The project's root folder: templates/ and static/ live here, on disk or inside a binary. */
const ROOT = join(import.meta.dirname!, "..", "..");

/** A graceful stop waits this long for checkouts in flight, well inside its 5 s. */
const CHECKOUT_SETTLE_MS = 2_500;

/** The data path that keeps nothing. */
export const MEMORY_PATH = ":memory:";

/** A server that is listening. */
export interface RunningServer {
  /** The URL it listens on, e.g. `http://127.0.0.1:8000/`. */
  readonly url: string;
  /** The application, for its live counts. */
  readonly app: App;
  /** The shared inventory. */
  readonly inventory: Inventory;
  /** Answers waiters, closes sockets with 1001, stops accepting, and resolves when done. */
  stop(): Promise<void>;
  /** Resolves when the server has stopped. */
  readonly finished: Promise<void>;
}

/** What a server takes besides its configuration. */
export interface ServerOptions {
  /**
   * Time, timers and draws of the whole server (holds, transports, checkouts, the admin area);
   * tests inject a fake one.
   */
  clock?: Clock;
  /** Where start-up notes go (the stored inventory, what the catalog changed). */
  log?: (line: string) => void;
  /** The catalog file's products and images, loaded by the caller; none serves the demo. */
  catalog?: { entries: readonly CatalogEntry[]; media: AssetTable; shop?: ShopWords };
}

/**
 * Loads the pages' files, binds the port, opens the store and its inventory, applies the
 * catalog, and starts answering.
 *
 * The port is bound before the store is opened: a start that cannot listen (the port is taken)
 * has written nothing. Requests that arrive meanwhile wait until the inventory is ready.
 *
 * @param config The validated configuration; port 0 picks a free port.
 * @param options Clock, log and the catalog.
 * @returns The running server.
 * @throws {Error} When the port cannot be bound or the store cannot be opened.
 */
export async function startServer(
  config: Config,
  options: ServerOptions = {},
): Promise<RunningServer> {
  const log = options.log ?? console.log;
  const clock = options.clock ?? systemClock;
  const templates = await loadTemplates();
  const assets = await loadAssets(join(ROOT, "static"));
  const tls = config.tls && {
    cert: await Deno.readTextFile(config.tls.certFile),
    key: await Deno.readTextFile(config.tls.keyFile),
  };
  const { promise: ready, resolve: becomeReady, reject: failToStart } = Promise
    .withResolvers<App>();
  // Requests that come before the inventory is ready wait for it; none can, once start failed.
  ready.catch(() => {});
  let app: App | undefined;
  const server: ResilientServer = serveResiliently(
    {
      port: config.port,
      hostname: config.hostname,
      reusePort: config.reusePort,
      tls,
      onAcceptError: (error) => {
        app?.countAcceptError();
        console.error(`accepting failed, listening again shortly: ${error}`);
      },
    },
    (request, info, head) =>
      app?.handle(request, info, head) ?? ready.then((app) => app.handle(request, info, head)),
  );

  let store: InventoryStore | undefined;
  let lines: LineStore | undefined;
  let drops: Drops | undefined;
  let redisLines: LineAccess | undefined;
  let book: PaymentBook | undefined;
  let payments: Payments | undefined;
  let orderLog: OrderLog | undefined;
  // A fleet on Redis shares its watchers there; a process alone keeps them in memory.
  let presence: Presence = new MemoryPresence();
  let sharedAddRate: AppOptions["sharedAddRate"];
  let sharedJoinChallenges: AppOptions["sharedJoinChallenges"];
  try {
    if (config.redis !== null) {
      // The Redis client and its modules are loaded only by a server that uses them.
      const redis = await (await import("../store/redis_store.ts")).openRedisStore({
        url: config.redis,
        holdTtlMs: config.holdTtlMs,
        checkoutTimeoutMs: config.webhookTimeoutMs,
        clock,
        log,
      });
      store = redis;
      presence = redis.presence;
      sharedAddRate = (rule) => redis.addRateLimiter(rule);
      // Every process must check the challenges any other made, and refuse a replay anywhere.
      if (config.queueChallenge > 0) {
        sharedJoinChallenges = await redis.joinChallenges(newChallengeKey());
      }
      redisLines = redis.lines();
      book = redis.payments();
      orderLog = redis.orderLog();
    }
    store ??= config.dataPath === MEMORY_PATH
      ? openMemoryStore({ holdTtlMs: config.holdTtlMs, clock })
      : await openKvStore(config.dataPath, {
        holdTtlMs: config.holdTtlMs,
        clock,
        legacyProduct: DEMO_PRODUCT,
      });
    const inventory = await Inventory.open(store, config.holdTtlMs);
    // The last orders are kept where the stock is: the dashboard shows them after a restart, and
    // on a fleet every process's.
    orderLog ??= config.dataPath === MEMORY_PATH
      ? orderLogInMemory()
      : await openKvOrderLog(config.dataPath);
    const orders = new OrderHistory(orderLog, { clock, log });
    for (const line of await applyCatalog(inventory, config, options.catalog)) log(line);
    const dropSettings = {
      windowMs: config.queueWindowMs,
      admitRate: config.admitRate,
      admissionTtlMs: config.admissionTtlMs,
      maxTicketsPerClient: config.maxHoldsPerClient,
    };
    // A drop's line is kept where its stock is: in memory, in the same Deno KV file, or in Redis
    // where every process of the fleet decides on it.
    if (redisLines !== undefined) {
      const { RedisDrops } = await import("../store/redis_drops.ts");
      drops = await RedisDrops.open(inventory, redisLines, dropSettings, clock, log);
    } else {
      lines = config.dataPath === MEMORY_PATH
        ? linesInMemory()
        : await openKvLines(config.dataPath);
      drops = await DropQueues.open(inventory, lines, dropSettings, clock);
    }
    for (const record of inventory.allProducts()) {
      log(
        `Inventory "${record.info.id}": total ${record.total}, ${record.held} held,` +
          ` version ${record.version}${record.retired ? ", retired" : ""}`,
      );
    }
    const data = config.redis === null ? config.dataPath : redactedUrl(config.redis);
    log(`Store: ${store.kind} (data: ${data}, epoch ${inventory.epoch})`);
    const webhook = config.orderWebhook;
    log(
      webhook === undefined
        ? "Checkout: demo mode, a checkout sells at once (no --order-webhook)"
        : `Checkout: orders confirmed by ${webhook.url}`,
    );
    const orderService = webhook && orderWebhook({
      ...webhook,
      onAttempt: (seconds) => app?.observeOrderCall(seconds),
    });
    if (orderService !== undefined) {
      // Payments awaited are kept where the stock is, so a callback finds its order after a
      // restart and on any process of a fleet.
      book ??= config.dataPath === MEMORY_PATH
        ? paymentsInMemory({ clock })
        : await openKvPaymentBook(config.dataPath, { clock });
      payments = new Payments(inventory, recordingEndings(book, orders), {
        service: orderService,
        paymentTimeoutMs: config.paymentTimeoutMs,
        callTimeoutMs: config.webhookTimeoutMs,
        clock,
        log,
      });
    }
    app = buildApp(inventory, {
      ...config,
      clock,
      https: tls !== undefined,
      templates,
      assets,
      media: options.catalog?.media ?? new Map(),
      shop: options.catalog?.shop,
      orderService,
      payments,
      orders,
      log,
      listeners: () => server.listeners,
      presence,
      sharedAddRate,
      sharedJoinChallenges,
      drops,
    });
    becomeReady(app);
    // Payments a stopped server left awaited end at their time, here or on another process.
    payments?.start().catch((error) => console.error("reading payments awaited failed:", error));
    // Checkouts a stopped server left in flight end now, each with the order it had.
    app.checkouts.resume().then((results) => {
      if (results.length === 0) return;
      const sold = results.filter((result) => result.kind === "sold").length;
      log(
        `Checkout: resumed ${results.length} left in flight: ${sold} sold, ${
          results.length - sold
        } kept as holds`,
      );
    }).catch((error) => console.error("resuming checkouts failed:", error));
    return running(
      server,
      app,
      inventory,
      { drops, store, payments, book, orderLog },
      tls !== undefined,
    );
  } catch (error) {
    failToStart(error);
    await server.shutdown();
    await (drops ?? lines)?.close();
    await payments?.stop();
    await book?.close();
    await orderLog?.close();
    await store?.close();
    throw error;
  }
}

async function loadTemplates(): Promise<Templates> {
  const read = (name: string) => Deno.readTextFile(join(ROOT, "templates", name));
  return {
    product: await read("product.html"),
    catalog: await read("catalog.html"),
    missing: await read("missing.html"),
    admin: await read("admin.html"),
    adminSignIn: await read("admin_sign_in.html"),
  };
}

/** The catalog file's products, or the demo's one product (with `--inventory`'s old rule). */
function applyCatalog(
  inventory: Inventory,
  config: Config,
  catalog: ServerOptions["catalog"],
): Promise<string[]> {
  if (catalog !== undefined) return syncCatalog(inventory, catalog.entries, false);
  // The demo keeps the rule it always had: `--inventory` sets the total of a new store, and
  // restocks an existing one only when given.
  if (inventory.get(DEMO_PRODUCT.id) !== undefined && !config.restock) return Promise.resolve([]);
  return syncCatalog(inventory, [{ info: DEMO_PRODUCT, total: config.inventory }], config.restock);
}

function running(
  server: ResilientServer,
  app: App,
  inventory: Inventory,
  { drops, store, payments, book, orderLog }: {
    drops: Drops;
    store: InventoryStore;
    payments?: Payments;
    book?: PaymentBook;
    orderLog: OrderLog;
  },
  https: boolean,
): RunningServer {
  const { hostname, port } = server.addr;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;
  let stopping: Promise<void> | undefined;
  const { promise: finished, resolve, reject } = Promise.withResolvers<void>();
  // A failed stop is reported to whoever awaits stop(); `finished` rejects too, but one that no
  // one awaits must not become an unhandled rejection that kills the process with a stack trace.
  finished.catch(() => {});
  return {
    url: `${https ? "https" : "http"}://${host}:${port}/`,
    app,
    inventory,
    finished,
    stop() {
      stopping ??= (async () => {
        try {
          app.stop();
          // Checkouts in flight are answered (a sale, or their holds kept) before the store
          // closes; shutdown() stops accepting and lets the answers reach their clients.
          await Promise.all([app.checkouts.settle(CHECKOUT_SETTLE_MS), server.shutdown()]);
          await app.checkouts.settle(0);
          await payments?.stop();
          await book?.close();
          await orderLog.close();
          // Requests in flight were answered; let their commits and any expiry end, then close.
          await drops.close();
          await store.close();
          resolve();
        } catch (error) {
          reject(error);
          throw error;
        }
      })();
      return stopping;
    },
  };
}
