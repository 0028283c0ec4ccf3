/** Says in one line why the server could not start: which flag or file, and what to do. */
import { StoreUnavailableError } from "../inventory/store_port.ts";
import { redactedUrl } from "../store/redis_url.ts";
import type { Config } from "./config.ts";

/** The settings a start failure can be traced back to (`redis` when a Redis store was opened). */
export type StartSettings =
  & Pick<Config, "port" | "hostname" | "dataPath" | "tls">
  & Partial<Pick<Config, "redis">>;

/**
 * Maps an error thrown by `startServer` to one line naming the flag or file at fault and what to
 * change. Errors it does not know keep their own message, on one line.
 *
 * @param error What `startServer` threw.
 * @param settings The configuration it was started with.
 * @returns One line, without a trailing newline.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 *
 * const settings = { port: 8000, hostname: "127.0.0.1", dataPath: ":memory:" };
 * assert.equal(
 *   describeStartFailure(new Deno.errors.AddrInUse("Address already in use"), settings),
 *   "port 8000 is already in use on 127.0.0.1; stop what holds it, " +
 *     "or choose another port with --port or PORT",
 * );
 * ```
 */
export function describeStartFailure(error: unknown, settings: StartSettings): string {
  const message = error instanceof Error ? error.message : String(error);
  const host = `--hostname/HOST "${settings.hostname}"`;
  if (error instanceof Deno.errors.AddrInUse) {
    return `port ${settings.port} is already in use on ${settings.hostname}; stop what holds it, ` +
      "or choose another port with --port or PORT";
  }
  if (error instanceof Deno.errors.AddrNotAvailable) {
    return `${host} is not an address of this machine; listen on one of its addresses, ` +
      "127.0.0.1 (this machine only) or 0.0.0.0 (every interface)";
  }
  if (/failed to lookup address/i.test(message)) {
    return `${host} is not a name this machine can look up; give an IP address of this machine, ` +
      "127.0.0.1 (this machine only) or 0.0.0.0 (every interface)";
  }
  if (error instanceof StoreUnavailableError && settings.redis) {
    const cause = error.cause instanceof Error ? error.cause.message : message;
    return `--redis ${redactedUrl(settings.redis)} cannot be reached (${cause}); start Redis ` +
      "there, or give its URL with --redis or REDIS_URL";
  }
  const data = `--data ${settings.dataPath}`;
  if (/is not a database/i.test(message)) {
    return `${data} is not a Deno KV database; choose another path, or move the file away`;
  }
  if (/unable to open database file/i.test(message)) {
    return `${data} cannot be opened as a Deno KV file (a folder, or a place this user may not ` +
      "write?); choose another path";
  }
  const folder = /: mkdir '(.*)'$/s.exec(message)?.[1];
  if (folder !== undefined) {
    return `${data}: its folder ${folder} cannot be created (${reasonOf(message)}); ` +
      "choose another path";
  }
  if (settings.tls) {
    const { certFile, keyFile } = settings.tls;
    for (const [flag, file] of [["--tls-cert", certFile], ["--tls-key", keyFile]]) {
      if (message.includes(`readfile '${file}'`)) {
        return `${flag} ${file} cannot be read (${reasonOf(message)}); give the path of a PEM file`;
      }
    }
    if (error instanceof Deno.errors.InvalidData) {
      return `--tls-cert ${certFile} and --tls-key ${keyFile} are not ` +
        `a PEM certificate and its key (${message}); give the right files`;
    }
  }
  return `could not start: ${message.replace(/\s*\n\s*/g, " ")}`;
}

/** The words of an OS error without its number and call: "No such file or directory". */
function reasonOf(message: string): string {
  return message.replace(/ \(os error \d+\).*$/s, "");
}
