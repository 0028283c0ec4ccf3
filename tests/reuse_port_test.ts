/** `--reuse-port`: several main.ts processes on one port (Linux SO_REUSEPORT), as a fleet runs. */
import assert from "node:assert/strict";
import { freePort } from "./support/free_port.ts";
import { RawHttpConnection } from "./support/raw_http.ts";
import { type ChildServer, spawnServer } from "./support/server.ts";

/** New connections each test makes: enough that the kernel gives each listener some. */
const CONNECTIONS = 40;

/** The epoch a child's store started with, from its start log: it names the process. */
function epochOf(child: ChildServer): string {
  const epoch = child.output().match(/^Store: .*epoch ([0-9a-f]{8})\)$/m)?.[1];
  assert.ok(epoch, `no epoch in:\n${child.output()}`);
  return epoch;
}

/** Asks for the state on a new connection each time, and tells which store answered each. */
async function epochsOnNewConnections(url: string): Promise<string[]> {
  const epochs = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const connection = await RawHttpConnection.open(url);
    try {
      const answer = await connection.send("GET", "/cart/status?since=99");
      assert.equal(answer.status, 200, answer.body);
      epochs.push(JSON.parse(answer.body).epoch);
    } finally {
      connection.close();
    }
  }
  return epochs;
}

Deno.test("two servers with --reuse-port listen on one port, and each serves connections", async () => {
  const port = String(freePort());
  await using first = await spawnServer(["--port", port, "--reuse-port"]);
  await using second = await spawnServer(["--port", port], { REUSE_PORT: "true" });
  assert.equal(first.url, second.url);
  const epochs = await epochsOnNewConnections(first.url);
  // Each has its own store in memory, so the epoch says which process answered. The kernel
  // hashes each connection to a listener: all 40 on one would be a 1 in 2^39 chance.
  assert.deepEqual(new Set(epochs), new Set([epochOf(first), epochOf(second)]));
});

Deno.test("without --reuse-port on both, the second server exits with the port-in-use line", async () => {
  const port = freePort();
  for (const flags of [[], ["--reuse-port"]]) {
    await using first = await spawnServer(["--port", String(port), ...flags]);
    await assert.rejects(
      () => spawnServer(["--port", String(port)]),
      (error: Error) => {
        assert.match(
          error.message,
          new RegExp(
            `^server exited with 1 before listening:\\nerror: port ${port} is already in use ` +
              "on 127\\.0\\.0\\.1; stop what holds it, or choose another port with --port or PORT\\n$",
          ),
        );
        return true;
      },
    );
    assert.match(first.output(), /Listening on/);
  }
});

Deno.test("after one of two --reuse-port servers is killed, the other serves every connection", async () => {
  const port = String(freePort());
  await using first = await spawnServer(["--port", port, "--reuse-port"]);
  await using second = await spawnServer(["--port", port, "--reuse-port"]);
  first.process.kill("SIGKILL");
  await first.status;
  const epochs = await epochsOnNewConnections(second.url);
  assert.deepEqual(new Set(epochs), new Set([epochOf(second)]));
});
