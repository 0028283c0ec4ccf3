/** Presence on Redis: one hash field per process's watchers, stale ones deleted by readers. */
import type { Presence, ProcessWatchers } from "../realtime/presence.ts";
import { hashEntries } from "./redis_state.ts";

/** Sends one command through the store's connection (with its deadline). */
export type Send = (args: string[]) => Promise<unknown>;

/**
 * The fleet's presence in a Redis hash: the Redis adapter of the real-time layer's port.
 *
 * @param send Sends a command through the store's connection.
 * @param key The hash (`inv:{fleet}:watchers`).
 * @returns The presence; other processes read what it shares.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const hash = new Map<string, string>();
 * const send = (args: string[]) => {
 *   if (args[0] === "HSET") hash.set(args[2], args[3]);
 *   return Promise.resolve(args[0] === "HGETALL" ? [...hash].flat() : 1);
 * };
 * const presence = redisPresence(send, "inv:{fleet}:watchers");
 * await presence.share({ process: "p-1", websocket: 2, sse: 0, longPoll: 1, at: 5 });
 * assert.deepEqual(await presence.fleet(0), [
 *   { process: "p-1", websocket: 2, sse: 0, longPoll: 1, at: 5 },
 * ]);
 * ```
 */
export function redisPresence(send: Send, key: string): Presence {
  return {
    shared: true,
    share: (watchers) => writeWatchers(send, key, watchers),
    fleet: (since) => readWatchers(send, key, since),
  };
}

/**
 * Writes a process's counts into the fleet's hash, replacing the ones it wrote before.
 *
 * @param send Sends a command.
 * @param key The hash (`inv:{fleet}:watchers`).
 * @param watchers The process's counts.
 * @throws {StoreUnavailableError} When Redis cannot be reached.
 */
export async function writeWatchers(
  send: Send,
  key: string,
  watchers: ProcessWatchers,
): Promise<void> {
  const { process, websocket, sse, longPoll, at } = watchers;
  await send(["HSET", key, process, JSON.stringify({ websocket, sse, longPoll, at })]);
}

/**
 * Reads every process's counts from the fleet's hash, deleting those taken before `since` (a
 * process that stopped) and any that cannot be read.
 *
 * @param send Sends a command.
 * @param key The hash (`inv:{fleet}:watchers`).
 * @param since The oldest counts kept, in ms since the epoch.
 * @returns Each process's counts, by process id.
 * @throws {StoreUnavailableError} When Redis cannot be reached.
 */
export async function readWatchers(
  send: Send,
  key: string,
  since: number,
): Promise<ProcessWatchers[]> {
  const fresh: ProcessWatchers[] = [];
  const stale: string[] = [];
  for (const [process, raw] of hashEntries(await send(["HGETALL", key]))) {
    const watchers = parseWatchers(process, raw);
    if (watchers === undefined || watchers.at < since) stale.push(process);
    else fresh.push(watchers);
  }
  if (stale.length > 0) await send(["HDEL", key, ...stale]);
  return fresh.sort((a, b) => a.process < b.process ? -1 : a.process > b.process ? 1 : 0);
}

/**
 * Reads one field of the fleet's hash.
 *
 * @param process The field: the process's id.
 * @param raw The value: JSON `{websocket, sse, longPoll, at}`.
 * @returns The counts, or undefined when the value is not such JSON.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const raw = '{"websocket":2,"sse":1,"longPoll":0,"at":1800000000000}';
 * assert.deepEqual(parseWatchers("p-1", raw), {
 *   process: "p-1", websocket: 2, sse: 1, longPoll: 0, at: 1_800_000_000_000,
 * });
 * assert.equal(parseWatchers("p-1", '{"websocket":"2"}'), undefined);
 * ```
 */
export function parseWatchers(process: string, raw: string): ProcessWatchers | undefined {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const { websocket, sse, longPoll, at } = value ?? {};
  const counts = [websocket, sse, longPoll, at];
  if (!counts.every((n) => typeof n === "number" && Number.isSafeInteger(n) && n >= 0)) {
    return undefined;
  }
  return {
    process,
    websocket: websocket as number,
    sse: sse as number,
    longPoll: longPoll as number,
    at: at as number,
  };
}
