/** Turns command-line flags and environment variables into one validated {@linkcode Config}. */
import { parseArgs } from "node:util";

/** Everything the server needs to know at start, already validated. */
export interface Config {
  /** TCP port to listen on; 0 picks a free one. */
  port: number;
  /** Address to bind. */
  hostname: string;
  /** Units of the product in stock when the server starts. */
  inventory: number;
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
  --inventory N        units in stock at start                [INVENTORY]     (default 10)
  --poll-timeout S     seconds a long poll waits for a change [POLL_TIMEOUT]  (default 25)
  --allowed-origin O   another origin allowed to post and subscribe, repeatable
                                                              [ALLOWED_ORIGINS, comma-separated]
  --help               print this text and exit`;

const DEFAULTS = {
  port: "8000",
  hostname: "127.0.0.1",
  inventory: "10",
  "poll-timeout": "25",
} as const;

const ENV_NAMES = {
  port: "PORT",
  hostname: "HOSTNAME",
  inventory: "INVENTORY",
  "poll-timeout": "POLL_TIMEOUT",
} as const;

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
