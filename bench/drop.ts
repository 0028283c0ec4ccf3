/**
 * Issue 24's figures: a drop's waiting room on one process, in memory and on a Deno KV file,
 * against a bare `Deno.serve` answering the same joins in the same run.
 *
 *     deno run -A bench/drop.ts                                  # ~2 min: 2,000 joins, 1,000 watchers
 *     deno run -A bench/drop.ts --shoppers 20000 --watchers 10000 --joiner-pages 7500
 *     deno run -A bench/drop.ts --stores redis --shoppers 20000 --watchers 10000  # 30,000 pages
 *
 * Shoppers join (`POST /queue`) from `--addresses` source addresses (127.0.0.2 on) during the
 * window; then their pages and the watchers open `/queue/status` (WebSocket, SSE and long polls);
 * then the owner moves the drop's `opensAt` to a few seconds ahead (admin API), the draw numbers
 * the tickets, and each admitted shopper adds and checks out until the drop is sold out. With
 * `--stores redis` the drop runs on two processes sharing one redis-server, each shopper process
 * talking to one of them, so twice the pages fit.
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { BenchRun, markdownTable, wholeFlags } from "./bench_run.ts";
import { withoutSeparator } from "../lib/server/config.ts";
import { wallClock } from "../tests/support/fleet.ts";
import { type ChildServer, spawnListening, spawnServer } from "../tests/support/server.ts";
import { startRedis } from "../tests/support/redis_server.ts";
import { readMessages } from "./load_protocol.ts";
import { readRssKiB } from "./load.ts";
import { cpuMs } from "./siege.ts";
import type { DropOrder, DropReport, Purchase } from "./drop_protocol.ts";
import { drawnMac, drawnOrder, publishedHash, seedMatches } from "./draw_check.ts";
import { openQueuePage, type QueueMessage } from "./queue_page.ts";

const USAGE = `Usage: deno run -A bench/drop.ts [options]

  --shoppers N          shoppers joining the line, one ticket each          (default 2000)
  --addresses N         source addresses they join from, 127.0.0.2 on       (default 200)
  --watchers N          more pages watching /queue/status                   (default 1000)
  --joiner-pages N      joiners that keep their page open on /queue/status  (default all)
  --units N             the drop's stock                                    (default 100)
  --admit-rate N        the server's --admit-rate                           (default 20)
  --stores LIST         memory, kv, redis (two processes on one redis-server) (default memory,kv)
  --join-concurrency N  joins in flight at once over all shopper processes  (default 200)
  --gap S               seconds from the pages' opening to opensAt          (default 3)
  --timeout S           the whole run's limit                               (default 900)`;

const { values } = parseArgs({
  args: withoutSeparator(Deno.args),
  options: {
    shoppers: { type: "string", default: "2000" },
    addresses: { type: "string", default: "200" },
    watchers: { type: "string", default: "1000" },
    "joiner-pages": { type: "string" },
    units: { type: "string", default: "100" },
    "admit-rate": { type: "string", default: "20" },
    stores: { type: "string", default: "memory,kv" },
    "join-concurrency": { type: "string", default: "200" },
    gap: { type: "string", default: "3" },
    timeout: { type: "string", default: "900" },
    help: { type: "boolean" },
  },
});
if (values.help) {
  console.log(USAGE);
  Deno.exit(0);
}
const whole = wholeFlags(
  { ...values, "joiner-pages": values["joiner-pages"] ?? values.shoppers },
  USAGE,
);
const SHOPPERS = whole("shoppers", 1, 50_000);
const ADDRESSES = whole("addresses", 1, 1_000);
const WATCHERS = whole("watchers", 0, 18_000);
const JOINER_PAGES = whole("joiner-pages", 0, SHOPPERS);
const UNITS = whole("units", 1, 10_000);
const ADMIT_RATE = whole("admit-rate", 1, 10_000);
const JOIN_CONCURRENCY = whole("join-concurrency", 1, 2_000);
const GAP_S = whole("gap", 1, 60);
const TIMEOUT_MS = whole("timeout", 60, 3_600) * 1000;
const STORES = values.stores.split(",");
if (!STORES.every((store) => store === "memory" || store === "kv" || store === "redis")) {
  console.error(`error: --stores must list memory, kv and/or redis\n\n${USAGE}`);
  Deno.exit(2);
}
/** Splits `n` into `parts` whole shares as even as can be. */
const shares = (n: number, parts: number) =>
  Array.from({ length: parts }, (_, i) => Math.floor(n / parts) + (i < n % parts ? 1 : 0));
