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

/**
 * Runs main.ts to its end. One that starts listening instead is killed, so that a test expecting
 * a refusal fails rather than hangs.
 */
async function runMain(args: string[], env: Record<string, string> = {}) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", MAIN, ...args],
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const decoder = new TextDecoder();
  let stdout = "";
  const [, stderr, status] = await Promise.all([
    (async () => {
      for await (const chunk of child.stdout) {
        stdout += decoder.decode(chunk, { stream: true });
        if (stdout.includes("Listening on")) child.kill("SIGKILL");
      }
    })(),
    new Response(child.stderr).text(),
    child.status,
  ]);
  return { code: status.code, stdout, stderr };
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
      "--redis",
    ]
  ) {
    assert.ok(stdout.includes(flag), flag);
  }
});

for (
  const [args, env, message] of [
    [["--port", "70000"], {}, /--port must be a whole number from 0 to 65535/],
    [["--inventory=-1"], {}, /--inventory must be a whole number/],
    [["--inventory", "-1"], {}, /--inventory is missing its value .* write --inventory=-1/],
    [[], { TRUST_PROXY: "maybe" }, /TRUST_PROXY must be 1, true, yes or on.*, got "maybe"/],
    [["--bogus"], {}, /Unknown option '--bogus'/],
    [[], { POLL_TIMEOUT: "never" }, /--poll-timeout/],
    [["--redis", "http://127.0.0.1:6379"], {}, /--redis must be a redis:\/\/ or rediss:\/\/ URL/],
    [[], { REDIS_URL: "127.0.0.1:6379" }, /--redis must be a redis:\/\/ or rediss:\/\/ URL/],
    [[], { ADMIN_SESSION_MINUTES: "0" }, /--admin-session-minutes must be a whole number from 1/],
    [[], { FRAME_ANCESTORS: "https://a.example *" }, /--frame-ancestors must be an origin .*"\*"/],
    [[], { MAX_HOLDS_PER_CLIENT: "many" }, /--max-holds-per-client must be a whole number from 0/],
    [
      ["--order-webhook", "http://127.0.0.1:9/orders"],
      { WEBHOOK_SECRET: "plain-old-secret-0123456789" },
      /--webhook-secret \(WEBHOOK_SECRET\) must be whsec_ and the base64/,
    ],
    [[], { PAYMENT_TIMEOUT: "soon" }, /--payment-timeout/],
  ] as const
) {
  Deno.test(`main.ts ${args.join(" ")} ${JSON.stringify(env)} exits 2 with one line`, async () => {
    const { code, stdout, stderr } = await runMain([...args], env);
    assert.equal(code, 2);
    assert.equal(stdout, "");
    assert.equal(stderr.trimEnd().split("\n").length, 1, stderr);
    assert.match(stderr, message);
    // A refused secret is named, never printed.
    for (const value of Object.values(env)) {
      if (value.includes("secret")) assert.ok(!stderr.includes(value), stderr);
    }
  });
}

Deno.test("a catalog file with a bad limitPerShopper stops the start: exit 2, one line naming it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const catalog = join(dir, "catalog.json");
    const poster = { id: "poster", name: "Poster", price: { amount: "1.00", currency: "EUR" } };
    await Deno.writeTextFile(
      catalog,
      JSON.stringify({ products: [{ ...poster, total: 3, limitPerShopper: 101 }] }),
    );
    const { code, stdout, stderr } = await runMain(["--catalog", catalog], {});
    assert.equal(code, 2);
    assert.equal(stdout, "");
    assert.equal(
      stderr.trimEnd(),
      'error: product "poster": field "limitPerShopper" must be a whole number from 1 to 100, got 101',
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a catalog's bad opensAt stops the start: exit 2, one line naming it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const catalog = join(dir, "catalog.json");
    const poster = { id: "poster", name: "Poster", price: { amount: "1.00", currency: "EUR" } };
    for (
      const [opensAt, flags, line] of [
        [
          "2026-12-12 18:00",
          [],
          'error: product "poster": field "opensAt" must be an ISO 8601 date and time with a zone (e.g. "2026-12-06T18:00:00Z"), got "2026-12-12 18:00"',
        ],
      ] as const
    ) {
      await Deno.writeTextFile(
        catalog,
        JSON.stringify({ products: [{ ...poster, total: 3, opensAt }] }),
      );
      const { code, stdout, stderr } = await runMain(["--catalog", catalog, ...flags], {});
      assert.equal(code, 2);
      assert.equal(stdout, "");
      assert.equal(stderr.trimEnd(), line);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** Exits 1 with exactly one line on stderr, that line or matching it, and never listens. */
async function assertStartFails(
  args: string[],
  env: Record<string, string>,
  line: string | RegExp,
): Promise<void> {
  const { code, stdout, stderr } = await runMain(args, env);
  assert.ok(!stdout.includes("Listening on"), stdout);
  assert.equal(code, 1, stderr);
  assert.equal(stderr.trimEnd().split("\n").length, 1, stderr);
  if (typeof line === "string") assert.equal(stderr.trimEnd(), line);
  else assert.match(stderr, line);
}

Deno.test("HOSTNAME, the container's name in Docker and Kubernetes, is not the address", async () => {
  await using child = await spawnServer([], { HOSTNAME: "my-pod-7f9c" });
  assert.match(child.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
});

Deno.test("HOST that is not an address of this machine: one line naming it", async () => {
  // 192.0.2.1 is kept for documentation (RFC 5737), so no machine has it.
  await assertStartFails(
    ["--port", "0", "--data", ":memory:"],
    { HOST: "192.0.2.1" },
    /^error: --hostname\/HOST "192\.0\.2\.1" is not an address of this machine; listen on /,
  );
});

Deno.test("HOST that no lookup finds: one line naming it", async () => {
  // .invalid never resolves (RFC 6761).
  await assertStartFails(
    ["--port", "0", "--data", ":memory:"],
    { HOST: "my-pod-7f9c.invalid" },
    /^error: --hostname\/HOST "my-pod-7f9c\.invalid" is not a name this machine can look up; /,
  );
});

Deno.test("--data on a file that is not Deno KV: one line naming the path and what to do", async () => {
  const path = await Deno.makeTempFile({ suffix: ".kv" });
  try {
    await Deno.writeTextFile(path, "a shopping list, not a database\n".repeat(200));
    await assertStartFails(
      ["--port", "0", "--data", path],
      {},
      `error: --data ${path} is not a Deno KV database; choose another path, or move the file away`,
    );
    assert.equal(await Deno.readTextFile(path), "a shopping list, not a database\n".repeat(200));
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("a port already in use: one line naming the port, --port and PORT", async () => {
  await using server = await startTestServer();
  const port = new URL(server.url).port;
  await assertStartFails(
    ["--port", port, "--hostname", "127.0.0.1", "--data", ":memory:"],
    {},
    `error: port ${port} is already in use on 127.0.0.1; stop what holds it, ` +
      "or choose another port with --port or PORT",
  );
});

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
