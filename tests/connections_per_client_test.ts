/**
 * `--max-connections-per-client`: long polls, event streams and WebSockets one address holds at
 * once, over real sockets from several loopback addresses; a place frees when its connection ends.
 */
import assert from "node:assert/strict";
import type { RunningServer } from "../lib/server/start_server.ts";
import { Subscriptions } from "../lib/realtime/subscriptions.ts";
import { eventually, metric } from "./support/clients.ts";
import { FakeClock } from "./support/fake_clock.ts";
import {
  type HeldConnection,
  loopbackAddress,
  openFrom,
  requestFrom,
  upgradeHeaders,
} from "./support/from_address.ts";
import { openMemoryShop } from "./support/memory_shop.ts";
import { DEMO, startTestServer } from "./support/server.ts";
import { within } from "./support/within.ts";

const wsOptions = { sanitizeOps: false, sanitizeResources: false }; // deno#22387
const CAP = 2;
const [ONE, TWO] = [loopbackAddress(0), loopbackAddress(1)];

/** One transport: how to open a connection of it, and the gauge that counts those held. */
interface Transport {
  readonly name: string;
  open(server: RunningServer, address: string): Promise<HeldConnection>;
  held(server: RunningServer): number;
}

const statusUrl = (server: RunningServer) => new URL(`cart/status?product=${DEMO}`, server.url);

const TRANSPORTS: Transport[] = [
  {
    name: "WebSocket",
    open: (server, address) =>
      openFrom(address, statusUrl(server), { headers: upgradeHeaders(server.url) }),
    held: (server) => server.app.gauges().websocketSubscribers,
  },
  {
    name: "event stream",
    open: (server, address) =>
      openFrom(address, statusUrl(server), { headers: { accept: "text/event-stream" } }),
    held: (server) => server.app.gauges().sseSubscribers,
  },
  {
    name: "long poll",
    async open(server, address) {
      // A poll without `since` waits for the next change; its head comes only with its answer,
      // so a poll is held once the server counts it waiting, and a refused one answers at once.
      const aborter = new AbortController();
      const answer = requestFrom(address, statusUrl(server), { signal: aborter.signal });
      const before = server.app.gauges().longPollWaiters;
      const settled = await Promise.race([
        answer,
        eventually(() => server.app.gauges().longPollWaiters > before, "the poll to wait")
          .then(() => undefined),
      ]);
      if (settled !== undefined) {
        return { ...settled, text: () => Promise.resolve(settled.body), close() {} };
      }
      answer.catch(() => {});
      return {
        status: 200,
        headers: new Headers(),
        text: () => answer.then((done) => done.body, () => ""),
        close: () => aborter.abort(),
      };
    },
    held: (server) => server.app.gauges().longPollWaiters,
  },
];

for (const transport of TRANSPORTS) {
  Deno.test({
    name: `past its cap one address's ${transport.name} gets 429; another address connects`,
    ...wsOptions,
    async fn() {
      await using server = await startTestServer({ maxConnectionsPerClient: CAP });
      const held: HeldConnection[] = [];
      try {
        for (let i = 0; i < CAP; i++) held.push(await transport.open(server, ONE));
        for (const connection of held) assert.notEqual(connection.status, 429);
        await eventually(() => transport.held(server) === CAP, "the connections to be held");

        const refused = await transport.open(server, ONE);
        assert.equal(refused.status, 429);
        assert.match(refused.headers.get("retry-after")!, /^[1-9]\d*$/);
        assert.deepEqual(JSON.parse(await refused.text()), {
          error: "Too many connections from your address, try again later",
        });
        held.push(await transport.open(server, TWO));
        assert.notEqual(held[CAP].status, 429);
        await eventually(() => transport.held(server) === CAP + 1, "the other address's one");
        const kind = 'inventory_client_refusals_total{kind="connections_per_client"}';
        assert.equal(await metric(server.url, kind), 1);

        // A connection that ends frees its place at once; then the address is at its cap again.
        held.shift()!.close();
        await eventually(() => transport.held(server) === CAP, "the closed one to be gone");
        held.push(await transport.open(server, ONE));
        assert.notEqual(held[held.length - 1].status, 429);
        assert.equal((await transport.open(server, ONE)).status, 429);
      } finally {
        for (const connection of held) connection.close();
      }
      // Nothing is left behind: every place of both addresses is free again.
      await eventually(() => transport.held(server) === 0, "every connection to be gone");
      const again: HeldConnection[] = [];
      try {
        for (let i = 0; i < CAP; i++) {
          const connection = await transport.open(server, ONE);
          again.push(connection);
          assert.notEqual(connection.status, 429);
        }
      } finally {
        for (const connection of again) connection.close();
      }
    },
  });
}

Deno.test("a stream and a poll ended by the server's stop call their end at once", async () => {
  await using shop = await openMemoryShop({ tee: 1 });
  const topic = shop.topic("tee");
  const subscriptions = new Subscriptions(
    { pollTimeoutMs: 60_000, websocketTimeoutMs: 60_000, sseHeartbeatMs: 60_000 },
    new FakeClock(),
  );
  const ended: string[] = [];
  const request = () => new Request("http://localhost/cart/status");
  const stream = subscriptions.stream(request(), topic, () => ended.push("stream"));
  const poll = subscriptions.longPoll(request(), topic, undefined, () => ended.push("poll"));
  assert.deepEqual(ended, []);
  // As the app stops: topics answer their waiters, then the transports end.
  shop.topics.close();
  subscriptions.close();
  await within(poll, "the poll's answer");
  await stream.body!.cancel();
  assert.deepEqual(ended.sort(), ["poll", "stream"]);
});
