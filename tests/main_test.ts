/**
 * main.ts as a user runs it: flags, environment, a graceful stop on SIGTERM and SIGINT, and what a
 * start or a stop that fails leaves behind.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { FakeClock } from "./support/fake_clock.ts";
import { DEMO, spawnServer, startTestServer } from "./support/server.ts";
import { openStatusSocket, openStatusStream, postCart } from "./support/clients.ts";

const MAIN = join(import.meta.dirname!, "..", "main.ts");

async function runMain(args: string[], env: Record<string, string> = {}) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, ...args],
    env,
    stdin: "null",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

Deno.test("--help prints the usage and exits 0", async () => {
  const { code, stdout } = await runMain(["--help"]);
  assert.equal(code, 0);
  for (
    const flag of [
      "--port",
      "--hostname",
      "--inventory",
      "--poll-timeout",
      "--max-connections",
      "--ws-timeout",
      "--sse-heartbeat",
      "--body-timeout",
      "--tls-cert",
      "--trust-proxy",
    ]
  ) {
    assert.ok(stdout.includes(flag), flag);
  }
});

for (
  const [args, env, message] of [
    [["--port", "70000"], {}, /--port must be a whole number from 0 to 65535/],
    [["--inventory=-1"], {}, /--inventory must be a whole number/],
    [["--bogus"], {}, /Unknown option '--bogus'/],
    [[], { POLL_TIMEOUT: "never" }, /--poll-timeout/],
  ] as const
) {
  Deno.test(`main.ts ${args.join(" ")} ${JSON.stringify(env)} exits 2 with one line`, async () => {
    const { code, stdout, stderr } = await runMain([...args], env);
    assert.equal(code, 2);
    assert.equal(stdout, "");
    assert.equal(stderr.trimEnd().split("\n").length, 1, stderr);
    assert.match(stderr, message);
  });
}

Deno.test("port 0 picks a free port, prints the URL, and the environment sets the stock", async () => {
  await using child = await spawnServer([], { INVENTORY: "4" });
  assert.match(child.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  assert.notEqual(new URL(child.url).port, "0");
  const response = await fetch(new URL("cart/status?since=99", child.url));
  const state = await response.json();
  assert.deepEqual(state, { product: DEMO, inventoryCount: 4, version: 0, epoch: state.epoch });
  assert.match(state.epoch, /^[0-9a-f]{8}$/);
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test({
    name: `${signal} answers waiters, closes sockets with 1001, ends streams and exits 0`,
    sanitizeOps: false, // deno#22387
    sanitizeResources: false,
    async fn() {
      await using child = await spawnServer(["--inventory", "3"]);
      await postCart(child.url, "add", crypto.randomUUID());
      const polls = Array.from({ length: 20 }, () => fetch(new URL("cart/status", child.url)));
      await using socket = await openStatusSocket(child.url);
      await socket.states.next();
      await using stream = await openStatusStream(child.url);
      await stream.events.next();
      // Wait until the server counts all 20 waiters before stopping it.
      for (;;) {
        const text = await (await fetch(new URL("metrics", child.url))).text();
        if (text.includes("inventory_long_poll_waiters 20")) break;
      }

      child.process.kill(signal);
      const answers = await Promise.all(polls.map(async (p) => {
        const response = await p;
        return [response.status, await response.json()];
      }));
      for (const [status, { product, inventoryCount, version }] of answers) {
        assert.deepEqual([status, product, inventoryCount, version], [200, DEMO, 2, 1]);
      }
      assert.equal((await socket.closed).code, 1001);
      await stream.ended;
      const status = await child.status;
      assert.equal(status.code, 0, child.output());
      assert.match(child.output(), new RegExp(`${signal}: stopping[\\s\\S]*stopped`));
      assert.ok(!child.output().includes("Uncaught"), child.output());
    },
  });
}

/** Makes every Deno KV handle fail to close, as a disk that went away would; returns the undo. */
function failKvClose(): () => void {
  const original = Deno.Kv.prototype.close;
  Deno.Kv.prototype.close = function (this: Deno.Kv) {
    original.call(this);
    throw new Error("disk gone");
  };
  return () => Deno.Kv.prototype.close = original;
}

Deno.test("a start that fails after the store opened closes it and leaves no hold timer armed", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const dataPath = join(dir, "inventory.kv");
    const clock = new FakeClock();
    {
      await using first = await startTestServer({ dataPath }, { clock });
      await first.inventory.add(DEMO, crypto.randomUUID());
    }
    // The stored hold arms the store's expiry timer as soon as the store opens.
    await assert.rejects(
      startTestServer({ dataPath, inventory: -1, restock: true }, { clock }),
      { name: "RangeError", message: /Total must be a whole number/ },
    );
    assert.equal(clock.pendingTimers, 0, "the store's expiry timer was left armed");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a stop whose store will not close rejects, and `finished` settles with the error", async () => {
  const dir = await Deno.makeTempDir();
  const restore = failKvClose();
  try {
    const server = await startTestServer({ dataPath: join(dir, "inventory.kv") });
    await assert.rejects(server.stop(), /disk gone/);
    // One turn of the event loop: a `finished` that no one awaits must not be reported as an
    // unhandled rejection (which would fail this test) before someone looks at it.
    await new Promise((resolve) => setTimeout(resolve, 0));
    await assert.rejects(server.finished, /disk gone/);
  } finally {
    restore();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a stop that fails exits 1 with one line, not an uncaught error", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // The child runs this first: its store's KV handle then fails to close.
    const preload = join(dir, "failing_kv_close.ts");
    await Deno.writeTextFile(
      preload,
      `const original = Deno.Kv.prototype.close;
Deno.Kv.prototype.close = function () {
  original.call(this);
  throw new Error("disk gone");
};
`,
    );
    await using child = await spawnServer(
      ["--data", join(dir, "inventory.kv")],
      {},
      ["--allow-all", "--preload", preload],
    );
    child.process.kill("SIGTERM");
    const status = await child.status;
    assert.equal(status.code, 1, child.output());
    const lines = child.output().trimEnd().split("\n");
    assert.deepEqual(lines.slice(-2), ["SIGTERM: stopping", "error: stopping failed: disk gone"]);
    assert.ok(!child.output().includes("Uncaught"), child.output());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
