/** Starts the HTTP server around a cart and stops it gracefully. */
import { join } from "node:path";
import { type App, createApp } from "../http/app.ts";
import { ShoppingCart } from "../inventory/cart.ts";
import type { Clock } from "../inventory/clock.ts";
import type { Config } from "./config.ts";
import { KvStore } from "../store/kv_store.ts";
import { type ResilientServer, serveResiliently } from "./listener.ts";
import { loadAssets } from "../http/static_assets.ts";

/** The project's root folder: templates/ and static/ live here, on disk or inside a binary. */
const ROOT = join(import.meta.dirname!, "..", "..");

/** A server that is listening. */
export interface RunningServer {
  /** The URL it listens on, e.g. `http://127.0.0.1:8000/`. */
  readonly url: string;
  /** The application, for its live counts. */
  readonly app: App;
  /** The shared cart. */
  readonly cart: ShoppingCart;
  /** Answers waiters, closes sockets with 1001, stops accepting, and resolves when done. */
  stop(): Promise<void>;
  /** Resolves when the server has stopped. */
  readonly finished: Promise<void>;
}

/** What a server takes besides its configuration. */
export interface ServerOptions {
  /** The time source of hold expiry; tests inject a fake one. */
  clock?: Clock;
  /** Where start-up notes go (the stored inventory, a restock). */
  log?: (line: string) => void;
}

/**
 * Loads the page's files, opens the inventory and its cart, and starts listening.
 *
 * On an existing data file the stored total stands, unless `config.restock` asks to replace it;
 * holds stay either way. Both are logged.
 *
 * @param config The validated configuration; port 0 picks a free port.
 * @param options Clock and log.
 * @returns The running server.
 *
 * @example
 * ```ts
 * const server = await startServer({
 *   port: 0, hostname: "127.0.0.1", inventory: 10, restock: false, dataPath: ":memory:",
 *   holdTtlMs: 900_000, adminToken: undefined, pollTimeoutMs: 25_000, allowedOrigins: [],
 *   maxConnections: 18_000, websocketTimeoutMs: 60_000, sseHeartbeatMs: 15_000,
 *   bodyTimeoutMs: 10_000, maxUrlBytes: 8192, maxHeaderBytes: 16_384, trustProxy: false,
 * });
 * console.log((await fetch(new URL("healthz", server.url))).status); // 200
 * await server.stop();
 * ```
 */
export async function startServer(
  config: Config,
  options: ServerOptions = {},
): Promise<RunningServer> {
  const log = options.log ?? console.log;
  const template = await Deno.readTextFile(
    join(ROOT, "templates", "index.html"),
  );
  const assets = await loadAssets(join(ROOT, "static"));
  const tls = config.tls && {
    cert: await Deno.readTextFile(config.tls.certFile),
    key: await Deno.readTextFile(config.tls.keyFile),
  };
  const store = await KvStore.open(config.dataPath);
  let cart: ShoppingCart;
  try {
    cart = await ShoppingCart.open(store, {
      total: config.inventory,
      holdTtlMs: config.holdTtlMs,
      clock: options.clock,
    });
    if (config.restock && cart.total !== config.inventory) {
      const before = cart.total;
      await cart.restock(config.inventory);
      log(`Restocked: total ${before} -> ${config.inventory} (--inventory given; holds kept)`);
    }
  } catch (error) {
    await store.close();
    throw error;
  }
  log(
    `Inventory: total ${cart.total}, ${cart.held} held, version ${cart.current.state.version}` +
      ` (data: ${config.dataPath})`,
  );
  const app = createApp(cart, {
    ...config,
    https: tls !== undefined,
    template,
    assets,
  });
  let server: ResilientServer;
  try {
    server = serveResiliently({
      port: config.port,
      hostname: config.hostname,
      tls,
      onAcceptError: (error) => {
        app.countAcceptError();
        console.error(`accepting failed, listening again shortly: ${error}`);
      },
    }, app.handle);
  } catch (error) {
    app.stop();
    await store.close();
    throw error;
  }
  const { hostname, port } = server.addr;
  const host = hostname.includes(":") ? `[${hostname}]` : hostname;

  let stopping: Promise<void> | undefined;
  const { promise: finished, resolve } = Promise.withResolvers<void>();
  return {
    url: `${tls ? "https" : "http"}://${host}:${port}/`,
    app,
    cart,
    finished,
    stop() {
      stopping ??= (async () => {
        app.stop();
        // shutdown() stops accepting and lets the answers just given to waiters reach them.
        await server.shutdown();
        // Requests in flight were answered; let their commits and any expiry end, then close.
        await cart.settled();
        await store.close();
        resolve();
      })();
      return stopping;
    },
  };
}
