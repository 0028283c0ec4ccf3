/** Turns command-line flags and environment variables into one validated {@linkcode Config}. */
import { parseArgs } from "node:util";
import type { AppSettings } from "./services.ts";
import { parseBoolean } from "./boolean_setting.ts";
import {
  adminTokenOf,
  catalogPathOf,
  dataPathOf,
  durationIn,
  frameAncestorsOf,
  hostnameOf,
  integerIn,
  orderWebhookOf,
  type OrderWebhookSetting,
  originOf,
  redisUrlOf,
  secondsIn,
  type TlsFiles,
  tlsOf,
} from "./config_values.ts";

/**
 * Everything the server needs to know at start, already validated: the handler's settings
 * ({@linkcode AppSettings}: limits, timeouts, the proxy rule) and the server's own.
 */
export interface Config extends AppSettings {
  /** TCP port to listen on; 0 picks a free one. */
  port: number;
  /** Address to bind. */
  hostname: string;
  /**
   * Bind with `SO_REUSEPORT` (Linux): several processes listen on one port and the kernel spreads
   * new connections among them.
   */
  reusePort: boolean;
  /** Units of the product in stock: the total of a new data file, or a restock (see `restock`). */
  inventory: number;
  /** Whether `inventory` was given (flag or env): then it replaces a stored total as a restock. */
  restock: boolean;
  /** The catalog file; undefined serves the demo's one product. */
  catalogPath: string | undefined;
  /** The shop's order service, called to confirm each checkout; undefined sells at once. */
  orderWebhook: OrderWebhookSetting | undefined;
  /** Where the inventory is kept: a Deno KV file, or `:memory:` for a throwaway run. */
  dataPath: string;
  /** The Redis server (`redis://` or `rediss://` URL) of a shop shared by several processes. */
  redis: string | null;
  /** How long a hold lasts from when it is taken, in ms. */
  holdTtlMs: number;
  /** How long before a product's `opensAt` its queue opens, in ms. */
  queueWindowMs: number;
  /** The most shoppers a drop admits a second, unless the owner sets another. */
  admitRate: number;
  /** How long an admitted shopper has to add, in ms. */
  admissionTtlMs: number;
  /** The bearer token of the admin API; undefined turns the admin routes off. */
  adminToken: string | undefined;
  /** Origins other than the server's own that may change the cart or open sockets. */
  allowedOrigins: string[];
  /** Origins allowed to frame the shop's pages; none allows no one. */
  frameAncestors: string[];
  /** PEM certificate and key files: when both are given the server speaks HTTPS. */
  tls?: TlsFiles;
}

/** What the command line asked for: either a usage text or a server to run. */
export type Invocation = { help: true } | { help: false; config: Config };

const DEFAULTS = {
  port: "8000",
  hostname: "127.0.0.1",
  inventory: "10",
  "max-products": "1000",
  "webhook-timeout": "5",
  "poll-timeout": "25",
  data: "./data/inventory.kv",
  "hold-ttl": "15m",
  "payment-timeout": "15m",
  "queue-window": "30m",
  "admit-rate": "20",
  "admission-ttl": "2m",
  "queue-challenge": "0",
  "max-connections": "18000",
  "add-rate": "5",
  "max-connections-per-client": "32",
  "max-holds-per-client": "4",
  "ws-timeout": "60",
  "sse-heartbeat": "15",
  "body-timeout": "10",
  "max-url-bytes": "8192",
  "max-header-bytes": "16384",
  "tls-cert": "",
  "tls-key": "",
  "admin-session-minutes": "480",
} as const;

const ENV_NAMES = {
  port: "PORT",
  // Not HOSTNAME: Docker and Kubernetes set that to the container's name.
  hostname: "HOST",
  inventory: "INVENTORY",
  "max-products": "MAX_PRODUCTS",
  "webhook-timeout": "WEBHOOK_TIMEOUT",
  "poll-timeout": "POLL_TIMEOUT",
  data: "DATA",
  "hold-ttl": "HOLD_TTL",
  "payment-timeout": "PAYMENT_TIMEOUT",
  "queue-window": "QUEUE_WINDOW",
  "admit-rate": "ADMIT_RATE",
  "admission-ttl": "ADMISSION_TTL",
  "queue-challenge": "QUEUE_CHALLENGE",
  "max-connections": "MAX_CONNECTIONS",
  "add-rate": "ADD_RATE",
  "max-connections-per-client": "MAX_CONNECTIONS_PER_CLIENT",
  "max-holds-per-client": "MAX_HOLDS_PER_CLIENT",
  "ws-timeout": "WS_TIMEOUT",
  "sse-heartbeat": "SSE_HEARTBEAT",
  "body-timeout": "BODY_TIMEOUT",
  "max-url-bytes": "MAX_URL_BYTES",
  "max-header-bytes": "MAX_HEADER_BYTES",
  "tls-cert": "TLS_CERT",
  "tls-key": "TLS_KEY",
  "admin-session-minutes": "ADMIN_SESSION_MINUTES",
} as const;

