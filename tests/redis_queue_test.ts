/** A drop's waiting room on a fleet: three processes on one real redis-server share one line and one draw. */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHash, createHmac } from "node:crypto";
import { CATALOG_FEED, eventually, postCart } from "./support/clients.ts";
import { closeFeeds, startFleet } from "./support/redis_fleet.ts";
import { redisMissing, startRedis } from "./support/redis_server.ts";
import type { ChildServer } from "./support/server.ts";
import {
  openLongPollFeed,
  openSseFeed,
  openWebSocketFeed,
  type StateFeed,
} from "./support/status_clients.ts";
import { within } from "./support/within.ts";
import { productInfo } from "./support/products.ts";
import { altchaPayload, solveChallenge } from "../static/altcha_solver.js";
import type { JoinChallengeJson } from "../lib/queue/join_challenge.ts";
import { Inventory } from "../lib/inventory/inventory.ts";
import type { QueueStatus } from "../lib/queue/drops.ts";
import { RedisDrops } from "../lib/store/redis_drops.ts";
import { hashEntries } from "../lib/store/redis_state.ts";
import { sendToRedis } from "./support/redis_truth.ts";
import { openRedisStore, type RedisStore } from "../lib/store/redis_store.ts";
import { systemClock } from "../lib/time/clock.ts";

const ADMIN_TOKEN = "fleet-queue-admin-token-01";
const DROP = "night-drop";
const QUEUE_FEED = `queue/status?product=${DROP}`;
const SESSIONS = 60;
const TOTAL = 10;

/** Lists the drop through one process and waits until every process's catalog shows it. */
async function listDrop(fleet: ChildServer[], opensAt: string): Promise<void> {
  const catalogs = await Promise.all(
    fleet.map((server) => openWebSocketFeed(server.url, {}, CATALOG_FEED)),
  );
  try {
    const listed = await fetch(new URL(`admin/products/${DROP}`, fleet[0].url), {
      method: "PUT",
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({
        name: "Night drop",
        price: { amount: "20.00", currency: "EUR" },
        total: TOTAL,
        opensAt,
      }),
    });
    assert.equal(listed.status, 201, await listed.text());
    for (const catalog of catalogs) {
      await catalog.waitForMessage((message) => message.product === DROP);
    }
  } finally {
    await closeFeeds(catalogs);
  }
}

interface Joined {
  readonly status: number;
  readonly body: { ticket?: string; number?: number | null; error?: string };
}

async function join(server: ChildServer, session: string): Promise<Joined> {
  const response = await fetch(new URL("queue", server.url), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ product: DROP, session }),
  });
  return { status: response.status, body: await response.json() };
}

interface TurnBody {
  readonly ticket: string | null;
  readonly number: number | null;
  readonly admitted: boolean;
}

async function turnOf(server: ChildServer, session: string): Promise<TurnBody> {
  const response = await fetch(new URL(`queue?product=${DROP}`, server.url), {
    headers: { cookie: `sid=${session}` },
  });
  assert.equal(response.status, 200);
  return await response.json();
}

const sha256 = (data: string | Uint8Array) => createHash("sha256").update(data).digest("hex");

