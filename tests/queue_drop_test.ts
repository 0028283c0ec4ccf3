/**
 * A drop over real sockets: 300 shoppers join a server's waiting room, the draw, the admissions in
 * number order, every transport's followers ending on sold out; and a restart on Deno KV in the
 * middle of a drop that keeps every ticket, number and admission.
 */
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { join } from "node:path";
import { type ChildServer, spawnServer } from "./support/server.ts";
import {
  openLongPollFeed,
  openSseFeed,
  openWebSocketFeed,
  type StateFeed,
  type StatusMessage,
} from "./support/status_clients.ts";
import { within } from "./support/within.ts";

const DROP = "drop";
const FEED = `queue/status?product=${DROP}`;
/** The drop's status now: a poll from version 0 is answered at once. */
const STATUS_NOW = `${FEED}&since=0`;
/** Every client here is 127.0.0.1: the per-address limits are not these tests' subject. */
const ONE_ADDRESS = ["--max-holds-per-client", "0"];

/** Writes a catalog whose one product opens `inMs` from now, and returns its path. */
async function dropCatalog(dir: string, total: number, inMs: number): Promise<string> {
  const path = join(dir, "catalog.json");
  const opensAt = new Date(Date.now() + inMs).toISOString();
  await Deno.writeTextFile(
    path,
    JSON.stringify({
      products: [{
        id: DROP,
        name: "Drop",
        price: { amount: "30.00", currency: "EUR" },
        total,
        opensAt,
      }],
    }),
  );
  return path;
}