/** The hardest join challenge: a page tries half this many hashes on average. */
const MAX_DIFFICULTY = 100_000_000;

/** The most shoppers a drop may admit a second, by flag or by the owner. */
export const MAX_ADMIT_RATE = 10_000;

/** A hold lasts at least a second and at most 30 days (as do a queue's window and an admission). */
const HOLD_TTL_RANGE_MS = [1_000, 30 * 86_400_000] as const;

/**
 * Drops a leading `--`: `deno task start -- --port 1` passes it on to the program, and people type
 * it from habit, so every command-line entry point accepts it.
 *
 * @param args The command-line arguments.
 * @returns The arguments without a leading `--`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.deepEqual(withoutSeparator(["--", "--port", "1"]), ["--port", "1"]);
 * assert.deepEqual(withoutSeparator(["--port", "--"]), ["--port", "--"]);
 * ```
 */
export function withoutSeparator(args: readonly string[]): string[] {
  return args[0] === "--" ? args.slice(1) : [...args];
}

/**
 * Parses flags, falling back to environment variables and then to defaults.
 *
 * @param args The command-line arguments, without the program name.
 * @param env Reads one environment variable; flags win over it.
 * @returns The usage request or the validated configuration.
 * @throws {TypeError} For an unknown flag or a flag without its value, in one line.
 * @throws {RangeError} For a bad value, naming the flag (or boolean variable) and the value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const invocation = parseConfig(["--port", "0"], () => undefined);
 * assert.equal(invocation.help, false);
 * if (!invocation.help) assert.equal(invocation.config.port, 0);
 * assert.throws(() => parseConfig(["--port", "x"], () => undefined), RangeError);
 * ```
 */
