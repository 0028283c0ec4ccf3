/** Turns command-line flags and environment variables into one validated {@linkcode Config}. */
import { parseArgs } from "node:util";

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
}

/** What the command line asked for: either a usage text or a server to run. */
export type Invocation = { help: true } | { help: false; config: Config };

/** The text printed by `--help`. */
export const USAGE = `Usage: deno task start [-- options]

Options (each also read from the environment variable in brackets):
  --port N             TCP port, 0 for any free port          [PORT]          (default 8000)
  --hostname HOST      address to listen on                   [HOSTNAME]      (default 127.0.0.1)
  --inventory N        total of a new data file; given on an
                       existing one: a restock, holds kept    [INVENTORY]     (default 10)
  --data PATH          Deno KV file keeping stock and holds, or :memory:
                                                              [DATA]   (default ./data/inventory.kv)
  --hold-ttl T         how long a hold lasts after the last add, in seconds
                       or with a unit: 90s, 15m, 2h, 1d       [HOLD_TTL]      (default 15m)
  --admin-token TOKEN  bearer token of POST /admin/inventory, 16+ characters;
                       without one the admin API is off       [ADMIN_TOKEN]
  --poll-timeout S     seconds a long poll waits for a change [POLL_TIMEOUT]  (default 25)
  --allowed-origin O   another origin allowed to post and subscribe, repeatable
                                                              [ALLOWED_ORIGINS, comma-separated]
  --help               print this text and exit`;

const DEFAULTS = {
  port: "8000",
  hostname: "127.0.0.1",
  inventory: "10",
  "poll-timeout": "25",
  data: "./data/inventory.kv",
  "hold-ttl": "15m",
} as const;

const ENV_NAMES = {
  port: "PORT",
  hostname: "HOSTNAME",
  inventory: "INVENTORY",
  "poll-timeout": "POLL_TIMEOUT",
  data: "DATA",
  "hold-ttl": "HOLD_TTL",
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
 * Parses flags, falling back to environment variables and then to defaults.
 *
 * @param args The command-line arguments, without the program name.
 * @param env Reads one environment variable; flags win over it.
 * @returns The usage request or the validated configuration.
 * @throws {TypeError} For an unknown flag or a flag without its value.
 * @throws {RangeError} For a value out of range, naming the flag and the value.
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
  // `deno task start -- --port 1` passes the "--" on; npm-style habits should still work.
  const flags = args[0] === "--" ? args.slice(1) : args;
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
        "poll-timeout": { type: "string" },
        data: { type: "string" },
        "hold-ttl": { type: "string" },
        "admin-token": { type: "string" },
        "allowed-origin": { type: "string", multiple: true },
        help: { type: "boolean" },
      },
    }));
  } catch (error) {
    throw new TypeError((error as Error).message);
  }
  if (values.help) return { help: true };

  const pick = (name: keyof typeof DEFAULTS): string =>
    values[name] ?? env(ENV_NAMES[name]) ?? DEFAULTS[name];

  const origins = values["allowed-origin"] ??
    (env("ALLOWED_ORIGINS")?.split(",").filter((o) => o.trim() !== "") ?? []);

  return {
    help: false,
    config: {
      port: integerIn("--port", pick("port"), 0, 65535),
      hostname: hostnameOf(pick("hostname")),
      inventory: integerIn("--inventory", pick("inventory"), 0, 1_000_000_000),
      restock: (values.inventory ?? env(ENV_NAMES.inventory)) !== undefined,
      dataPath: dataPathOf(pick("data")),
      holdTtlMs: durationIn("--hold-ttl", pick("hold-ttl"), ...HOLD_TTL_RANGE_MS),
      adminToken: adminTokenOf(values["admin-token"] ?? env("ADMIN_TOKEN")),
      pollTimeoutMs: secondsIn("--poll-timeout", pick("poll-timeout"), 0.001, 3600) * 1000,
      allowedOrigins: origins.map(originOf),
    },
  };
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