Deno.test({
  name:
    "three processes: 60 joins in the window, one draw served alike, admissions by number against the stock, on every transport",
  ignore: redisMissing,
  async fn() {
    await using redis = await startRedis();
    await using fleet = await startFleet(redis.url, 3, [
      "--admin-token",
      ADMIN_TOKEN,
      "--queue-window",
      "1h",
      "--max-holds-per-client",
      "0",
    ]);
    await listDrop(fleet, new Date(Date.now() + 3_000).toISOString());
    // Each process's pages on another transport: the same line reaches every one.
    const feeds: StateFeed[] = [
      await openWebSocketFeed(fleet[0].url, {}, QUEUE_FEED),
      await openSseFeed(fleet[1].url, QUEUE_FEED),
      openLongPollFeed(fleet[2].url, 0, QUEUE_FEED),
    ];
    try {
      const commitments = await Promise.all(
        feeds.map((feed) =>
          feed.waitForMessage((message) => typeof message.commitment === "string")
        ),
      );
      assert.equal(new Set(commitments.map((message) => message.commitment)).size, 1);
      assert.equal(commitments[0].phase, "queueing");

      const sessions = Array.from({ length: SESSIONS }, () => crypto.randomUUID());
      const joins = await Promise.all(sessions.map((session, i) => join(fleet[i % 3], session)));
      for (const joined of joins) {
        assert.equal(joined.status, 200, JSON.stringify(joined.body));
        assert.equal(joined.body.number, null);
      }
      const tickets = joins.map((joined) => joined.body.ticket!);
      assert.equal(new Set(tickets).size, SESSIONS);
      // Joining again, through another process, gives the same ticket.
      const again = await join(fleet[1], sessions[0]);
      assert.deepEqual([again.status, again.body.ticket], [200, tickets[0]]);

      // The draw happens once: every process serves it, alike, and it recomputes.
      const opened = await Promise.all(
        feeds.map((feed) => feed.waitForMessage((message) => message.phase === "open")),
      );
      assert.equal(new Set(opened.map((message) => message.seed)).size, 1);
      const draws = await Promise.all(fleet.map(async (server) => {
        const response = await fetch(new URL(`queue/draw?product=${DROP}`, server.url));
        assert.equal(response.status, 200);
        return await response.json();
      }));
      assert.deepEqual(draws[1], draws[0]);
      assert.deepEqual(draws[2], draws[0]);
      const { seed, commitment, order, macs } = draws[0];
      assert.equal(sha256(Buffer.from(seed, "hex")), commitment);
      assert.equal(commitment, commitments[0].commitment);
      const mac = (ticket: string) =>
        createHmac("sha256", Buffer.from(seed, "hex")).update(ticket).digest("hex");
      const expected = [...tickets].sort((a, b) => mac(a) < mac(b) ? -1 : 1).map(sha256);
      assert.deepEqual(order, expected);
      assert.deepEqual(macs, tickets.map(mac).sort(), "each window ticket's HMAC, ascending");
      // Each was signed by the process it joined through, so the opening only sorted.
      const stored = await sendToRedis(redis.url, ["HGETALL", `inv:{${DROP}}:window-macs`]);
      assert.deepEqual(
        new Map(hashEntries(stored)),
        new Map(tickets.map((ticket) => [ticket, mac(ticket)])),
      );

      // Ten units: numbers 1 to 10 are admitted, on every process, and no further.
      for (const feed of feeds) {
        await feed.waitForMessage((message) => message.servingUpTo === TOTAL);
      }
      const turns = await Promise.all(
        sessions.map((session, i) => turnOf(fleet[(i + 1) % 3], session)),
      );
      const bySession = new Map(sessions.map((session, i) => [turns[i].number!, session]));
      assert.deepEqual(
        turns.map((turn) => turn.number).sort((a, b) => a! - b!),
        Array.from({ length: SESSIONS }, (_, i) => i + 1),
      );
      for (const turn of turns) assert.equal(turn.admitted, turn.number! <= TOTAL);
      const eleventh = bySession.get(TOTAL + 1)!;
      const early = await postCart(fleet[0].url, "add", eleventh, DROP);
      assert.equal(early.status, 409, JSON.stringify(early.body));
      for (let number = 1; number <= TOTAL; number++) {
        const added = await postCart(fleet[number % 3].url, "add", bySession.get(number)!, DROP);
        assert.equal(added.status, 200, `number ${number}: ${JSON.stringify(added.body)}`);
      }
      // A unit put back through one process admits number 11 on every process.
      const removed = await postCart(fleet[2].url, "remove", bySession.get(1)!, DROP);
      assert.equal(removed.status, 200);
      for (const feed of feeds) {
        await feed.waitForMessage((message) => message.servingUpTo === TOTAL + 1);
      }
      assert.equal((await turnOf(fleet[0], eleventh)).admitted, true);
      const late = await postCart(fleet[1].url, "add", eleventh, DROP);
      assert.equal(late.status, 200, JSON.stringify(late.body));
      // A ticket taken after the draw is numbered on arrival.
      const newcomer = await join(fleet[2], crypto.randomUUID());
      assert.deepEqual([newcomer.status, newcomer.body.number], [200, SESSIONS + 1]);
      for (const server of fleet) {
        assert.doesNotMatch(server.output(), /failed/, server.output());
      }
    } finally {
      await closeFeeds(feeds);
    }
  },
});

