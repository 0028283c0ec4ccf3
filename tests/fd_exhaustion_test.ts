/** Out of file descriptors: existing subscribers keep being served and new ones are accepted later. */
import assert from "node:assert/strict";
import { spawnServer } from "./support/server.ts";
import { eventually, openStatusSocket, postCart, type StatusSocket } from "./support/clients.ts";
import { RawHttpConnection } from "./support/raw_http.ts";

const FD_LIMIT = 256;
const SUBSCRIBERS = 50;
const FLOOD = 400;
const SHOPPER = crypto.randomUUID();

/** Reads a metric over an already open connection (a new one may not be accepted now). */
async function metricOver(connection: RawHttpConnection, name: string): Promise<number> {
  const response = await connection.request("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
  const line = response?.body.split("\n").find((l) => l.startsWith(`${name} `));
  if (line === undefined) throw new Error(`metric ${name} not found`);
  return Number(line.slice(name.length + 1));
}

Deno.test({
  name:
    `under a ${FD_LIMIT}-descriptor limit, ${FLOOD} extra clients neither kill nor stall the server`,
  sanitizeOps: false, // deno#22387
  sanitizeResources: false,
  async fn() {
    await using child = await spawnServer(["--inventory", "5"]);
    // Lowering the limit of the running process is `prlimit --nofile=256 deno run ...`, but
    // leaves spawnServer's way of starting it untouched.
    const prlimit = await new Deno.Command("prlimit", {
      args: ["--pid", String(child.process.pid), `--nofile=${FD_LIMIT}:${FD_LIMIT}`],
    }).output();
    assert.equal(prlimit.code, 0, new TextDecoder().decode(prlimit.stderr));

    const control = await RawHttpConnection.open(child.url);
    const subscribers: StatusSocket[] = [];
    const flood: RawHttpConnection[] = [];
    try {
      assert.equal(await metricOver(control, "inventory_accept_errors_total"), 0);
      for (let i = 0; i < SUBSCRIBERS; i++) {
        const subscriber = await openStatusSocket(child.url);
        subscribers.push(subscriber);
        assert.deepEqual(await subscriber.states.next(), { inventoryCount: 5, version: 0 });
      }

      // Each flood client asks for a long poll; past the limit, accept fails.
      const connecting = Array.from({ length: FLOOD }, async () => {
        try {
          const connection = await RawHttpConnection.open(child.url);
          flood.push(connection);
          await connection.write("GET /cart/status HTTP/1.1\r\nHost: x\r\n\r\n");
        } catch {
          // Refused: the listener is down until descriptors free up.
        }
      });
      await Promise.all(connecting);
      await eventually(
        async () => await metricOver(control, "inventory_accept_errors_total") > 0,
        "an accept error",
        10_000,
      );

      // While out of descriptors, a kept-alive client can still change the cart, and every
      // existing subscriber hears of it.
      const body = JSON.stringify({ action: "add", session: SHOPPER });
      const added = await control.request(
        "POST /cart HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
          `Content-Length: ${body.length}\r\n\r\n${body}`,
      );
      assert.equal(added?.status, 200, added?.body);
      for (const subscriber of subscribers) {
        assert.deepEqual(await subscriber.states.next(), { inventoryCount: 4, version: 1 });
      }

      // Freeing the descriptors lets the server accept again, by itself.
      for (const connection of flood) connection.close();
      await eventually(
        async () => {
          try {
            return (await fetch(new URL("healthz", child.url))).ok;
          } catch {
            return false; // Still refused: the listener is reopened after a short backoff.
          }
        },
        "the server to accept again",
        15_000,
      );
      await using late = await openStatusSocket(child.url);
      assert.deepEqual(await late.states.next(), { inventoryCount: 4, version: 1 });
      await postCart(child.url, "remove", SHOPPER);
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
      for (const connection of flood) connection.close();
      for (const subscriber of subscribers) await subscriber[Symbol.asyncDispose]();
    }
  },
});
