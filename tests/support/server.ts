/**
 * Test helpers that start real servers on port 0, in this process or as a child `main.ts`, or
 * build the app alone around an inventory for in-process requests.
 */
import { join } from "node:path";
import type { App } from "../../lib/http/app.ts";
import { type AppOptions, buildApp } from "../../lib/server/services.ts";
import { DropQueues } from "../../lib/queue/drop_queues.ts";
import { linesInMemory } from "../../lib/queue/line_store.ts";
import { systemClock } from "../../lib/time/clock.ts";
import type { Inventory } from "../../lib/inventory/inventory.ts";
import { inventoryCountOf } from "../../lib/inventory/ledger.ts";
import type { Config } from "../../lib/server/config.ts";
import { DEMO_PRODUCT } from "../../lib/server/demo_catalog.ts";
import {
  type RunningServer,
  type ServerOptions,
  startServer,
} from "../../lib/server/start_server.ts";
import type { CartState } from "./clients.ts";

/** The id of the demo's product: the one product of a server started without a catalog. */
export const DEMO = DEMO_PRODUCT.id;

/**
 * The defaults tests start from: a free port on loopback, 10 units in a store in memory,
 * 15-minute holds, no admin API, a 25 s poll.
 */
export const TEST_CONFIG: Config = {
  port: 0,
  hostname: "127.0.0.1",
  reusePort: false,
  inventory: 10,
  restock: false,
  catalogPath: undefined,
  maxProducts: 1000,
  orderWebhook: undefined,
  webhookTimeoutMs: 5_000,
  paymentTimeoutMs: 900_000,
  dataPath: ":memory:",
  redis: null,
  holdTtlMs: 15 * 60_000,
  queueWindowMs: 30 * 60_000,
  admitRate: 20,
  admissionTtlMs: 2 * 60_000,
  queueChallenge: 0,
  adminToken: undefined,
  pollTimeoutMs: 25_000,
  allowedOrigins: [],
  frameAncestors: [],
  maxConnections: 18_000,
  // Off: every in-process request is the one client "unknown", and every test's client is one
  // loopback address; the tests of these limits turn them on.
  addRate: 0,
  maxConnectionsPerClient: 0,
  websocketTimeoutMs: 60_000,
  sseHeartbeatMs: 15_000,
  bodyTimeoutMs: 10_000,
  maxUrlBytes: 8192,
  maxHeaderBytes: 16_384,
  trustProxy: false,
  maxHoldsPerClient: 4,
  adminSessionMs: 480 * 60_000,
};

/**
 * Starts a server in this process on a free port.
 *
 * @param overrides Settings that differ from {@linkcode TEST_CONFIG}.
 * @param options A clock to inject; start-up notes are not printed unless a log is given.
 * @returns The running server; `await using` stops it at the end of the scope.
 */
export async function startTestServer(
  overrides: Partial<Config> = {},
  options: ServerOptions = {},
): Promise<RunningServer & AsyncDisposable> {
  const server = await startServer({ ...TEST_CONFIG, ...overrides }, {
    log: () => {},
    ...options,
  });
  return Object.assign(server, { [Symbol.asyncDispose]: () => server.stop() });
}

/**
 * Builds the app around an inventory, without a socket or the page templates, for
 * `app.handle(new Request(...))` tests of the JSON routes.
 *
 * @param inventory The inventory, on whatever store the test chose.
 * @param overrides Settings that differ from {@linkcode TEST_CONFIG}'s.
 * @returns The app (pages render empty); the caller stops it.
 */
export async function createTestApp(
  inventory: Inventory,
  overrides: Partial<AppOptions> = {},
): Promise<App> {
  const drops = overrides.drops ?? await DropQueues.open(inventory, linesInMemory(), {
    windowMs: TEST_CONFIG.queueWindowMs,
    admitRate: TEST_CONFIG.admitRate,
    admissionTtlMs: TEST_CONFIG.admissionTtlMs,
    maxTicketsPerClient: TEST_CONFIG.maxHoldsPerClient,
  }, overrides.clock ?? systemClock);
  return buildApp(inventory, {
    ...TEST_CONFIG,
    drops,
    https: false,
    templates: { product: "", catalog: "", missing: "", admin: "", adminSignIn: "" },
    assets: new Map(),
    media: new Map(),
    ...overrides,
  });
}

