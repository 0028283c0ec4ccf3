/** SIGTERM under load: every waiter answered, every socket closed, exit 0 inside main.ts's deadline. */
import assert from "node:assert/strict";
import { spawnServer } from "./support/server.ts";
import { eventually, metric, openStatusSocket, openStatusStream } from "./support/clients.ts";

// The 5,000 (a few seconds here); STOP_SUBSCRIBERS=N tries another load and prints the time.
const SUBSCRIBERS = Number(Deno.env.get("STOP_SUBSCRIBERS") ?? 5_000);

Deno.test({
  name: `SIGTERM with ${SUBSCRIBERS} subscribers answers them all and exits 0`,
  sanitizeOps: false, // deno#22387
  sanitizeResources: false,
  async fn() {
    await using child = await spawnServer(["--inventory", "7"]);
    const third = Math.floor(SUBSCRIBERS / 3);
    const polls = Array.from({ length: SUBSCRIBERS - 2 * third }, async () => {
      const response = await fetch(new URL("cart/status", child.url));
      return [response.status, await response.json()];
    });
    const sockets = [];
    const streams = [];
    // In batches, so that the connects do not all queue on the listener at once.
    for (let i = 0; i < third; i += 100) {
      const n = Math.min(100, third - i);
      sockets.push(
        ...await Promise.all(Array.from({ length: n }, () => openStatusSocket(child.url))),
      );
      streams.push(
        ...await Promise.all(Array.from({ length: n }, () => openStatusStream(child.url))),
      );
    }
    await eventually(
      async () => await metric(child.url, "inventory_connections") === SUBSCRIBERS,
      `${SUBSCRIBERS} connections`,
      30_000,
    );

    const started = performance.now();
    child.process.kill("SIGTERM");
    const answers = await Promise.all(polls);
    for (const answer of answers) {
      assert.deepEqual(answer, [200, { inventoryCount: 7, version: 0 }]);
    }
    for (const socket of sockets) assert.equal((await socket.closed).code, 1001);
    await Promise.all(streams.map((stream) => stream.ended));
    const status = await child.status;
    // main.ts exits 1 when stopping takes longer than its 4 s deadline, so 0 means in time.
    assert.equal(status.code, 0, child.output());
    assert.match(child.output(), /SIGTERM: stopping[\s\S]*stopped/);
    assert.doesNotMatch(child.output(), /Uncaught|unhandled|error/i);
    if (Deno.env.get("STOP_SUBSCRIBERS")) {
      console.log(`stopped with ${SUBSCRIBERS} in ${Math.round(performance.now() - started)} ms`);
    }
  },
});
