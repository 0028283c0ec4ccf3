/** Holds per client address (`--max-holds-per-client`) over real sockets from several source addresses, on every engine and across a Redis fleet. */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Config } from "../lib/server/config.ts";
import { eventually, metric } from "./support/clients.ts";
import { FakeClock } from "./support/fake_clock.ts";
import { loopbackAddress, postCartFrom } from "./support/from_address.ts";
import { redisMissing, startRedis } from "./support/redis_server.ts";
import { DEMO, spawnServer, startTestServer } from "./support/server.ts";

const TTL_MS = 60_000;
const MAX_HOLDS = 4;
/** Adds sent at once: enough that the store decides many of one address's adds together. */
const AT_ONCE = 50;

/** Adds the demo product for each session from one address, `AT_ONCE` at a time. */
async function addAll(address: string, base: string, sessions: string[]) {
  const answers = [];
  for (let i = 0; i < sessions.length; i += AT_ONCE) {
    answers.push(
      ...await Promise.all(
        sessions.slice(i, i + AT_ONCE).map((session) =>
          postCartFrom(address, base, "add", DEMO, session)
        ),
      ),
    );
  }
  return answers;
}

const sessions = (n: number) => Array.from({ length: n }, () => crypto.randomUUID());

Deno.test("one address with 1,000 fresh sessions holds exactly --max-holds-per-client units; the rest is 429 with Retry-After; other addresses still get units", async () => {
  const clock = new FakeClock();
  await using server = await startTestServer({ holdTtlMs: TTL_MS }, { clock });
  const hoarder = loopbackAddress(0);
  const answers = await addAll(hoarder, server.url, sessions(1_000));
  const held = answers.filter((answer) => answer.status === 200);
  const refused = answers.filter((answer) => answer.status === 429);
  assert.equal(held.length, MAX_HOLDS);
  assert.equal(refused.length, 1_000 - MAX_HOLDS);
  for (const answer of refused) {
    // The oldest hold ends TTL after it was taken, and the fake clock has not moved.
    assert.equal(answer.headers.get("retry-after"), String(TTL_MS / 1000));
    assert.match(JSON.parse(answer.body).error, /^Too many units held from your address/);
  }
  assert.equal(server.inventory.get(DEMO)?.held, MAX_HOLDS);
  assert.equal(
    await metric(server.url, 'inventory_cart_refusals_total{reason="too_many_holds"}'),
    1_000 - MAX_HOLDS,
  );
  assert.equal(
    await metric(server.url, 'inventory_client_refusals_total{kind="holds_per_client"}'),
    1_000 - MAX_HOLDS,
    "counted with the other per-address limits too",
  );

  for (let i = 1; i <= 3; i++) {
    const [answer] = await addAll(loopbackAddress(i), server.url, sessions(1));
    assert.equal(answer.status, 200, `address ${i} still gets a unit`);
  }
});

Deno.test("a release, a sale and an expiry each free the address's place", async () => {
  const clock = new FakeClock();
  await using server = await startTestServer({ holdTtlMs: TTL_MS }, { clock });
  const address = loopbackAddress(7);
  const mine = sessions(MAX_HOLDS);
  assert.deepEqual((await addAll(address, server.url, mine)).map((a) => a.status), [
    200,
    200,
    200,
    200,
  ]);
  const more = () => addAll(address, server.url, sessions(1)).then(([answer]) => answer.status);
  assert.equal(await more(), 429);

  assert.equal((await postCartFrom(address, server.url, "remove", DEMO, mine[0])).status, 200);
  assert.equal(await more(), 200, "a release frees its place");
  assert.equal(await more(), 429);

  // Demo mode: a checkout sells at once.
  assert.equal((await postCartFrom(address, server.url, "checkout", DEMO, mine[1])).status, 200);
  assert.equal(await more(), 200, "a sale frees its place");
  assert.equal(await more(), 429);

  clock.advance(TTL_MS);
  assert.deepEqual(
    (await addAll(address, server.url, sessions(MAX_HOLDS + 1))).map((a) => a.status),
    [
      200,
      200,
      200,
      200,
      429,
    ],
    "once every hold expired, the address has all its places again",
  );
});

Deno.test("--max-holds-per-client 0 counts no address", async () => {
  await using server = await startTestServer({ maxHoldsPerClient: 0 });
  const answers = await addAll(loopbackAddress(3), server.url, sessions(10));
  assert.deepEqual(answers.map((answer) => answer.status), Array(10).fill(200));
});

Deno.test("on Deno KV a restart keeps each address's count (rebuilt from the stored holds)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config: Partial<Config> = { dataPath: join(dir, "shop.db"), holdTtlMs: TTL_MS };
    const address = loopbackAddress(5);
    {
      await using server = await startTestServer(config);
      const answers = await addAll(address, server.url, sessions(MAX_HOLDS + 2));
      assert.equal(answers.filter((answer) => answer.status === 200).length, MAX_HOLDS);
    }
    await using server = await startTestServer(config);
    const [after] = await addAll(address, server.url, sessions(1));
    assert.equal(after.status, 429, "the stored holds still count");
    const [other] = await addAll(loopbackAddress(6), server.url, sessions(1));
    assert.equal(other.status, 200);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "two server processes on one Redis count one address's holds together",
  ignore: redisMissing,
}, async () => {
  await using redis = await startRedis();
  const args = ["--redis", redis.url, "--max-holds-per-client", String(MAX_HOLDS)];
  await using first = await spawnServer(args);
  await using second = await spawnServer(args);
  const address = loopbackAddress(9);
  const statuses: number[] = [];
  // Alternating between the processes: each alone would allow MAX_HOLDS.
  for (const session of sessions(2 * MAX_HOLDS)) {
    const base = statuses.length % 2 === 0 ? first.url : second.url;
    statuses.push((await postCartFrom(address, base, "add", DEMO, session)).status);
  }
  assert.equal(statuses.filter((status) => status === 200).length, MAX_HOLDS, String(statuses));
  assert.equal(statuses.filter((status) => status === 429).length, MAX_HOLDS);
  const [other] = await addAll(loopbackAddress(10), second.url, sessions(1));
  assert.equal(other.status, 200, "another address still gets a unit");
});

Deno.test({
  name: "on Redis a release, a sale and an expiry each free the address's place",
  ignore: redisMissing,
}, async () => {
  await using redis = await startRedis();
  // Redis's own clock ends holds: short ones, so that the expiry comes within the test.
  const ttlMs = 1_000;
  await using server = await startTestServer({ redis: redis.url, holdTtlMs: ttlMs });
  const address = loopbackAddress(11);
  const mine = sessions(MAX_HOLDS);
  const statuses = (await addAll(address, server.url, mine)).map((answer) => answer.status);
  assert.deepEqual(statuses, [200, 200, 200, 200]);
  const more = () => addAll(address, server.url, sessions(1)).then(([answer]) => answer);
  const refused = await more();
  assert.equal(refused.status, 429);
  assert.equal(refused.headers.get("retry-after"), "1");

  assert.equal((await postCartFrom(address, server.url, "remove", DEMO, mine[0])).status, 200);
  assert.equal((await more()).status, 200, "a release frees its place");
  assert.equal((await postCartFrom(address, server.url, "checkout", DEMO, mine[1])).status, 200);
  assert.equal((await more()).status, 200, "a sale frees its place");
  assert.equal((await more()).status, 429);

  await eventually(async () => (await more()).status === 200, "an expiry to free a place", 5_000);
});
