/**
 * The catalog scenario: 1,000 products, 10,000 WebSockets spread over them (and some on the
 * catalog feed), then changes to random products, one at a time: server memory per subscriber,
 * and the time from each change to the last subscriber of that product and of the catalog feed.
 *
 *     deno run -A bench/catalog_load.ts [--products 1000] [--subscribers 10000] [--catalog-watchers 100] [--changes 200]
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { withoutSeparator } from "../lib/server/config.ts";
import { spawnServer } from "../tests/support/server.ts";

const { values } = parseArgs({
  args: withoutSeparator(Deno.args),
  options: {
    products: { type: "string", default: "1000" },
    subscribers: { type: "string", default: "10000" },
    "catalog-watchers": { type: "string", default: "100" },
    changes: { type: "string", default: "200" },
  },
});
const PRODUCTS = Number(values.products);
const SUBSCRIBERS = Number(values.subscribers);
const CATALOG_WATCHERS = Number(values["catalog-watchers"]);
const CHANGES = Number(values.changes);
/** One change must reach everyone within this, or the run fails. */
const CHANGE_DEADLINE_MS = 10_000;
/** Sockets opened at once. */
const OPEN_BATCH = 500;

const dir = await Deno.makeTempDir();
const catalogPath = join(dir, "catalog.json");
const ids = Array.from({ length: PRODUCTS }, (_, i) => `p-${i}`);
await Deno.writeTextFile(
  catalogPath,
  JSON.stringify({
    products: ids.map((id) => ({
      id,
      name: `Product ${id}`,
      price: { amount: "10.00", currency: "EUR" },
      total: 1_000_000,
    })),
  }),
);
await using server = await spawnServer([
  // The load comes from one address: the per-address limit of holds would refuse it.
  "--max-holds-per-client",
  "0",
  "--catalog",
  catalogPath,
  "--max-products",
  String(PRODUCTS),
  "--max-connections",
  String(SUBSCRIBERS + CATALOG_WATCHERS + 100),
]);
const pid = server.process.pid;

function rssKiB(): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]);
}

/** Each socket's newest version per product, and who waits for which version. */
interface Watcher {
  socket: WebSocket;
  versions: Map<string, number>;
}
const byProduct = new Map<string, Watcher[]>(ids.map((id) => [id, []]));
const catalogWatchers: Watcher[] = [];
let waiting: { product: string; version: number; left: number; done: () => void } | undefined;

function arrived(watcher: Watcher, product: string, version: number): void {
  const known = watcher.versions.get(product) ?? -1;
  if (version <= known) return;
  watcher.versions.set(product, version);
  if (waiting?.product === product && version >= waiting.version && --waiting.left === 0) {
    waiting.done();
  }
}

async function open(url: URL, onMessage: (data: unknown, watcher: Watcher) => void) {
  const socket = new WebSocket(url);
  const watcher: Watcher = { socket, versions: new Map() };
  socket.onmessage = (event) => onMessage(JSON.parse(event.data), watcher);
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = () => reject(new Error("a WebSocket failed to open"));
  });
  return watcher;
}

const base = new URL(server.url);
base.protocol = "ws:";
const rssBefore = rssKiB();
const openStarted = performance.now();
for (let start = 0; start < SUBSCRIBERS; start += OPEN_BATCH) {
  await Promise.all(
    Array.from({ length: Math.min(OPEN_BATCH, SUBSCRIBERS - start) }, async (_, i) => {
      const product = ids[(start + i) % PRODUCTS];
      const url = new URL(`cart/status?product=${product}`, base);
      const watcher = await open(url, (data, watcher) => {
        const { product, version } = data as { product: string; version: number };
        arrived(watcher, product, version);
      });
      byProduct.get(product)!.push(watcher);
    }),
  );
}
for (let i = 0; i < CATALOG_WATCHERS; i++) {
  catalogWatchers.push(
    await open(new URL("catalog/status", base), (data, watcher) => {
      const message = data as {
        products?: { product: string; version: number }[];
        product?: string;
        version: number;
      };
      for (const entry of message.products ?? [message as { product: string; version: number }]) {
        arrived(watcher, entry.product, entry.version);
      }
    }),
  );
}
const openSeconds = (performance.now() - openStarted) / 1000;
await new Promise((resolve) => setTimeout(resolve, 2_000));
const rssAfter = rssKiB();

const toProduct: number[] = [];
const toCatalog: number[] = [];
for (let i = 0; i < CHANGES; i++) {
  const product = ids[Math.floor(Math.random() * PRODUCTS)];
  const subscribers = byProduct.get(product)!;
  const version = Math.max(...subscribers.map((w) => w.versions.get(product) ?? 0)) + 1;
  const started = performance.now();
  let productDone = 0;
  const reached = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`change ${i} missed its deadline`)),
      CHANGE_DEADLINE_MS,
    );
    waiting = {
      product,
      version,
      left: subscribers.length + catalogWatchers.length,
      done: () => {
        clearTimeout(timer);
        resolve();
      },
    };
  });
  // The product's subscribers are counted first: note when the last of them has it.
  const watchProduct = (async () => {
    while (subscribers.some((w) => (w.versions.get(product) ?? -1) < version)) {
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    productDone = performance.now() - started;
  })();
  const response = await fetch(new URL("cart", server.url), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ action: "add", session: crypto.randomUUID(), product }),
  });
  await response.body?.cancel();
  await reached;
  await watchProduct;
  toProduct.push(productDone);
  toCatalog.push(performance.now() - started);
  await new Promise((resolve) => setTimeout(resolve, 20));
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}
const all = SUBSCRIBERS + CATALOG_WATCHERS;
console.log(
  `products ${PRODUCTS}, subscribers ${SUBSCRIBERS} (+${CATALOG_WATCHERS} on the catalog feed)`,
);
console.log(`opened in ${openSeconds.toFixed(1)} s`);
console.log(
  `server RSS ${rssBefore} → ${rssAfter} KiB: ${
    ((rssAfter - rssBefore) / all).toFixed(1)
  } KiB per subscriber`,
);
console.log(
  `change → last subscriber of its product: median ${
    percentile(toProduct, 0.5).toFixed(1)
  } ms, p99 ${percentile(toProduct, 0.99).toFixed(1)} ms (${CHANGES} changes)`,
);
console.log(
  `change → last catalog-feed watcher too: median ${
    percentile(toCatalog, 0.5).toFixed(1)
  } ms, p99 ${percentile(toCatalog, 0.99).toFixed(1)} ms`,
);
for (const watcher of [...byProduct.values()].flat().concat(catalogWatchers)) {
  watcher.socket.close();
}
await Deno.remove(dir, { recursive: true });
// Deno.exit skips the disposal of `await using`: the server is stopped first, or it outlives us.
await server[Symbol.asyncDispose]();
Deno.exit(0);