/**
 * A product's count and version as the server's inventory has them now.
 *
 * @param server The running server.
 * @param product The product's id; the demo's by default.
 * @returns `{inventoryCount, version}`.
 * @throws {RangeError} When the server has no such product.
 */
export function stateOf(server: RunningServer, product: string = DEMO): CartState {
  const record = server.inventory.get(product);
  if (record === undefined) throw new RangeError(`No product "${product}" in the inventory`);
  return { inventoryCount: inventoryCountOf(record), version: record.version };
}

/**
 * Tells whether a session holds a unit of a product, as the server's store says.
 *
 * @param server The running server.
 * @param session The shopper's session.
 * @param product The product's id; the demo's by default.
 * @returns True when the session's cart has the product.
 */
export async function holds(
  server: RunningServer,
  session: string,
  product: string = DEMO,
): Promise<boolean> {
  const units = await server.inventory.cartOf(session);
  return units.some((unit) => unit.product === product);
}

/** A server script (`main.ts`, or a bench's baseline) running in a child process. */
export interface ChildServer extends AsyncDisposable {
  /** The URL it printed. */
  readonly url: string;
  /** The child process. */
  readonly process: Deno.ChildProcess;
  /** Everything it printed to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit status once the child has ended. */
  readonly status: Promise<Deno.CommandStatus>;
}

const MAIN = join(import.meta.dirname!, "..", "..", "main.ts");

/**
 * Runs `main.ts` with the given flags and waits until it prints the URL it listens on.
 *
 * @param args Flags for main.ts (`--port 0` is added unless a port is given, `--data :memory:`
 * unless a data file or a Redis server is given by flag or variable, so that no test leaves state
 * behind, and `--add-rate 0` and `--max-connections-per-client 0` unless given, since every test
 * client shares one address).
 * @param env Extra environment variables.
 * @param permissions Deno's permission flags for the child.
 * @returns The child; disposing it kills it with SIGKILL if it still runs.
 * @throws {Error} When the child exits before listening.
 */
export function spawnServer(
  args: string[] = [],
  env: Record<string, string> = {},
  permissions: string[] = ["--allow-all"],
): Promise<ChildServer> {
  const storeGiven = args.includes("--data") || args.includes("--redis") || "DATA" in env ||
    "REDIS_URL" in env;
  // Every test's client is one address: the per-address limits are off unless a test sets them.
  const given = (flag: string, variable: string) => args.includes(flag) || variable in env;
  const flags = [
    ...args.includes("--port") ? [] : ["--port", "0"],
    ...storeGiven ? [] : ["--data", ":memory:"],
    ...given("--add-rate", "ADD_RATE") ? [] : ["--add-rate", "0"],
    ...given("--max-connections-per-client", "MAX_CONNECTIONS_PER_CLIENT")
      ? []
      : ["--max-connections-per-client", "0"],
    ...args,
  ];
  return spawnListening(MAIN, flags, env, permissions);
}

/**
 * Runs a script that prints `Listening on URL` (main.ts, or a bench's baseline) and waits for it.
 *
 * @param script The script's path.
 * @param args Its arguments, as given.
 * @param env Extra environment variables.
 * @param permissions Deno's permission flags for the child.
 * @returns The child; disposing it kills it with SIGKILL if it still runs.
 * @throws {Error} When the child exits before listening.
 */
export async function spawnListening(
  script: string,
  args: string[] = [],
  env: Record<string, string> = {},
  permissions: string[] = ["--allow-all"],
): Promise<ChildServer> {
  const process = new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, script, ...args],
    env,
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
  }).spawn();
  let text = "";
  const decoder = new TextDecoder();
  const { promise: listening, resolve, reject } = Promise.withResolvers<string>();
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      const match = text.match(/Listening on (\S+)/);
      if (match) resolve(match[1]);
    }
  };
  const drained = Promise.all([collect(process.stdout), collect(process.stderr)]);
  const status = drained.then(() => process.status);
  status.then((s) => reject(new Error(`server exited with ${s.code} before listening:\n${text}`)));
  const url = await listening;
  return {
    url,
    process,
    status,
    output: () => text,
    async [Symbol.asyncDispose]() {
      try {
        process.kill("SIGKILL");
      } catch {
        // Already exited.
      }
      await status;
    },
  };
}