async function call(
  base: string,
  method: string,
  path: string,
  session: string,
  body?: Record<string, string>,
): Promise<[number, Record<string, unknown>]> {
  const response = await fetch(new URL(path, base), {
    method,
    headers: {
      cookie: `sid=${session}`,
      ...(body === undefined
        ? {}
        : { "content-type": "application/json", origin: base.slice(0, -1) }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return [response.status, await response.json()];
}

const joinQueue = (base: string, session: string) =>
  call(base, "POST", "/queue", session, { product: DROP });
const turnOf = async (base: string, session: string) =>
  (await call(base, "GET", `/queue?product=${DROP}`, session))[1];
const cart = (base: string, session: string, action: string) =>
  call(base, "POST", "/cart", session, { action, product: DROP });

/** Runs docs/check-draw.mjs with Node against a shop, as a shopper would. */
async function checkDrawScript(
  shop: string,
  ticket: string,
): Promise<{ code: number; output: string }> {
  const script = join(import.meta.dirname!, "..", "docs", "check-draw.mjs");
  const { code, stdout, stderr } = await new Deno.Command("node", {
    args: [script, shop, DROP, ticket],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return { code, output: decoder.decode(stdout) + decoder.decode(stderr) };
}

Deno.test("the docs' draw check refuses a draw out of HMAC order or a seed off its commitment", async () => {
  const seed = "ab".repeat(32);
  const commitment = createHash("sha256").update(Buffer.from(seed, "hex")).digest("hex");
  const macs = ["aa", "cc", "bb"].map((start) => start.repeat(32));
  for (
    const [draw, why] of [
      [{ commitment, seed, order: [], macs }, /order breaks at 3/],
      [{ commitment: "00".repeat(32), seed, order: [], macs: [] }, /does not match the commitment/],
    ] as const
  ) {
    await using server = Deno.serve(
      { port: 0, hostname: "127.0.0.1", onListen: () => {} },
      () => Response.json(draw),
    );
    const checked = await checkDrawScript(`http://127.0.0.1:${server.addr.port}/`, "ticket");
    assert.notEqual(checked.code, 0);
    assert.match(checked.output, why);
  }
});

const sha256 = (text: string | Uint8Array) => createHash("sha256").update(text).digest("hex");

/** Checks a published draw with code of its own, and returns the window tickets' hashes by number. */
async function checkedDraw(base: string, tickets: readonly string[]): Promise<string[]> {
  const [code, draw] = await call(base, "GET", `/queue/draw?product=${DROP}`, crypto.randomUUID());
  assert.equal(code, 200);
  const seed = Buffer.from(String(draw.seed), "hex");
  assert.equal(sha256(seed), draw.commitment, "the seed matches the commitment");
  const mac = (ticket: string) => createHmac("sha256", seed).update(ticket).digest("hex");
  const order = [...tickets].sort((a, b) => mac(a) < mac(b) ? -1 : 1).map(sha256);
  assert.deepEqual(
    (draw.order as string[]).slice(0, order.length),
    order,
    "the window's order recomputes from the seed",
  );
  return order;
}

Deno.test("300 shoppers: the draw, admissions in number order, every transport ends sold out", async () => {
  const dir = await Deno.makeTempDir({ prefix: "queue_drop_" });
  const units = 20;
  try {
    const catalog = await dropCatalog(dir, units, 4_000);
    await using server = await spawnServer([
      ...ONE_ADDRESS,
      "--catalog",
      catalog,
      "--queue-window",
      "10m",
      "--admit-rate",
      "10",
      "--admission-ttl",
      "20s",
    ]);
    const base = server.url;
    const feeds: StateFeed[] = [];
    for (let i = 0; i < 4; i++) {
      feeds.push(await openWebSocketFeed(base, {}, FEED));
      feeds.push(await openSseFeed(base, FEED));
    }
    // The window opens as the server starts: its commitment comes with it.
    const first = await feeds[0].waitForMessage((message) => message.phase === "queueing");
    assert.match(String(first.commitment), /^[0-9a-f]{64}$/);
    for (let i = 0; i < 4; i++) feeds.push(openLongPollFeed(base, `${first.epoch}.0`, FEED));

    const sessions = Array.from({ length: 300 }, () => crypto.randomUUID());
    const tickets = await Promise.all(sessions.map(async (session) => {
      const [code, body] = await joinQueue(base, session);
      assert.equal(code, 200, JSON.stringify(body));
      assert.equal(body.number, null);
      return String(body.ticket);
    }));

    const opened = await within(
      feeds[0].waitForMessage((message) => message.phase === "open"),
      "the draw",
      15_000,
    );
    assert.equal(opened.commitment, first.commitment);
    const order = await checkedDraw(base, tickets);
    const numberOf = new Map(sessions.map((s, i) => [s, order.indexOf(sha256(tickets[i])) + 1]));
    for (const session of sessions.slice(0, 5)) {
      assert.equal((await turnOf(base, session)).number, numberOf.get(session));
    }

    // Anyone checks the draw with the docs' script; a shopper finds their own number.
    const byNumber = [...numberOf].sort((a, b) => a[1] - b[1]).map(([session]) => session);
    const mine = String((await turnOf(base, byNumber[41])).ticket);
    const checked = await checkDrawScript(base, mine);
    assert.equal(checked.code, 0, checked.output);
    assert.match(checked.output, /300 tickets drawn in HMAC order/);
    assert.match(checked.output, /Your ticket is number 42\./);

    // Each shopper adds as soon as the feed admits its number, then checks out.
    const bought: number[] = [];
    for (let number = 1; number <= units; number++) {
      await within(
        feeds[0].waitForMessage((message) => Number(message.servingUpTo) >= number),
        `servingUpTo ${number}`,
        15_000,
      );
      const session = byNumber[number - 1];
      assert.equal((await turnOf(base, session)).admitted, true, `number ${number} admitted`);
      const [refused] = await cart(base, byNumber[units + number - 1], "add");
      assert.equal(refused, 409, `number ${units + number} is not admitted yet`);
      assert.equal((await cart(base, session, "add"))[0], 200);
      assert.equal((await cart(base, session, "checkout"))[0], 200);
      bought.push(number);
    }
    assert.deepEqual(bought, Array.from({ length: units }, (_, i) => i + 1));

    const ends = await Promise.all(
      feeds.map((feed) =>
        within(feed.waitForMessage((message) => message.phase === "soldOut"), "sold out", 15_000)
      ),
    );
    for (const end of ends) assert.deepEqual([end.free, end.held, end.servingUpTo], [0, 0, units]);
    assert.equal((await joinQueue(base, crypto.randomUUID()))[0], 409, "the queue is closed");
    for (const feed of feeds) await feed[Symbol.asyncDispose]();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a restart on Deno KV mid-drop keeps every ticket, number and admission", async () => {
  const dir = await Deno.makeTempDir({ prefix: "queue_restart_" });
  const data = join(dir, "inventory.kv");
  const flags = (catalog: string) => [
    ...ONE_ADDRESS,
    "--data",
    data,
    "--catalog",
    catalog,
    "--queue-window",
    "10m",
    "--admit-rate",
    "100",
    "--admission-ttl",
    "1h",
  ];
  const stop = async (server: ChildServer) => {
    server.process.kill("SIGTERM");
    assert.equal((await server.status).code, 0, server.output());
  };
  try {
    const catalog = await dropCatalog(dir, 3, 8_000);
    const sessions = Array.from({ length: 40 }, () => crypto.randomUUID());
    const tickets: string[] = [];
    let commitment: unknown;
    {
      await using server = await spawnServer(flags(catalog));
      for (const session of sessions.slice(0, 30)) {
        tickets.push(String((await joinQueue(server.url, session))[1].ticket));
      }
      commitment = (await call(server.url, "GET", STATUS_NOW, sessions[0]))[1].commitment;
      await stop(server);
    }
    let admitted: StatusMessage;
    {
      await using server = await spawnServer(flags(catalog));
      const status = (await call(server.url, "GET", STATUS_NOW, sessions[0]))[1];
      assert.deepEqual([status.phase, status.commitment, status.queued], [
        "queueing",
        commitment,
        30,
      ]);
      for (const [i, session] of sessions.slice(0, 30).entries()) {
        assert.equal((await joinQueue(server.url, session))[1].ticket, tickets[i], "same ticket");
      }
      await using feed = await openWebSocketFeed(server.url, {}, FEED);
      admitted = await within(
        feed.waitForMessage((message) => message.servingUpTo === 3),
        "three admitted",
        15_000,
      );
      for (const session of sessions.slice(30)) {
        tickets.push(String((await joinQueue(server.url, session))[1].ticket));
      }
      await stop(server);
    }
    {
      await using server = await spawnServer(flags(catalog));
      const status = (await call(server.url, "GET", STATUS_NOW, sessions[0]))[1];
      assert.deepEqual(
        [status.phase, status.seed, status.servingUpTo, status.queued],
        ["open", admitted.seed, 3, 37],
      );
      const order = await checkedDraw(server.url, tickets.slice(0, 30));
      const [, draw] = await call(server.url, "GET", `/queue/draw?product=${DROP}`, sessions[0]);
      assert.deepEqual(
        (draw.order as string[]).slice(30),
        tickets.slice(30).map(sha256),
        "later tickets keep their arrival order",
      );
      for (const [i, session] of sessions.entries()) {
        const turn = await turnOf(server.url, session);
        const number = i < 30 ? order.indexOf(sha256(tickets[i])) + 1 : i + 1;
        assert.equal(turn.number, number);
        assert.equal(turn.admitted, number <= 3, `number ${number}`);
      }
      await stop(server);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