const PAGES = JOINER_PAGES + WATCHERS;
/** Server processes of a store: a fleet of two on Redis, else one. */
const serversOf = (store: string) => store === "redis" ? 2 : 1;
/**
 * Every process here may hold 20,000 files (`ulimit -n`), the servers too: each needs some for
 * joins, adds and its own files besides the pages it holds.
 */
const PAGES_PER_SERVER = 18_000;
const MAX_PAGES = PAGES_PER_SERVER * Math.min(...STORES.map(serversOf));
if (PAGES > MAX_PAGES) {
  console.error(
    `error: ${PAGES} pages (--joiner-pages + --watchers) pass the ${MAX_PAGES} that ` +
      `${STORES.join(", ")} can hold: ${PAGES_PER_SERVER} per server process under its limit of ` +
      `20,000 open files\n\n${USAGE}`,
  );
  Deno.exit(2);
}
/** Pages one shopper process holds at most, so that it stays far under its own 20,000 files. */
const PAGES_PER_CHILD = 7_000;
/**
 * Shopper processes: two at least, so that the joins' clients are not one event loop, and as many
 * for each server process of a fleet.
 */
const PROCESSES = Math.ceil(Math.max(2, Math.ceil(PAGES / PAGES_PER_CHILD)) / 2) * 2;
// A shopper process hears the line through its pages: with none its shoppers would never buy.
if (
  shares(JOINER_PAGES, PROCESSES).some((n, i) => n + shares(WATCHERS, PROCESSES)[i] === 0)
) {
  console.error(
    `error: give each of the ${PROCESSES} shopper processes a page at least\n\n${USAGE}`,
  );
  Deno.exit(2);
}
/** Tickets one address may hold, and the add rate whose burst (2N) lets them all join at once. */
const TICKETS_PER_ADDRESS = Math.max(100, Math.ceil(SHOPPERS / ADDRESSES));
const ADD_RATE = Math.ceil(TICKETS_PER_ADDRESS / 2);
const PRODUCT = "drop";
const ADMIN_TOKEN = crypto.randomUUID();
const CHILD = join(import.meta.dirname!, "drop_child.ts");
const BARE_MAIN = join(import.meta.dirname!, "bare_main.ts");
/** How long the memory of the joins may settle before it is read, ms. */
const SETTLE_MS = 2_000;

const bench = new BenchRun(TIMEOUT_MS);
const run = bench.signal;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const count = (value: number) => Math.round(value).toLocaleString("en-US");

/** One shopper process: its shoppers and pages, and its reports by type. */
class ShopperProcess {
  readonly #process: Deno.ChildProcess;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;
  readonly #reports = new Map<string, DropReport[]>();
  readonly #waiting = new Map<string, () => void>();
  #ended = false;

