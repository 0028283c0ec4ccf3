/** Turns command-line flags and environment variables into one validated {@linkcode Config}. */
import { parseArgs } from "node:util";
import { parseBoolean } from "./boolean_setting.ts";

/** Everything the server needs to know at start, already validated. */
export interface Config {
  /** TCP port to listen on; 0 picks a free one. */
  port: number;
  /** Address to bind. */
  hostname: string;
  /** Units of the product in stock: the total of a new data file, or a restock (see `restock`). */
  inventory: number;
  /** Whether `inventory` was given (flag or env): then it replaces a stored total as a restock. */
  restock: boolean;
  /** The catalog file; undefined serves the demo's one product. */
  catalogPath: string | undefined;
  /** The most products the catalog may hold (file and admin API alike). */
  maxProducts: number;
  /** The shop's order service, called to confirm each checkout; undefined sells at once. */
  orderWebhook: { url: string; secret: string } | undefined;
  /** How long a checkout may take, all tries of the order service included, in ms. */
  webhookTimeoutMs: number;
  /** Where the inventory is kept: a Deno KV file, or `:memory:` for a throwaway run. */
  dataPath: string;
  /** How long a hold lasts after the shopper's last add, in ms. */
  holdTtlMs: number;
  /** The bearer token of the admin API; undefined turns the admin routes off. */
  adminToken: string | undefined;
  /** How long a long poll waits for a change before answering the current state, in ms. */
  pollTimeoutMs: number;
  /** Origins other than the server's own that may change the cart or open sockets. */
  allowedOrigins: string[];
  /** Long polls, event streams and WebSockets held at once; past it new ones get 503. */
  maxConnections: number;
  /** A WebSocket silent this long is pinged at half of it and closed if still silent, in ms. */
  websocketTimeoutMs: number;
  /** How often an event stream gets a heartbeat comment; one that reads none is ended, in ms. */
  sseHeartbeatMs: number;
  /** A request body must arrive within this long, else 408 with `Connection: close`, in ms. */
  bodyTimeoutMs: number;
  /** The longest request target (path and query) accepted, in bytes; longer gets 414. */
  maxUrlBytes: number;
  /** The most header bytes (names and values) accepted; more gets 431. */
  maxHeaderBytes: number;
  /** PEM certificate and key files: when both are given the server speaks HTTPS. */
  tls?: { certFile: string; keyFile: string };
  /** Believe a reverse proxy's `X-Forwarded-Proto`, `X-Forwarded-Host` and `Forwarded`. */
  trustProxy: boolean;
}

/** What the command line asked for: either a usage text or a server to run. */
export type Invocation = { help: true } | { help: false; config: Config };