export function parseConfig(
  args: string[],
  env: (name: string) => string | undefined,
): Invocation {
  const flags = withoutSeparator(args);
  let values;
  try {
    ({ values } = parseArgs({
      args: flags,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: "string" },
        hostname: { type: "string" },
        inventory: { type: "string" },
        catalog: { type: "string" },
        "max-products": { type: "string" },
        "order-webhook": { type: "string" },
        "webhook-secret": { type: "string" },
        "webhook-timeout": { type: "string" },
        "poll-timeout": { type: "string" },
        data: { type: "string" },
        redis: { type: "string" },
        "hold-ttl": { type: "string" },
        "payment-timeout": { type: "string" },
        "queue-window": { type: "string" },
        "admit-rate": { type: "string" },
        "admission-ttl": { type: "string" },
        "queue-challenge": { type: "string" },
        "admin-token": { type: "string" },
        "admin-session-minutes": { type: "string" },
        "allowed-origin": { type: "string", multiple: true },
        "frame-ancestors": { type: "string" },
        "max-connections": { type: "string" },
        "add-rate": { type: "string" },
        "max-connections-per-client": { type: "string" },
        "max-holds-per-client": { type: "string" },
        "ws-timeout": { type: "string" },
        "sse-heartbeat": { type: "string" },
        "body-timeout": { type: "string" },
        "max-url-bytes": { type: "string" },
        "max-header-bytes": { type: "string" },
        "tls-cert": { type: "string" },
        "tls-key": { type: "string" },
        "trust-proxy": { type: "boolean" },
        "reuse-port": { type: "boolean" },
        help: { type: "boolean" },
      },
    }));
  } catch (error) {
    throw flagError(error as Error, flags);
  }
  if (values.help) return { help: true };

  const pick = (name: keyof typeof DEFAULTS): string =>
    values[name] ?? env(ENV_NAMES[name]) ?? DEFAULTS[name];

  const booleanEnv = (name: string): boolean => {
    const text = env(name);
    return text === undefined ? false : parseBoolean(name, text);
  };

  const origins = values["allowed-origin"] ??
    (env("ALLOWED_ORIGINS")?.split(",").filter((o) => o.trim() !== "") ?? []);

  return {
    help: false,
    config: {
      port: integerIn("--port", pick("port"), 0, 65535),
      hostname: hostnameOf(pick("hostname")),
      reusePort: values["reuse-port"] ?? booleanEnv("REUSE_PORT"),
      inventory: integerIn("--inventory", pick("inventory"), 0, 1_000_000_000),
      restock: (values.inventory ?? env(ENV_NAMES.inventory)) !== undefined,
      catalogPath: catalogPathOf(
        values.catalog ?? env("CATALOG"),
        values.inventory ?? env(ENV_NAMES.inventory),
      ),
      maxProducts: integerIn("--max-products", pick("max-products"), 1, 100_000),
      orderWebhook: orderWebhookOf(
        values["order-webhook"] ?? env("ORDER_WEBHOOK"),
        values["webhook-secret"] ?? env("WEBHOOK_SECRET"),
      ),
      webhookTimeoutMs: secondsIn("--webhook-timeout", pick("webhook-timeout"), 0.001, 300) * 1000,
      dataPath: dataPathOf(pick("data")),
      redis: redisUrlOf(values.redis ?? env("REDIS_URL")),
      holdTtlMs: durationIn("--hold-ttl", pick("hold-ttl"), ...HOLD_TTL_RANGE_MS),
      paymentTimeoutMs: durationIn(
        "--payment-timeout",
        pick("payment-timeout"),
        ...HOLD_TTL_RANGE_MS,
      ),
      queueWindowMs: durationIn("--queue-window", pick("queue-window"), ...HOLD_TTL_RANGE_MS),
      admitRate: integerIn("--admit-rate", pick("admit-rate"), 1, MAX_ADMIT_RATE),
      admissionTtlMs: durationIn("--admission-ttl", pick("admission-ttl"), ...HOLD_TTL_RANGE_MS),
      queueChallenge: integerIn("--queue-challenge", pick("queue-challenge"), 0, MAX_DIFFICULTY),
      adminToken: adminTokenOf(values["admin-token"] ?? env("ADMIN_TOKEN")),
      // A week at most: a stolen cookie outlives a sign-out until it expires.
      adminSessionMs:
        integerIn("--admin-session-minutes", pick("admin-session-minutes"), 1, 10_080) * 60_000,
      pollTimeoutMs: secondsIn("--poll-timeout", pick("poll-timeout"), 0.001, 3600) * 1000,
      allowedOrigins: origins.map((origin) => originOf(origin)),
      frameAncestors: frameAncestorsOf(values["frame-ancestors"] ?? env("FRAME_ANCESTORS")),
      maxConnections: integerIn("--max-connections", pick("max-connections"), 1, 1_000_000),
      addRate: integerIn("--add-rate", pick("add-rate"), 0, 1_000_000),
      maxConnectionsPerClient: integerIn(
        "--max-connections-per-client",
        pick("max-connections-per-client"),
        0,
        1_000_000,
      ),
      maxHoldsPerClient: integerIn(
        "--max-holds-per-client",
        pick("max-holds-per-client"),
        0,
        1_000_000,
      ),
      // Deno's idleTimeout counts whole seconds; below 2 its half would round to nothing useful.
      websocketTimeoutMs: integerIn("--ws-timeout", pick("ws-timeout"), 2, 3600) * 1000,
      sseHeartbeatMs: secondsIn("--sse-heartbeat", pick("sse-heartbeat"), 0.01, 3600) * 1000,
      bodyTimeoutMs: secondsIn("--body-timeout", pick("body-timeout"), 0.001, 3600) * 1000,
      maxUrlBytes: integerIn("--max-url-bytes", pick("max-url-bytes"), 256, 65536),
      maxHeaderBytes: integerIn("--max-header-bytes", pick("max-header-bytes"), 1024, 65536),
      tls: tlsOf(pick("tls-cert"), pick("tls-key")),
      trustProxy: values["trust-proxy"] ?? booleanEnv("TRUST_PROXY"),
    },
  };
}

/**
 * Turns an error of parseArgs into one line: its "argument is ambiguous" takes three lines to say
 * that a value starting with a dash needs `=`.
 */
function flagError(error: Error, flags: string[]): TypeError {
  const ambiguous = /^Option '(--[\w-]+)' argument is ambiguous/.exec(error.message);
  if (ambiguous) {
    const flag = ambiguous[1];
    const at = flags.findIndex((arg, i) => arg === flag && flags[i + 1]?.startsWith("-"));
    const next = flags[at + 1];
    return new TypeError(
      `${flag} is missing its value ("${next}" reads as a flag); if "${next}" is the value, ` +
        `write ${flag}=${next}`,
    );
  }
  return new TypeError(error.message.split("\n")[0]);
}