  constructor(server: string, first: number, shoppers: number) {
    const process = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        CHILD,
        "--url",
        server,
        "--product",
        PRODUCT,
        "--first",
        String(first),
        "--shoppers",
        String(shoppers),
        "--addresses",
        String(ADDRESSES),
        "--deadline-ms",
        String(TIMEOUT_MS),
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    this.#process = process;
    this.#stdin = process.stdin.getWriter();
    (async () => {
      for await (const report of readMessages<DropReport>(process.stdout)) {
        this.#reports.set(report.type, [...this.#reports.get(report.type) ?? [], report]);
        this.#waiting.get(report.type)?.();
      }
    })().catch(() => {}).finally(() => {
      this.#ended = true;
      for (const wake of this.#waiting.values()) wake();
    });
  }

  /** Its CPU time so far (user + system), ms. */
  cpuMs(): number {
    return cpuMs(this.#process.pid);
  }

  /** Sends one order. */
  send(order: DropOrder): Promise<void> {
    return this.#stdin.write(new TextEncoder().encode(JSON.stringify(order) + "\n"));
  }

  /** Resolves with the next report of a type; rejects when the process ends or `signal` aborts. */
  async next<T extends DropReport["type"]>(
    type: T,
    signal: AbortSignal,
  ): Promise<Extract<DropReport, { type: T }>> {
    for (;;) {
      const report = this.#reports.get(type)?.shift();
      if (report) return report as Extract<DropReport, { type: T }>;
      if (this.#ended) throw new Error(`a shopper process ended before it sent "${type}"`);
      signal.throwIfAborted();
      const { promise, resolve } = Promise.withResolvers<void>();
      signal.addEventListener("abort", () => resolve(), { once: true });
      this.#waiting.set(type, resolve);
      await promise;
      this.#waiting.delete(type);
    }
  }

  /** Asks it to close and exit; kills it if it has not within 5 s. */
  async close(): Promise<void> {
    await this.send({ type: "close" }).catch(() => {});
    const timer = setTimeout(() => {
      try {
        this.#process.kill("SIGKILL");
      } catch {
        // Already exited.
      }
    }, 5_000);
    await this.#process.status;
    clearTimeout(timer);
  }
}

/**
 * Starts the shopper processes: every shopper once, the pages spread evenly, the processes over the
 * servers in turn.
 */
function spawnShoppers(servers: readonly string[]): ShopperProcess[] {
  let first = 0;
  const children = shares(SHOPPERS, PROCESSES).map((shoppers, i) => {
    const child = new ShopperProcess(servers[i % servers.length], first, shoppers);
    first += shoppers;
    return child;
  });
  for (const child of children) bench.defer(() => child.close());
  return children;
}

const sumCpu = (children: ShopperProcess[]) =>
  children.reduce((sum, child) => sum + child.cpuMs(), 0);

/** Asks every process for a report and waits for all of them. */
async function askAll<T extends DropReport["type"]>(
  children: ShopperProcess[],
  orders: DropOrder[],
  type: T,
  signal: AbortSignal = run,
): Promise<Extract<DropReport, { type: T }>[]> {
  await Promise.all(children.map((child, i) => child.send(orders[i])));
  return Promise.all(children.map((child) => child.next(type, signal)));
}

/** What the join phase measured on one server. */
interface Joins {
  joinsPerSecond: number;
  cpuPerJoinUs: number;
  /** redis-server's CPU per join, µs, on a fleet. */
  storeCpuPerJoinUs?: number;
  statuses: Record<string, number>;
  firstError?: string;
  tickets: Map<number, string>;
}

/** The CPU time of processes so far, summed, ms. */
const cpuOf = (pids: readonly number[]) => pids.reduce((sum, pid) => sum + cpuMs(pid), 0);

async function joinAll(
  children: ShopperProcess[],
  pids: readonly number[],
  path: string,
  storePid?: number,
): Promise<Joins> {
  const concurrency = shares(JOIN_CONCURRENCY, children.length);
  // A process's start (its modules compiled) is not part of the joins.
  await Promise.all(children.map((child) => child.next("ready", run)));
  const cpuBefore = cpuOf(pids);
  const storeCpuBefore = storePid === undefined ? 0 : cpuMs(storePid);
  const started = performance.now();
  const reports = await askAll(
    children,
    concurrency.map((c) => ({ type: "join", path, concurrency: Math.max(1, c) })),
    "joined",
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuOf(pids) - cpuBefore;
  const storeCpu = storePid === undefined ? undefined : cpuMs(storePid) - storeCpuBefore;
  const statuses: Record<string, number> = {};
  for (const report of reports) {
    for (const [status, n] of Object.entries(report.statuses)) {
      statuses[status] = (statuses[status] ?? 0) + n;
    }
  }
  return {
    joinsPerSecond: SHOPPERS / seconds,
    cpuPerJoinUs: cpu * 1000 / SHOPPERS,
    storeCpuPerJoinUs: storeCpu === undefined ? undefined : storeCpu * 1000 / SHOPPERS,
    statuses,
    firstError: reports.find((report) => report.firstError)?.firstError,
    tickets: new Map(reports.flatMap((report) => report.tickets)),
  };
}

/** The bare baseline: the same joins, each a `POST` of the same body, to a bare `Deno.serve`. */
async function bareJoins(): Promise<Joins> {
  const server = await spawnListening(BARE_MAIN, [], {}, ["--allow-net"]);
  bench.defer(() => server[Symbol.asyncDispose]());
  const children = spawnShoppers([server.url]);
  try {
    return await joinAll(children, [server.process.pid], "/queue");
  } finally {
    await Promise.all(children.map((child) => child.close()));
    await server[Symbol.asyncDispose]();
  }
}

/** What one drop measured on our server. */
interface Drop {
  store: string;
  joins: Joins;
  kibPerShopper: number;
  pagesOpened: number;
  /** From moving opensAt to sold out (or giving up): wall time and CPU, seconds. */
  sale: { seconds: number; serverCpuS: number; shoppersCpuS: number };
  /** The status feed as the bench's own page saw it: versions from the opening, messages read. */
  feed: { versionAtOpening: number; messages: number; lastVersion: number };
  /** From opensAt to the first status message with the seed (the draw made), ms. */
  drawMs: number;
  /** From opensAt to the first status message with servingUpTo ≥ 1, ms. */
  firstAdmissionMs: number;
  /** From sending the last checkout that sold a unit to the last page showing soldOut, ms. */
  soldOutMs: number;
  sold: number;
  /** The admitted shoppers' add and checkout answers, counted. */
  purchaseAnswers: string;
  drawCheck: string;
  orderCheck: string;
  verified: string;
  notSoldOut: number;
  reopened: number;
  lost: number;
  firstLoss?: string;
}

/** The product's fields for the catalog and for the admin API's `PUT`. */
function productFields(opensAt: string) {
  return {
    id: PRODUCT,
    name: "Limited drop",
    price: { amount: "10.00", currency: "EUR" },
    opensAt,
  };
}

/** Our servers for one store: one process, or two on one redis-server. */
interface Ours extends AsyncDisposable {
  readonly urls: string[];
  readonly pids: number[];
  /** redis-server's process id, on a fleet. */
  readonly storePid?: number;
}

async function startOurs(store: string, dataDir: string): Promise<Ours> {
  const catalog = join(dataDir, `${store}-catalog.json`);
  // The window is open from the start; the owner moves opensAt once every page is open.
  const far = new Date(Date.now() + 3_600_000).toISOString();
  await Deno.writeTextFile(
    catalog,
    JSON.stringify({ products: [{ ...productFields(far), total: UNITS }] }),
  );
  const redis = store === "redis" ? await startRedis() : undefined;
  if (redis) bench.defer(() => redis[Symbol.asyncDispose]());
  const servers: ChildServer[] = [];
  for (let i = 0; i < serversOf(store); i++) {
    const server = await spawnServer([
      "--catalog",
      catalog,
      ...(redis ? ["--redis", redis.url] : [
        "--data",
        store === "memory" ? ":memory:" : join(dataDir, `${store}.kv`),
      ]),
      "--queue-window",
      "2h",
      "--admit-rate",
      String(ADMIT_RATE),
      "--max-holds-per-client",
      String(TICKETS_PER_ADDRESS),
      "--add-rate",
      String(ADD_RATE),
      "--max-connections",
      String(Math.ceil(PAGES / serversOf(store)) + 500),
      "--max-connections-per-client",
      "0",
    ], { ADMIN_TOKEN });
    bench.defer(() => server[Symbol.asyncDispose]());
    servers.push(server);
  }
  return {
    urls: servers.map((server) => server.url),
    pids: servers.map((server) => server.process.pid),
    storePid: redis?.process.pid,
    async [Symbol.asyncDispose]() {
      await Promise.all(servers.map((server) => server[Symbol.asyncDispose]()));
      await redis?.[Symbol.asyncDispose]();
    },
  };
}

/** Moves the drop's opening through the admin API, as an owner would. */
async function moveOpening(base: string, opensAt: string): Promise<void> {
  const answer = await fetch(new URL(`/admin/products/${PRODUCT}`, base), {
    method: "PUT",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(productFields(opensAt)),
  });
  if (!answer.ok) throw new Error(`moving opensAt: ${answer.status} ${await answer.text()}`);
  await answer.body?.cancel();
}

async function drop(store: string, dataDir: string): Promise<Drop> {
  const ours = await startOurs(store, dataDir);
  const pids = ours.pids;
  const [url] = ours.urls;
  const rssOf = () => pids.reduce((sum, pid) => sum + readRssKiB(pid), 0);
  const children = spawnShoppers(ours.urls);
  try {
    const rssBefore = rssOf();
    const joins = await joinAll(children, pids, "/queue", ours.storePid);
    await sleep(SETTLE_MS);
    const kibPerShopper = (rssOf() - rssBefore) / SHOPPERS;
    const joinerPages = shares(JOINER_PAGES, children.length);
    const watchers = shares(WATCHERS, children.length);
    // A shopper process hears the line through its pages: with none its shoppers would never buy.
    if (children.some((_, i) => joinerPages[i] + watchers[i] === 0)) {
      throw new Error(
        `${PAGES} pages cannot give each of ${children.length} shopper processes one`,
      );
    }
    const opened = await askAll(
      children,
      children.map((_, i) => ({
        type: "open",
        joinerPages: joinerPages[i],
        watchers: watchers[i],
      })),
      "opened",
    );
    const failed = opened.reduce((sum, report) => sum + report.failed, 0);
    if (failed > 0) {
      throw new Error(
        `${failed} pages failed to open: ${opened.find((r) => r.firstError)?.firstError}`,
      );
    }

    // The bench's own page, from 127.0.0.1: the seed, and when servingUpTo first moves.
    const seeded = Promise.withResolvers<QueueMessage>();
    let seededAt = NaN;
    const firstAdmission = Promise.withResolvers<number>();
    const served: number[] = [];
    let lastVersion = 0;
    const timer = await openQueuePage(new URL(url), "127.0.0.1", "ws", PRODUCT, {
      onMessage(message) {
        if (message.seed !== null && Number.isNaN(seededAt)) {
          seededAt = wallClock();
          seeded.resolve(message);
        }
        if (message.servingUpTo >= 1) firstAdmission.resolve(wallClock());
        served.push(message.servingUpTo);
        lastVersion = message.version;
      },
      onLost: (error) => seeded.reject(error),
    });
    bench.defer(() => Promise.resolve(timer.close()));
    const opensAt = Math.ceil((Date.now() + GAP_S * 1000) / 1000) * 1000;
    // Who had the cores from the opening to sold out: the server, or the pages' processes.
    const versionAtOpening = lastVersion;
    const cpuAtOpening = { server: cpuOf(pids), shoppers: sumCpu(children), at: performance.now() };
    await moveOpening(url, new Date(opensAt).toISOString());

    // Each shopper's number from the draw recomputed here; they buy when the line reaches it.
    const { seed, commitment } = await within(seeded.promise, 30_000 + GAP_S * 1000, "the draw");
    const order = drawnOrder(seed!, [...joins.tickets.values()]);
    const numberOf = new Map(order.map((ticket, i) => [ticket, i + 1]));
    const byChild = children.map(() => [] as [number, number][]);
    let first = 0;
    shares(SHOPPERS, children.length).forEach((n, c) => {
      for (let shopper = first; shopper < first + n; shopper++) {
        const ticket = joins.tickets.get(shopper);
        if (ticket !== undefined) byChild[c].push([shopper, numberOf.get(ticket)!]);
      }
      first += n;
    });
    await Promise.all(
      children.map((child, c) => child.send({ type: "numbers", numbers: byChild[c] })),
    );

    const admittedAt = await within(firstAdmission.promise, 30_000, "the first admission");
    // Bounded, with room for a store much slower than the admit rate.
    const saleMs = 120_000 + 2_000 * UNITS / ADMIT_RATE;
    const soldOut = await Promise.all(
      children.map((child) =>
        child.next("soldOut", AbortSignal.any([run, AbortSignal.timeout(saleMs)]))
      ),
    ).catch(() => undefined);
    const sale = {
      seconds: (performance.now() - cpuAtOpening.at) / 1000,
      serverCpuS: (cpuOf(pids) - cpuAtOpening.server) / 1000,
      shoppersCpuS: (sumCpu(children) - cpuAtOpening.shoppers) / 1000,
    };
    const reports = await askAll(children, children.map(() => ({ type: "report" })), "report");
    const purchases = reports.flatMap((report) => report.purchases);
    const sales = purchases.filter((p) => p.checkout === 200);
    const lastSale = sales.reduce(
      (last, p) => p.checkoutAnswered > last.checkoutAnswered ? p : last,
      sales[0],
    );
    const lastPage = soldOut === undefined ? NaN : Math.max(...soldOut.map((s) => s.at));

    // Every process of a fleet publishes the same draw.
    const drawChecks = await Promise.all(
      ours.urls.map((base) => checkDraw(base, seed!, commitment!, order)),
    );
    const drawCheck = drawChecks.find((check) => !check.startsWith("MATCH")) ?? drawChecks[0];
    const orderCheck = checkAdmissions(purchases, served);
    const verification = await askAll(
      children,
      children.map(() => ({ type: "verify", concurrency: 50 })),
      "verified",
    );
    const mismatches = verification.reduce((sum, v) => sum + v.mismatches, 0);
    const checked = verification.reduce((sum, v) => sum + v.checked, 0);
    const mismatch = verification.find((v) => v.firstMismatch)?.firstMismatch;
    return {
      store,
      joins,
      kibPerShopper,
      pagesOpened: opened.reduce((sum, report) => sum + report.opened, 0),
      sale,
      feed: { versionAtOpening, messages: served.length, lastVersion },
      drawMs: seededAt - opensAt,
      firstAdmissionMs: admittedAt - opensAt,
      soldOutMs: lastSale === undefined ? NaN : lastPage - lastSale.checkoutSent,
      sold: sales.length,
      purchaseAnswers: answerCounts(purchases),
      drawCheck,
      orderCheck,
      verified: mismatches === 0
        ? `MATCH (${checked} shoppers' GET /queue)`
        : `${mismatches} of ${checked} differ; first: shopper ${mismatch!.shopper} expected ` +
          `${mismatch!.expected}, got ${mismatch!.got}`,
      notSoldOut: reports.reduce((sum, report) => sum + report.notSoldOut, 0),
      reopened: reports.reduce((sum, report) => sum + report.reopened, 0),
      lost: reports.reduce((sum, report) => sum + report.lost, 0),
      firstLoss: reports.find((report) => report.firstLoss)?.firstLoss,
    };
  } finally {
    await Promise.all(children.map((child) => child.close()));
    await ours[Symbol.asyncDispose]();
  }
}

/** Counts the admitted shoppers' answers: `add 200 → checkout 200` and the like. */
function answerCounts(purchases: Purchase[]): string {
  const counts = new Map<string, number>();
  for (const { add, checkout } of purchases) {
    const key = `add ${add || "-"} → checkout ${checkout || "-"}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => `${n}× ${key}`).join(", ");
}

/** Waits for a promise no longer than `ms`, or for the run. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  const limit = AbortSignal.any([run, AbortSignal.timeout(ms)]);
  const gaveUp = new Promise<never>((_, reject) =>
    limit.addEventListener("abort", () => reject(new Error(`no ${what} within ${ms} ms`)), {
      once: true,
    })
  );
  return await Promise.race([promise, gaveUp]);
}

/** The published draw against the one recomputed here: the seed, then every hash and HMAC in order. */
async function checkDraw(
  base: string,
  seed: string,
  commitment: string,
  order: string[],
): Promise<string> {
  if (!seedMatches(seed, commitment)) return "MISMATCH: the seed does not match the commitment";
  const answer = await fetch(new URL(`/queue/draw?product=${PRODUCT}`, base));
  const published: { seed: string; order: string[]; macs: string[] } = await answer.json();
  if (published.seed !== seed) return "MISMATCH: /queue/draw names another seed";
  for (let i = 0; i < Math.max(order.length, published.order.length); i++) {
    const expected = order[i] === undefined ? undefined : publishedHash(order[i]);
    if (published.order[i] !== expected) {
      return `MISMATCH at number ${i + 1}: published ${published.order[i]}, recomputed ${expected}`;
    }
    const mac = order[i] === undefined ? undefined : drawnMac(seed, order[i]);
    if (published.macs[i] !== mac) {
      return `MISMATCH at number ${i + 1}: published HMAC ${published.macs[i]}, recomputed ${mac}`;
    }
  }
  return `MATCH (${order.length} tickets)`;
}

/**
 * Admissions against the draw: `servingUpTo` never goes back, every buyer was admitted under its
 * recomputed number, and the units went to numbers 1, 2, 3, … with none skipped.
 */
function checkAdmissions(purchases: Purchase[], served: number[]): string {
  for (let i = 1; i < served.length; i++) {
    if (served[i] < served[i - 1]) {
      return `MISMATCH: servingUpTo went from ${served[i - 1]} back to ${served[i]}`;
    }
  }
  for (const purchase of purchases) {
    if (purchase.turn.number !== purchase.number || !purchase.turn.admitted) {
      return `MISMATCH: shopper ${purchase.shopper} (number ${purchase.number}) was told ` +
        `number ${purchase.turn.number}, admitted ${purchase.turn.admitted}`;
    }
  }
  const sold = purchases.filter((p) => p.checkout === 200).map((p) => p.number).sort((a, b) =>
    a - b
  );
  for (let i = 0; i < sold.length; i++) {
    if (sold[i] !== i + 1) return `MISMATCH: the ${i + 1}th unit went to number ${sold[i]}`;
  }
  return `MATCH (units to numbers 1–${sold.length}, servingUpTo ${served.at(-1)})`;
}

const load = () => Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");

async function main(): Promise<void> {
  const loadAtStart = load();
  const started = new Date();
  const dataDir = await Deno.makeTempDir({ prefix: "drop-" });
  bench.defer(() => Deno.remove(dataDir, { recursive: true }));
  const drops: Drop[] = [];
  const bares: Joins[] = [];
  let failure: unknown;
  try {
    // The baseline before and after ours, so that neither runs only on the warmer machine.
    bares.push(await bareJoins());
    for (const store of STORES) {
      drops.push(await drop(store, dataDir));
      console.error(`${store}: done`);
    }
    bares.push(await bareJoins());
  } catch (error) {
    failure = error;
  } finally {
    await bench.cleanUp();
  }
  console.log(
    `\nIssue 24, ${started.toISOString()}, Deno ${Deno.version.deno}, load average ` +
      `${loadAtStart} → ${load()}; ${count(SHOPPERS)} shoppers from ${ADDRESSES} addresses ` +
      `(--max-holds-per-client ${TICKETS_PER_ADDRESS}, --add-rate ${ADD_RATE}: bursts of ` +
      `${ADD_RATE * 2}), ${count(PAGES)} pages (${count(JOINER_PAGES)} joiners' WebSockets and ` +
      `long polls, ${count(WATCHERS)} watchers: WebSocket, SSE, long poll in turn), ${UNITS} ` +
      `units, --admit-rate ${ADMIT_RATE}\n`,
  );
  if (bares.length === 2 && drops.length > 0) {
    const mean = (pick: (joins: Joins) => number) => (pick(bares[0]) + pick(bares[1])) / 2;
    const bare: Joins = {
      joinsPerSecond: mean((joins) => joins.joinsPerSecond),
      cpuPerJoinUs: mean((joins) => joins.cpuPerJoinUs),
      statuses: {},
      firstError: bares[0].firstError ?? bares[1].firstError,
      tickets: new Map(),
    };
    const statuses = (joins: Joins) =>
      Object.entries(joins.statuses).map(([status, n]) => `${n}× ${status}`).join(", ");
    console.log(markdownTable(
      [
        "figure",
        `bare Deno.serve (before, after: ${
          bares.map((b) => count(b.joinsPerSecond)).join(", ")
        }/s)`,
        ...drops.map((d) => `ours, ${d.store === "redis" ? "two processes on Redis" : d.store}`),
      ],
      [
        [
          "joins/s (÷ bare)",
          count(bare.joinsPerSecond),
          ...drops.map((d) =>
            `${count(d.joins.joinsPerSecond)} (${
              (d.joins.joinsPerSecond / bare!.joinsPerSecond).toFixed(2)
            }×)`
          ),
        ],
        [
          "server CPU per join (÷ bare)",
          `${bare.cpuPerJoinUs.toFixed(0)} µs`,
          ...drops.map((d) =>
            `${d.joins.cpuPerJoinUs.toFixed(0)} µs (${
              (d.joins.cpuPerJoinUs / bare!.cpuPerJoinUs).toFixed(2)
            }×)${
              d.joins.storeCpuPerJoinUs === undefined
                ? ""
                : `, and redis-server ${d.joins.storeCpuPerJoinUs.toFixed(0)} µs`
            }`
          ),
        ],
        ["answers", bares.map(statuses).join(" / "), ...drops.map((d) => statuses(d.joins))],
        ["RSS per waiting shopper", "-", ...drops.map((d) => `${d.kibPerShopper.toFixed(2)} KiB`)],
        ["pages open", "-", ...drops.map((d) => count(d.pagesOpened))],
        ["opensAt → the draw published", "-", ...drops.map((d) => `${d.drawMs.toFixed(1)} ms`)],
        [
          "opensAt → first admission",
          "-",
          ...drops.map((d) => `${d.firstAdmissionMs.toFixed(1)} ms`),
        ],
        [
          "last unit sold → last page shows soldOut",
          "-",
          ...drops.map((d) =>
            `${d.soldOutMs.toFixed(1)} ms (${d.sold} sold; ${d.notSoldOut} pages not on soldOut)`
          ),
        ],
        [
          "opening → sold out: wall, CPU of server / shopper processes",
          "-",
          ...drops.map((d) =>
            `${d.sale.seconds.toFixed(1)} s, ${d.sale.serverCpuS.toFixed(1)} s / ` +
            `${d.sale.shoppersCpuS.toFixed(1)} s`
          ),
        ],
        [
          "status versions from the opening to sold out (messages the bench's page read)",
          "-",
          ...drops.map((d) =>
            `${d.feed.lastVersion - d.feed.versionAtOpening} (${d.feed.messages})`
          ),
        ],
        ["admitted shoppers' answers", "-", ...drops.map((d) => d.purchaseAnswers)],
        ["draw: seed, commitment, order", "-", ...drops.map((d) => d.drawCheck)],
        ["admissions against the draw", "-", ...drops.map((d) => d.orderCheck)],
        ["every number by GET /queue", "-", ...drops.map((d) => d.verified)],
        [
          "pages the server dropped: opened again / lost",
          "-",
          ...drops.map((d) =>
            `${d.reopened} / ${d.lost}${d.firstLoss ? ` (first: ${d.firstLoss})` : ""}`
          ),
        ],
      ],
    ));
    const errors = [bare, ...drops.map((d) => d.joins)].flatMap((j) => j.firstError ?? []);
    if (errors.length) console.log(`\nFirst refusals: ${errors.join("; ")}`);
  }
  if (failure !== undefined) {
    console.error(`error: ${failure instanceof Error ? failure.stack : failure}`);
    Deno.exit(1);
  }
  // A figure is only worth its checks: a drop that broke one fails the run.
  const broken = drops.filter((d) =>
    ![d.drawCheck, d.orderCheck, d.verified].every((check) => check.startsWith("MATCH")) ||
    d.sold !== UNITS || d.notSoldOut > 0 || d.lost > 0
  );
  if (broken.length > 0) {
    console.error(`error: a check failed on ${broken.map((d) => d.store).join(", ")}`);
    Deno.exit(1);
  }
  Deno.exit(0);
}

await main();
