/** Out of file descriptors: existing subscribers keep being served and new ones are accepted later. */
import assert from "node:assert/strict";
import { type ChildServer, spawnServer } from "./support/server.ts";
import { eventually, openStatusSocket, postCart, type StatusSocket } from "./support/clients.ts";
import { RawHttpConnection } from "./support/raw_http.ts";

const FD_LIMIT = 256;
const SUBSCRIBERS = 50;
const FLOOD = 400;

/** Reads a metric over an already open connection (a new one may not be accepted now). */
async function metricOver(connection: RawHttpConnection, name: string): Promise<number> {
  const response = await connection.request("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  const line = response?.body.split("\n").find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`metric ${name} not found`);
  return Number(line.slice(name.length + 1));
}

/** Lowers the child's descriptor limit, as `prlimit --nofile=256 deno run ...` would at start. */
async function limitDescriptors(child: ChildServer): Promise<void> {
  const prlimit = await new Deno.Command("prlimit", {
    args: ["--pid", String(child.process.pid), `--nofile=${FD_LIMIT}:${FD_LIMIT}`],
  }).output();
  assert.equal(prlimit.code, 0, new TextDecoder().decode(prlimit.stderr));
}

/**
 * Opens FLOOD connections that each ask for a long poll, until the listener runs out of
 * descriptors and dies; `control` sees the accept error counted.
 */
async function flood(
  child: ChildServer,
  control: RawHttpConnection,
  errorsBefore: number,
): Promise<RawHttpConnection[]> {
  const connections: RawHttpConnection[] = [];
  await Promise.all(Array.from({ length: FLOOD }, async () => {
    try {
      const connection = await RawHttpConnection.open(child.url);
      connections.push(connection);
      await connection.write("GET /cart/status HTTP/1.1\r\nHost: x\r\n\r\n");
    } catch {
      // Refused: the listener is down until descriptors free up.
    }
  }));
  await eventually(
    async () => await metricOver(control, "inventory_accept_errors_total") > errorsBefore,
    "an accept error",
    10_000,
  );
  return connections;
}

/**
 * Waits until a new connection is accepted again, after the listener is reopened. Each try is a
 * new connection: fetch could reuse a kept-alive one, which a dead listener still serves.
 */
async function acceptingAgain(child: ChildServer): Promise<void> {
  await eventually(
    async () => {
      let probe: RawHttpConnection | undefined;
      try {
        probe = await RawHttpConnection.open(child.url);
        return (await probe.request("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))?.status === 200;
      } catch {
        return false; // Still refused: the listener is reopened after a short backoff.
      } finally {
        probe?.close();
      }
    },
    "the server to accept again",
    15_000,
  );
}

/** Opens SUBSCRIBERS status sockets, each past its first state. */
async function subscribe(child: ChildServer, into: StatusSocket[]): Promise<void> {
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const subscriber = await openStatusSocket(child.url);
    into.push(subscriber);
    assert.deepEqual(await subscriber.states.next(), { inventoryCount: 5, version: 0 });
  }
}

Deno.test({
  name:
    `under a ${FD_LIMIT}-descriptor limit, ${FLOOD} extra clients neither kill nor stall the server`,
  sanitizeOps: false, // deno#22387
  sanitizeResources: false,
  async fn() {
    await using child = await spawnServer(["--inventory", "5"]);
    await limitDescriptors(child);
    const shopper = crypto.randomUUID();
    const control = await RawHttpConnection.open(child.url);
    const subscribers: StatusSocket[] = [];
    let flooding: RawHttpConnection[] = [];
    try {
      assert.equal(await metricOver(control, "inventory_accept_errors_total"), 0);
      assert.equal(await metricOver(control, "inventory_listeners"), 1);
      await subscribe(child, subscribers);
      flooding = await flood(child, control, 0);

      // While out of descriptors, a kept-alive client can still change the cart, and every
      // existing subscriber hears of it.
      const body = JSON.stringify({ action: "add", session: shopper });
      const added = await control.request(
        "POST /cart HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
          `Content-Length: ${body.length}\r\n\r\n${body}`,
      );
      assert.equal(added?.status, 200, added?.body);
      for (const subscriber of subscribers) {
        assert.deepEqual(await subscriber.states.next(), { inventoryCount: 4, version: 1 });
      }

      // Freeing the descriptors lets the server accept again, by itself.
      for (const connection of flooding) connection.close();
      await acceptingAgain(child);
      await using late = await openStatusSocket(child.url);
      assert.deepEqual(await late.states.next(), { inventoryCount: 4, version: 1 });
      await postCart(child.url, "remove", shopper);
      assert.deepEqual(await late.states.next(), { inventoryCount: 5, version: 2 });
      for (const subscriber of subscribers) {
        assert.deepEqual(await subscriber.states.next(), { inventoryCount: 5, version: 2 });
      }
      assert.ok(await metricOver(control, "inventory_accept_errors_total") >= 1);
      assert.ok(!child.output().includes("Uncaught"), child.output());

      // The listeners that died still own connections; a graceful stop waits for them too.
      child.process.kill("SIGTERM");
      for (const subscriber of subscribers) assert.equal((await subscriber.closed).code, 1001);
      assert.equal((await child.status).code, 0, child.output());
    } finally {
      control.close();
      for (const connection of flooding) connection.close();
      for (const subscriber of subscribers) await subscriber[Symbol.asyncDispose]();
    }
  },
});

Deno.test({
  name: "a listener that died is forgotten once it holds nothing; one with WebSockets is kept",
  sanitizeOps: false, // deno#22387
  sanitizeResources: false,
  async fn() {
    await using child = await spawnServer(["--inventory", "5"]);
    await limitDescriptors(child);
    const control = await RawHttpConnection.open(child.url);
    const subscribers: StatusSocket[] = [];
    const flooding: RawHttpConnection[] = [];
    try {
      // The first listener dies with the subscribers' WebSockets on it.
      await subscribe(child, subscribers);
      flooding.push(...await flood(child, control, 0));
      for (const connection of flooding.splice(0)) connection.close();
      await acceptingAgain(child);
      assert.equal(await metricOver(control, "inventory_listeners"), 2);

      // The second dies with nothing but long polls, which end when their clients leave.
      flooding.push(...await flood(child, control, 1));
      for (const connection of flooding.splice(0)) connection.close();
      await acceptingAgain(child);
      // Before it was forgotten, every listener that died stayed counted (and kept) until the stop.
      await eventually(
        async () => await metricOver(control, "inventory_listeners") === 2,
        "the dead listener that holds nothing to be forgotten",
      );

      // Forgetting it cut no one: the kept listener's subscribers hear the next change.
      await postCart(child.url, "add", crypto.randomUUID());
      for (const subscriber of subscribers) {
        assert.deepEqual(await subscriber.states.next(), { inventoryCount: 4, version: 1 });
      }
      child.process.kill("SIGTERM");
      for (const subscriber of subscribers) assert.equal((await subscriber.closed).code, 1001);
      assert.equal((await child.status).code, 0, child.output());
      assert.ok(!child.output().includes("Uncaught"), child.output());
    } finally {
      control.close();
      for (const connection of flooding) connection.close();
      for (const subscriber of subscribers) await subscriber[Symbol.asyncDispose]();
    }
  },
});