/** The text printed by `--help`. */
export const USAGE = `Usage: deno task start [-- options]

Options (each also read from the environment variable in brackets):
  --port N             TCP port, 0 for any free port          [PORT]          (default 8000)
  --hostname ADDRESS   address to listen on (never HOSTNAME)  [HOST]          (default 127.0.0.1)
  --inventory N        total of a new data file; given on an
                       existing one: a restock, holds kept    [INVENTORY]     (default 10)
  --catalog FILE       JSON catalog of products (see README); without one the
                       demo's one product is served           [CATALOG]
  --max-products N     most products in the catalog           [MAX_PRODUCTS]  (default 1000)
  --order-webhook URL  the order service confirming each checkout; without one a
                       checkout sells at once (demo mode)     [ORDER_WEBHOOK]
  --webhook-secret S   HMAC-SHA256 key signing each order, 16+ characters
                                                              [WEBHOOK_SECRET]
  --webhook-timeout S  seconds a checkout may take            [WEBHOOK_TIMEOUT] (default 5)
  --data PATH          Deno KV file keeping stock and holds, or :memory:
                                                              [DATA]   (default ./data/inventory.kv)
  --hold-ttl T         how long a hold lasts after the last add, in seconds
                       or with a unit: 90s, 15m, 2h, 1d       [HOLD_TTL]      (default 15m)
  --admin-token TOKEN  bearer token of POST /admin/inventory, 16+ characters;
                       without one the admin API is off       [ADMIN_TOKEN]
  --poll-timeout S     seconds a long poll waits for a change [POLL_TIMEOUT]  (default 25)
  --allowed-origin O   another origin allowed to post and subscribe, repeatable
                                                              [ALLOWED_ORIGINS, comma-separated]
  --max-connections N  long polls, streams and WebSockets held [MAX_CONNECTIONS] (default 18000)
  --ws-timeout S       silent WebSocket: ping at S/2, drop at S [WS_TIMEOUT]     (default 60)
  --sse-heartbeat S    stream heartbeat; a stream that takes nothing for one interval is ended
                                                              [SSE_HEARTBEAT]  (default 15)
  --body-timeout S     seconds a request body may take        [BODY_TIMEOUT]   (default 10)
  --max-url-bytes N    longest path and query                 [MAX_URL_BYTES]  (default 8192)
  --max-header-bytes N most header bytes                      [MAX_HEADER_BYTES] (default 16384)
  --tls-cert FILE      PEM certificate; with --tls-key, HTTPS [TLS_CERT]
  --tls-key FILE       PEM private key                        [TLS_KEY]
  --trust-proxy        believe a proxy's X-Forwarded-Proto, -Host and Forwarded
                                                              [TRUST_PROXY]   (default off)
  --help               print this text and exit

A boolean variable is 1, true, yes or on, or 0, false, no or off, in any case; anything else is
refused. A bad flag or value exits 2 and a failed start (port in use, an address not of this
machine, a data file that is not Deno KV) exits 1, each with one line saying what to change.`;

const DEFAULTS = {
  port: "8000",
  hostname: "127.0.0.1",
  inventory: "10",
  "max-products": "1000",
  "webhook-timeout": "5",
  "poll-timeout": "25",
  data: "./data/inventory.kv",
  "hold-ttl": "15m",
  "max-connections": "18000",
  "ws-timeout": "60",
  "sse-heartbeat": "15",
  "body-timeout": "10",
  "max-url-bytes": "8192",
  "max-header-bytes": "16384",
  "tls-cert": "",
  "tls-key": "",
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
  "max-connections": "MAX_CONNECTIONS",
  "ws-timeout": "WS_TIMEOUT",
  "sse-heartbeat": "SSE_HEARTBEAT",
  "body-timeout": "BODY_TIMEOUT",
  "max-url-bytes": "MAX_URL_BYTES",
  "max-header-bytes": "MAX_HEADER_BYTES",
  "tls-cert": "TLS_CERT",
  "tls-key": "TLS_KEY",
} as const;

/** A hold lasts at least a second and at most 30 days. */
const HOLD_TTL_RANGE_MS = [1_000, 30 * 86_400_000] as const;