Deno.test({
  name: "Redis killed mid-joins and restarted on its AOF: no acknowledged ticket is lost",
  ignore: redisMissing,
  async fn() {
    await using redis = await startRedis();
    await using fleet = await startFleet(redis.url, 3, [
      "--admin-token",
      ADMIN_TOKEN,
      "--queue-window",
      "2h",
      "--max-holds-per-client",
      "0",
    ]);
    await listDrop(fleet, new Date(Date.now() + 3_600_000).toISOString());
    const acknowledged = new Map<string, string>();
    const joinAll = async (count: number) => {
      const sessions = Array.from({ length: count }, () => crypto.randomUUID());
      const joins = await Promise.all(sessions.map((session, i) => join(fleet[i % 3], session)));
      joins.forEach((joined, i) => {
        assert.equal(joined.status, 200, JSON.stringify(joined.body));
        acknowledged.set(sessions[i], joined.body.ticket!);
      });
    };
    await joinAll(SESSIONS / 2);
    await within(redis.signal("SIGKILL"), "the exit of the killed redis-server");
    // While Redis is gone a join is refused, never acknowledged.
    const refused = await join(fleet[1], crypto.randomUUID());
    assert.equal(refused.status, 503, JSON.stringify(refused.body));
    await within(redis.restart(), "redis-server's restart", 15_000);
    for (const server of fleet) {
      await eventually(async () => {
        const response = await fetch(new URL("readyz", server.url));
        await response.body?.cancel();
        return response.status === 200;
      }, "ready again");
    }
    await joinAll(SESSIONS / 2);
    assert.equal(acknowledged.size, SESSIONS);
    // Every acknowledged ticket is there on every process, and joining again keeps it.
    for (const [session, ticket] of acknowledged) {
      for (const server of fleet) assert.equal((await turnOf(server, session)).ticket, ticket);
    }
    const [session, ticket] = [...acknowledged][0];
    assert.equal((await join(fleet[2], session)).body.ticket, ticket);
    // The line counts each ticket once.
    const status = await (await fetch(new URL(`${QUEUE_FEED}&since=0`, fleet[0].url))).json();
    assert.equal(status.queued, SESSIONS);
  },
});

Deno.test({
  name:
    "three processes admit at most --admit-rate a second; unused admissions end and the line moves on, though a process died",
  ignore: redisMissing,
  async fn() {
    await using redis = await startRedis();
    await using fleet = await startFleet(redis.url, 3, [
      "--admin-token",
      ADMIN_TOKEN,
      "--queue-window",
      "1h",
      "--max-holds-per-client",
      "0",
      "--admit-rate",
      "5",
      "--admission-ttl",
      "2s",
    ]);
    await listDrop(fleet, new Date(Date.now() + 3_000).toISOString());
    const sessions = Array.from({ length: 30 }, () => crypto.randomUUID());
    const joins = await Promise.all(sessions.map((session, i) => join(fleet[i % 3], session)));
    assert.ok(joins.every((joined) => joined.status === 200));
    const feeds: StateFeed[] = await Promise.all(
      fleet.map((server) => openWebSocketFeed(server.url, {}, QUEUE_FEED)),
    );
    try {
      for (const feed of feeds) {
        const first = await feed.waitForMessage((message) => Number(message.servingUpTo) >= 1);
        const full = await feed.waitForMessage((message) => message.servingUpTo === TOTAL);
        // Ten admissions at five a second take a second at least, whichever process gave them.
        assert.ok(
          Number(full.serverTime) - Number(first.serverTime) >= 900,
          `${first.serverTime} → ${full.serverTime}`,
        );
      }
      // Nobody adds: the admissions end after 2 s and the next numbers are admitted, by the timer
      // of whichever process is left.
      fleet[0].process.kill("SIGKILL");
      await within(fleet[0].status, "the killed process's exit");
      for (const feed of feeds.slice(1)) {
        await feed.waitForMessage((message) => Number(message.servingUpTo) > TOTAL);
      }
      for (const server of fleet.slice(1)) {
        assert.doesNotMatch(server.output(), /failed/, server.output());
      }
    } finally {
      await closeFeeds(feeds);
    }
  },
});

interface ShopProcess {
  readonly store: RedisStore;
  readonly inventory: Inventory;
  readonly drops: RedisDrops;
}

/** Two processes' drops in this test process, each on its own connections to one Redis. */
async function openTwoProcesses(
  url: string,
  opensAt: string,
): Promise<ShopProcess[] & AsyncDisposable> {
  const processes: ShopProcess[] = [];
  for (let i = 0; i < 2; i++) {
    const store = await openRedisStore({
      url,
      holdTtlMs: 600_000,
      checkoutTimeoutMs: 5_000,
      clock: systemClock,
      log: () => {},
    });
    const inventory = await Inventory.open(store, 600_000);
    if (i === 0) await inventory.list({ info: productInfo(DROP, { opensAt }), total: TOTAL });
    const drops = await RedisDrops.open(
      inventory,
      store.lines(),
      {
        windowMs: 3_600_000,
        admitRate: 20,
        admissionTtlMs: 60_000,
        maxTicketsPerClient: 2,
      },
      systemClock,
      () => {},
    );
    processes.push({ store, inventory, drops });
  }
  return Object.assign(processes, {
    async [Symbol.asyncDispose]() {
      for (const { store, drops } of processes) {
        await drops.close();
        await store.close();
      }
    },
  });
}

