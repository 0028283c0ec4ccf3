/** Several server processes on one Redis: a fleet a test starts and always stops. */
import { type ChildServer, spawnServer } from "./server.ts";
import type { StateFeed } from "./status_clients.ts";

/**
 * Starts `count` server processes on one Redis with the same flags, one after another.
 *
 * @param redisUrl The Redis every process uses (`--redis`).
 * @param count How many processes.
 * @param args More flags for each.
 * @returns The processes; disposing the list kills every one still running.
 */
export async function startFleet(
  redisUrl: string,
  count: number,
  args: string[] = [],
): Promise<ChildServer[] & AsyncDisposable> {
  const servers: ChildServer[] = [];
  const stop = () => Promise.all(servers.map((server) => server[Symbol.asyncDispose]()));
  try {
    for (let i = 0; i < count; i++) {
      servers.push(await spawnServer(["--redis", redisUrl, ...args]));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return Object.assign(servers, {
    async [Symbol.asyncDispose]() {
      await stop();
    },
  });
}

/**
 * Closes every feed.
 *
 * @param feeds The feeds.
 */
export async function closeFeeds(feeds: readonly StateFeed[]): Promise<void> {
  await Promise.all(feeds.map((feed) => feed[Symbol.asyncDispose]()));
}