const DURATION_UNITS_MS: Record<string, number> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/**
 * Drops a leading `--`: `deno task start -- --port 1` passes it on to the program, and people type
 * it from habit, so every command-line entry point accepts it.
 *
 * @param args The command-line arguments.
 * @returns The arguments without a leading `--`.
 *
 * @example
 * ```ts
 * console.log(withoutSeparator(["--", "--port", "1"])); // ["--port", "1"]
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
 * const invocation = parseConfig(["--port", "0"], () => undefined);
 * if (!invocation.help) console.log(invocation.config.port); // 0
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
        "hold-ttl": { type: "string" },
        "admin-token": { type: "string" },
        "allowed-origin": { type: "string", multiple: true },
        "max-connections": { type: "string" },
        "ws-timeout": { type: "string" },
        "sse-heartbeat": { type: "string" },
        "body-timeout": { type: "string" },
        "max-url-bytes": { type: "string" },
        "max-header-bytes": { type: "string" },
        "tls-cert": { type: "string" },
        "tls-key": { type: "string" },
        "trust-proxy": { type: "boolean" },
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
      holdTtlMs: durationIn("--hold-ttl", pick("hold-ttl"), ...HOLD_TTL_RANGE_MS),
      adminToken: adminTokenOf(values["admin-token"] ?? env("ADMIN_TOKEN")),
      pollTimeoutMs: secondsIn("--poll-timeout", pick("poll-timeout"), 0.001, 3600) * 1000,
      allowedOrigins: origins.map(originOf),
      maxConnections: integerIn("--max-connections", pick("max-connections"), 1, 1_000_000),
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

function tlsOf(certFile: string, keyFile: string): Config["tls"] {
  if (certFile === "" && keyFile === "") return undefined;
  if (certFile === "" || keyFile === "") {
    throw new RangeError("--tls-cert and --tls-key must be given together");
  }
  return { certFile, keyFile };
}

function integerIn(
  flag: string,
  text: string,
  min: number,
  max: number,
): number {
  const value = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(
      `${flag} must be a whole number from ${min} to ${max}, got "${text}"`,
    );
  }
  return value;
}

function secondsIn(
  flag: string,
  text: string,
  min: number,
  max: number,
): number {
  const value = /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) {
    throw new RangeError(
      `${flag} must be a number of seconds from ${min} to ${max}, got "${text}"`,
    );
  }
  return value;
}

function durationIn(flag: string, text: string, minMs: number, maxMs: number): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$/.exec(text);
  const ms = match ? Math.round(Number(match[1]) * DURATION_UNITS_MS[match[2] || "s"]) : NaN;
  if (!(ms >= minMs && ms <= maxMs)) {
    throw new RangeError(
      `${flag} must be a duration from 1s to 30d, in seconds or like 90s, 15m, 2h, got "${text}"`,
    );
  }
  return ms;
}

function catalogPathOf(
  text: string | undefined,
  inventory: string | undefined,
): string | undefined {
  if (text === undefined) return undefined;
  if (text.trim() === "") throw new RangeError(`--catalog must be a file path, got ""`);
  // Each product's total comes from the file; --inventory is the demo's one total.
  if (inventory !== undefined) {
    throw new RangeError(
      "--inventory sets the demo product's stock: with --catalog, set each total in the file",
    );
  }
  return text;
}

function orderWebhookOf(
  url: string | undefined,
  secret: string | undefined,
): Config["orderWebhook"] {
  if (url === undefined) {
    if (secret !== undefined) throw new RangeError("--webhook-secret needs --order-webhook");
    return undefined;
  }
  const parsed = URL.parse(url);
  if (parsed === null || (parsed.protocol !== "https:" && parsed.protocol !== "http:")) {
    throw new RangeError(`--order-webhook must be an http:// or https:// URL, got "${url}"`);
  }
  if (secret === undefined || !/^[\x21-\x7e]{16,}$/.test(secret)) {
    throw new RangeError(
      "--order-webhook needs --webhook-secret (WEBHOOK_SECRET): 16+ visible ASCII characters",
    );
  }
  return { url: parsed.href, secret };
}

function dataPathOf(text: string): string {
  if (text.trim() === "") throw new RangeError(`--data must be a file path or :memory:, got ""`);
  return text;
}

function adminTokenOf(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  // It travels in an Authorization header: visible ASCII only, and long enough not to be guessed.
  if (!/^[\x21-\x7e]{16,}$/.test(text)) {
    throw new RangeError(
      "--admin-token must be at least 16 visible ASCII characters without spaces",
    );
  }
  return text;
}

function hostnameOf(text: string): string {
  if (!/^[A-Za-z0-9.:\-\[\]]+$/.test(text)) {
    throw new RangeError(
      `--hostname must be a host name or IP address, got "${text}"`,
    );
  }
  return text;
}

function originOf(text: string): string {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new RangeError(
      `--allowed-origin must be an origin like https://shop.example, got "${text}"`,
    );
  }
  if (url.origin === "null" || url.pathname !== "/" || url.search || url.hash) {
    throw new RangeError(
      `--allowed-origin must be an origin like https://shop.example, got "${text}"`,
    );
  }
  return url.origin;
}