/** Resolves when a drop's status on one process satisfies the predicate. */
function statusWhere(
  drops: RedisDrops,
  predicate: (status: QueueStatus) => boolean,
): Promise<QueueStatus> {
  const { promise, resolve } = Promise.withResolvers<QueueStatus>();
  const check = () => {
    const status = drops.status(DROP);
    if (status !== undefined && predicate(status)) resolve(status);
  };
  const stop = drops.onChange(check);
  check();
  return within(promise.finally(stop), "a drop's status");
}

Deno.test({
  name:
    "the owner's controls and the per-address count, set through one process, hold on the other",
  ignore: redisMissing,
  async fn() {
    await using redis = await startRedis();
    const opensAt = new Date(Date.now() + 1_000).toISOString();
    await using processes = await openTwoProcesses(redis.url, opensAt);
    const [a, b] = processes;
    await statusWhere(b.drops, (status) => status.commitment !== null);
    // Two tickets an address, counted over both processes.
    assert.equal((await a.drops.join(DROP, crypto.randomUUID(), "192.0.2.1")).ok, true);
    assert.equal((await b.drops.join(DROP, crypto.randomUUID(), "192.0.2.1")).ok, true);
    assert.deepEqual(await a.drops.join(DROP, crypto.randomUUID(), "192.0.2.1"), {
      ok: false,
      reason: "too many tickets",
    });
    const paused = await a.drops.control(DROP, { paused: true, admitRate: 3 });
    assert.deepEqual([paused?.paused, paused?.admitRate], [true, 3]);
    await statusWhere(b.drops, (status) => status.paused && status.admitRate === 3);
    // Drawn while paused: nobody is admitted until the owner resumes, through the other process.
    await statusWhere(a.drops, (status) => status.phase === "open");
    assert.equal(b.drops.status(DROP)!.servingUpTo, 0);
    await b.drops.control(DROP, { paused: false, admitRate: null });
    const resumed = await statusWhere(a.drops, (status) => status.servingUpTo === 2);
    assert.deepEqual([resumed.paused, resumed.admitRate], [false, 20]);
    const draws = [await a.drops.draw(DROP), await b.drops.draw(DROP)];
    assert.deepEqual(draws[0], draws[1]);
    assert.equal(draws[0]?.order.length, 2);
    // A second application of a draw, whatever its order, changes nothing.
    const lines = a.store.lines();
    const keys = lines.keys(DROP);
    const numbered = await lines.send(["HGETALL", keys.tickets]);
    const window = await lines.send(["LRANGE", keys.window, "0", "-1"]) as string[];
    const context = [DROP, String(Date.parse(opensAt)), "3600000", "20", "60000", "", ""];
    const [refused] = await lines.call("queue_apply_draw", DROP, [
      ...context,
      ...[...window].reverse(),
    ]);
    assert.equal(refused, "drawn");
    assert.deepEqual(await lines.send(["HGETALL", keys.tickets]), numbered);
  },
});

Deno.test({
  name:
    "with --queue-challenge, a challenge made by one process is solved and spent on another, and refused as a replay on a third",
  ignore: redisMissing,
  async fn() {
    await using redis = await startRedis();
    await using fleet = await startFleet(redis.url, 3, [
      "--admin-token",
      ADMIN_TOKEN,
      "--queue-window",
      "1h",
      "--queue-challenge",
      "2000",
      "--max-holds-per-client",
      "0",
    ]);
    await listDrop(fleet, new Date(Date.now() + 600_000).toISOString());
    const [a, b, c] = fleet;
    const post = (server: ChildServer, session: string, altcha?: string) =>
      fetch(new URL("queue", server.url), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ product: DROP, session, altcha }),
      }).then(async (response) => ({ status: response.status, body: await response.json() }));
    const challenge: JoinChallengeJson = await (await fetch(new URL("queue/challenge", a.url)))
      .json();
    const solution = await solveChallenge(challenge);
    assert.notEqual(solution, null);
    const altcha = altchaPayload(challenge, solution!);
    const first = crypto.randomUUID();
    assert.equal((await post(b, first)).status, 403, "no solution, no ticket");
    const joined = await post(b, first, altcha);
    assert.equal(joined.status, 200, JSON.stringify(joined.body));
    const replay = await post(c, crypto.randomUUID(), altcha);
    assert.equal(replay.status, 403, "a solution serves once over the whole fleet");
    assert.equal((await post(a, crypto.randomUUID(), altcha)).status, 403);
    // The shopper who joined is known everywhere, with no new challenge.
    assert.equal((await post(c, first)).body.ticket, joined.body.ticket);
  },
});
