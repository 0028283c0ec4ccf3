/** The admin feed of a fleet on a real redis-server: every process's watchers, every process's changes. */
import assert from "node:assert/strict";
import { postCart } from "./support/clients.ts";
import { openAdminFeed } from "./support/admin_feed.ts";
import { startFleet } from "./support/redis_fleet.ts";
import { redisMissing, startRedis } from "./support/redis_server.ts";
import { sendToRedis } from "./support/redis_truth.ts";
import { openLongPollFeed, openWebSocketFeed } from "./support/status_clients.ts";

const TOKEN = "fleet-dashboard-token-01";
const WATCHERS_KEY = "inv:{fleet}:watchers";

Deno.test({
  name: "the feed of one process lists both processes' watchers and counts the other's adds",
  ignore: redisMissing,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using redis = await startRedis();
    // A process that stopped long ago, and a field no process wrote: readers delete both.
    const stale = JSON.stringify({ websocket: 9, sse: 9, longPoll: 9, at: 1 });
    await sendToRedis(redis.url, ["HSET", WATCHERS_KEY, "gone", stale, "junk", "{"]);
    await using fleet = await startFleet(redis.url, 2, [
      "--inventory",
      "5",
      "--admin-token",
      TOKEN,
    ]);
    await using socket = await openWebSocketFeed(fleet[0].url);
    await using poll = openLongPollFeed(fleet[1].url, 0);
    await using feed = await openAdminFeed(fleet[0].url, { authorization: `Bearer ${TOKEN}` });
    const snapshot = (await feed.next("snapshot")).data;
    assert.deepEqual(snapshot.store, { kind: "redis", reachable: true, lastError: null });

    // The other process shares its counts every 5 s: the feed's 10 s wait covers it.
    const both = await feed.next(
      "tick",
      (tick) => tick.watchers.processes.length === 2 && tick.watchers.total.longPoll === 1,
    );
    const [own, other] = both.data.watchers.processes;
    assert.deepEqual([own.process, own.websocket, own.sse, own.longPoll], [
      snapshot.process,
      1,
      0,
      0,
    ]);
    assert.notEqual(other.process, snapshot.process);
    assert.deepEqual([other.websocket, other.sse, other.longPoll], [0, 0, 1]);
    assert.deepEqual(both.data.watchers.total, { websocket: 1, sse: 0, longPoll: 1 });
    const fields = await sendToRedis(redis.url, ["HKEYS", WATCHERS_KEY]) as string[];
    assert.deepEqual(fields.sort(), [own.process, other.process].sort());

    assert.equal((await postCart(fleet[1].url, "add", crypto.randomUUID())).status, 200);
    const product = await feed.next("product");
    assert.deepEqual([product.data.held, product.data.version], [1, 1]);
    const tick = await feed.next("tick", (tick) => tick.holds > 0);
    assert.equal(tick.data.holds, 1);
    await socket.waitFor((state) => state.version === 1);
    await poll.waitFor((state) => state.version === 1);
  },
});

Deno.test({
  name: "a frozen Redis shows in the ticks as unreachable, and the ticks go on",
  ignore: redisMissing,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using redis = await startRedis();
    await using fleet = await startFleet(redis.url, 1, ["--admin-token", TOKEN]);
    await using feed = await openAdminFeed(fleet[0].url, { authorization: `Bearer ${TOKEN}` });
    await feed.next("snapshot");
    await redis.signal("SIGSTOP");
    try {
      const down = await feed.next("tick", (tick) => !tick.store.reachable);
      assert.equal(typeof down.data.store.lastError, "string");
      assert.equal(down.data.watchers.processes.length, 1);
    } finally {
      await redis.signal("SIGCONT");
    }
    await feed.next("tick", (tick) => tick.at > 0 && tick.store.reachable);
  },
});
