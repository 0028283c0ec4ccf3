/** `--add-rate` on a fleet: one bucket per address in Redis, shared by every process. */
import assert from "node:assert/strict";
import { eventually, metric } from "./support/clients.ts";
import { loopbackAddress, postCartFrom } from "./support/from_address.ts";
import { startFleet } from "./support/redis_fleet.ts";
import { redisMissing, startRedis } from "./support/redis_server.ts";
import { DEMO, startTestServer } from "./support/server.ts";
import { within } from "./support/within.ts";

const [ONE, TWO] = [loopbackAddress(0), loopbackAddress(1)];

Deno.test({
  name: "two processes on one Redis count one address's adds together",
  ignore: redisMissing,
  async fn() {
    await using redis = await startRedis();
    await using fleet = await startFleet(redis.url, 2, ["--inventory", "100", "--add-rate", "1"]);
    const add = (server: number, address: string) =>
      postCartFrom(address, fleet[server].url, "add", DEMO, crypto.randomUUID());
    // A burst of 2: one add on each process spends it.
    assert.equal((await add(0, ONE)).status, 200);
    assert.equal((await add(1, ONE)).status, 200);
    const refused = await add(0, ONE);
    assert.equal(refused.status, 429);
    assert.match(refused.headers.get("retry-after")!, /^[1-9]\d*$/);
    assert.equal(
      JSON.parse(refused.body).error,
      "Too many adds from your address, try again later",
    );
    assert.equal((await add(1, ONE)).status, 429);
    // Another address has a bucket of its own, on either process.
    assert.equal((await add(1, TWO)).status, 200);
    assert.equal((await add(0, TWO)).status, 200);
    const kind = 'inventory_client_refusals_total{kind="add_rate"}';
    assert.deepEqual(
      [await metric(fleet[0].url, kind), await metric(fleet[1].url, kind)],
      [1, 1],
    );
  },
});

Deno.test({
  name:
    "while Redis cannot be reached the add rate allows (the add gets 503); after a restart it limits again",
  ignore: redisMissing,
  async fn() {
    await using redis = await startRedis();
    await using server = await startTestServer({ redis: redis.url, addRate: 1, inventory: 10 });
    const add = () => postCartFrom(ONE, server.url, "add", DEMO, crypto.randomUUID());
    assert.equal((await add()).status, 200);
    await within(redis.signal("SIGKILL"), "the exit of the killed redis-server");
    // Not 429 (the shopper did nothing wrong) nor a 500: the store's own answer.
    for (let i = 0; i < 3; i++) assert.equal((await add()).status, 503);
    await within(redis.restart(), "redis-server's restart", 15_000);
    // Redis came back without its functions: the library is loaded again, the rate with it.
    await eventually(async () => (await add()).status !== 503, "the store to answer again");
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await add()).status);
    assert.ok(statuses.includes(429), `limited again after the restart: ${statuses}`);
    assert.ok(statuses.every((status) => status === 200 || status === 429), `${statuses}`);
  },
});
