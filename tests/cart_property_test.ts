/**
 * Property-based: random adds and removes racing over several products, with aborted posts,
 * abandoned polls and disconnects, checked answer by answer against an independent model of who
 * holds what, on one server in this process and on two server processes sharing one redis-server.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type CartAnswer,
  type CartState,
  CATALOG_FEED,
  eventually,
  metric,
  postCart,
  productFeed,
} from "./support/clients.ts";
import { catalogOf, productInfo } from "./support/products.ts";
import { redisMissing, startRedis } from "./support/redis_server.ts";
import { startFleet } from "./support/redis_fleet.ts";
import { startTestServer } from "./support/server.ts";
import {
  openLongPollFeed,
  openSseFeed,
  openWebSocketFeed,
  type StateFeed,
} from "./support/status_clients.ts";

/** The products the model follows exactly. */
const PRODUCTS = ["a", "b", "c"];
/** The product of aborted posts: whether those land is unknown until the end. */
const GHOST = "ghost";
const SESSIONS = 5;
/** Each product's WebSocket, event stream and long poll. */
const FEEDS_PER_PRODUCT = 3;
const FEEDS = (PRODUCTS.length + 1) * FEEDS_PER_PRODUCT;

/** One step a client takes. */
type Step =
  | { kind: "add" | "remove"; product: number; session: number }
  | { kind: "abort add"; late: boolean }
  | { kind: "abort remove"; late: boolean }
  | { kind: "abandon poll"; product: number }
  | { kind: "disconnect"; feed: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constantFrom("add" as const, "remove" as const),
      product: fc.nat(PRODUCTS.length - 1),
      session: fc.nat(SESSIONS - 1),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constantFrom("abort add" as const, "abort remove" as const),
      late: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("abandon poll" as const),
      product: fc.nat(PRODUCTS.length),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("disconnect" as const), feed: fc.nat(FEEDS - 1) }),
  },
);

/** What the model knows of one product: who holds a unit, and the version. */
interface ProductModel {
  readonly holders: ReadonlySet<string>;
  readonly version: number;
}

/** Every followed product's model. */
type Model = ReadonlyMap<string, ProductModel>;

/** A cart post the model follows, with the answer the server gave. */
interface Post {
  readonly action: "add" | "remove";
  readonly product: string;
  readonly session: string;
  readonly answer: Pick<CartAnswer, "status" | "body">;
}

/** What the shop's rules say a post answers, and the model after it. */
function decide(
  model: Model,
  totals: Record<string, number>,
  post: Post,
): { model: Model; answer: Post["answer"] } {
  const { product, session } = post;
  const { holders, version } = model.get(product)!;
  const total = totals[product];
  const after = new Set(holders);
  if (post.action === "add" && !holders.has(session) && holders.size >= total) {
    return {
      model,
      answer: { status: 409, body: { error: "sold out", product, inventoryCount: 0, version } },
    };
  }
  if (post.action === "add") after.add(session);
  else after.delete(session);
  const next = new Map(model);
  next.set(product, { holders: after, version: version + (after.size !== holders.size ? 1 : 0) });
  return {
    model: next,
    answer: {
      status: 200,
      body: {
        product,
        inventoryCount: Math.max(0, total - after.size),
        version: next.get(product)!.version,
        inCart: post.action === "add",
      },
    },
  };
}

function* permutations<T>(items: readonly T[]): Generator<T[]> {
  if (items.length <= 1) {
    yield [...items];
    return;
  }
  for (let i = 0; i < items.length; i++) {
    const rest = [...items.slice(0, i), ...items.slice(i + 1)];
    for (const tail of permutations(rest)) yield [items[i], ...tail];
  }
}

function keyOf(model: Model): string {
  return JSON.stringify(
    [...model].map(([id, { holders, version }]) => [id, [...holders].sort(), version]),
  );
}

/**
 * The models after a batch of posts that raced each other: those of every order in which the
 * rules give exactly the answers the server gave.
 *
 * @throws {AssertionError} When no order does: the server broke a rule.
 */
function linearize(candidates: Model[], totals: Record<string, number>, posts: Post[]): Model[] {
  const found = new Map<string, Model>();
  for (const start of candidates) {
    for (const order of permutations(posts)) {
      let model = start;
      const agrees = order.every((post) => {
        const decided = decide(model, totals, post);
        model = decided.model;
        return JSON.stringify(decided.answer) === JSON.stringify(post.answer);
      });
      if (agrees) found.set(keyOf(model), model);
    }
  }
  assert.ok(
    found.size > 0,
    `no order of these posts gives the server's answers:\n${JSON.stringify(posts, null, 1)}\n` +
      `from ${candidates.map(keyOf).join(" or ")}`,
  );
  return [...found.values()];
}

/** A shopper whose post was aborted: the model learns at the end whether it landed. */
interface Ghost {
  readonly session: string;
  /** For an aborted remove: whether the add before it got a unit. */
  readonly added?: boolean;
}

/**
 * The shop one run of the property talks to: one server process, or several on one store.
 * Posts, feeds and reads go to each process in turn.
 */
interface ShopUnderTest extends AsyncDisposable {
  /** Each process's URL. */
  readonly urls: readonly string[];
  /** Put before each name of the model (`a`, `b`, `c`, `ghost`) to make the run's product id. */
  readonly prefix: string;
  /** How many long polls wait now, over every process. */
  longPollWaiters(): Promise<number>;
}

/** Opens the shop of one run, its products (by their names in the model) at these totals. */
type OpenShop = (totals: Record<string, number>) => Promise<ShopUnderTest>;

/** The totals of one run: 0 to 3 units of each product. */
const totalsArbitrary: fc.Arbitrary<Record<string, number>> = fc.record({
  a: fc.integer({ min: 0, max: 3 }),
  b: fc.integer({ min: 0, max: 3 }),
  c: fc.integer({ min: 0, max: 3 }),
  [GHOST]: fc.integer({ min: 0, max: 3 }),
});

/** The batches of one run: each inner array runs at once, so that sessions race each other. */
const batchesArbitrary = fc.array(fc.array(step, { minLength: 1, maxLength: 4, size: "max" }), {
  minLength: 1,
  maxLength: 10,
  size: "max",
});

/**
 * The property: on a fresh shop, every answer, push and final state agrees with the model.
 *
 * @param openShop Opens the shop of each run.
 * @returns The property, for `fc.assert`.
 */
function cartProperty(openShop: OpenShop) {
  return fc.asyncProperty(
    totalsArbitrary,
    batchesArbitrary,
    async (totalsByName: Record<string, number>, batches: Step[][]) => {
      await using shop = await openShop(totalsByName);
      await checkRun(shop, totalsByName, batches);
    },
  );
}

/** Runs the batches on the shop, checking each against the model, then checks the end state. */
async function checkRun(
  shop: ShopUnderTest,
  totalsByName: Record<string, number>,
  batches: Step[][],
): Promise<void> {
  const { urls, prefix } = shop;
  const products = PRODUCTS.map((name) => prefix + name);
  const ghost = prefix + GHOST;
  const everyProduct = [...products, ghost];
  const totals = Object.fromEntries(
    Object.entries(totalsByName).map(([name, total]) => [prefix + name, total]),
  );
  let turn = 0;
  /** The next process, in turn. */
  const next = () => urls[turn++ % urls.length];
  const sessions = Array.from({ length: SESSIONS }, () => crypto.randomUUID());
  const ghosts: Ghost[] = [];
  let candidates: Model[] = [
    new Map(products.map((id) => [id, { holders: new Set<string>(), version: 0 }])),
  ];
  const feeds: (StateFeed | undefined)[] = [];
  for (const product of everyProduct) {
    feeds.push(await openWebSocketFeed(next(), {}, productFeed(product)));
    feeds.push(await openSseFeed(next(), productFeed(product)));
    // A long poll starts knowing version 0.
    feeds.push(openLongPollFeed(next(), 0, productFeed(product)));
  }
  try {
    for (const batch of batches) {
      const posts: Post[] = [];
      await Promise.all(batch.map((s) => run(s, posts)));
      candidates = linearize(candidates, totals, posts);
    }
    // Every order that fits leads to the same holders (answers tell who got a unit).
    assert.equal(candidates.length, 1, candidates.map(keyOf).join(" or "));
    const [model] = candidates;
    for (const product of products) {
      const { holders, version } = model.get(product)!;
      const expected = { inventoryCount: totals[product] - holders.size, version };
      for (const url of urls) {
        assert.deepEqual(
          await statusOnceAt(url, product, version),
          expected,
          `final /cart/status of ${product} at ${url}`,
        );
      }
      // A long poll that was never answered still knows the start: the total at version 0.
      const start = { inventoryCount: totals[product], version: 0 };
      await eventually(
        () => feedsOf(product).every((feed) => sameState(feed.states.at(-1) ?? start, expected)),
        `every surviving subscriber of ${product} to reach ${JSON.stringify(expected)}`,
      );
    }
    for (const session of sessions) {
      const held = products.filter((id) => model.get(id)!.holders.has(session));
      for (const url of urls) {
        assert.deepEqual(await cartOf(session, url), held, `GET /cart at ${url} agrees`);
      }
    }
    await checkGhosts();
    for (const feed of feeds) {
      const versions = feed?.states.map((state) => state.version) ?? [];
      assert.ok(
        versions.every((v, i) => i === 0 || v > versions[i - 1]),
        `feed ${feeds.indexOf(feed)} went back: ${versions}`,
      );
    }
  } finally {
    for (const feed of feeds) await feed?.[Symbol.asyncDispose]();
  }
  await eventually(async () => await shop.longPollWaiters() === 0, "abandoned polls to leave");

  function feedsOf(product: string): StateFeed[] {
    const at = everyProduct.indexOf(product) * FEEDS_PER_PRODUCT;
    return feeds.slice(at, at + FEEDS_PER_PRODUCT).filter((feed) => feed !== undefined);
  }

  async function cartOf(session: string, base: string): Promise<string[]> {
    const response = await fetch(new URL("cart", base), {
      headers: { cookie: `sid=${session}` },
    });
    const { items } = await response.json();
    return items.map((item: { product: string }) => item.product);
  }

  /**
   * Aborted posts may land after their client gave up: once they all have, the ghost product's
   * count and version are what the holds its shoppers have say, at every process.
   */
  async function checkGhosts(): Promise<void> {
    let last = "";
    await eventually(async () => {
      const base = next();
      let holders = 0;
      let changes = 0;
      for (const ghostShopper of ghosts) {
        const holds = (await cartOf(ghostShopper.session, base)).includes(ghost);
        if (holds) holders++;
        // An add that landed is one change; an add then a remove that landed, two.
        if (ghostShopper.added === undefined) changes += holds ? 1 : 0;
        else if (ghostShopper.added) changes += holds ? 1 : 2;
      }
      const states = [];
      for (const url of urls) {
        await using status = await openSseFeed(url, productFeed(ghost));
        states.push(status.states[0]);
      }
      last = JSON.stringify({ holders, changes, states });
      assert.ok(holders <= totals[ghost], `never oversold: ${last}`);
      const expected = { inventoryCount: totals[ghost] - holders, version: changes };
      return states.every((state) => sameState(state, expected));
    }, `the ghost product to agree with its shoppers' carts (last: ${last})`);
  }

  async function run(s: Step, posts: Post[]): Promise<void> {
    if (s.kind === "add" || s.kind === "remove") {
      const product = products[s.product];
      const session = sessions[s.session];
      const { status, body } = await postCart(next(), s.kind, session, product);
      posts.push({ action: s.kind, product, session, answer: { status, body } });
    } else if (s.kind === "abort add" || s.kind === "abort remove") {
      const session = crypto.randomUUID();
      let added;
      if (s.kind === "abort remove") {
        added = (await postCart(next(), "add", session, ghost)).status === 200;
      }
      ghosts.push({ session, added });
      const controller = new AbortController();
      const sent = fetch(new URL("cart", next()), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          action: s.kind === "abort add" ? "add" : "remove",
          session,
          product: ghost,
        }),
        signal: controller.signal,
      }).then((r) => r.body?.cancel(), () => {});
      if (s.late) await new Promise((resolve) => setTimeout(resolve, 0));
      controller.abort();
      await sent;
    } else if (s.kind === "abandon poll") {
      const controller = new AbortController();
      const url = new URL(productFeed(everyProduct[s.product]), next());
      const poll = fetch(url, { signal: controller.signal })
        .then((r) => r.body?.cancel(), () => {});
      controller.abort();
      await poll;
    } else if (s.kind === "disconnect") {
      await feeds[s.feed]?.[Symbol.asyncDispose]();
      feeds[s.feed] = undefined;
    }
  }
}

/**
 * A fresh status of a product from one process, once that process has the version: at once in
 * the process that answered the post, a moment later in another one (through the store's change
 * channel). A process is never ahead of the model, so a newer version fails at once.
 */
async function statusOnceAt(base: string, product: string, version: number): Promise<CartState> {
  let state: CartState | undefined;
  await eventually(async () => {
    await using status = await openSseFeed(base, productFeed(product));
    state = status.states[0];
    return state.version >= version;
  }, `${base} to reach version ${version} of ${product} (last: ${JSON.stringify(state)})`);
  return state!;
}

Deno.test({
  name: "every answer, push and final state agrees with a model of who holds what",
  sanitizeOps: false, // deno#22387: WebSockets
  sanitizeResources: false,
  async fn() {
    await fc.assert(
      cartProperty(async (totals) => {
        // The model's shoppers share one address: it checks holds per session, not per address.
        const server = await startTestServer(
          { maxHoldsPerClient: 0 },
          { catalog: catalogOf(totals) },
        );
        return {
          urls: [server.url],
          prefix: "",
          longPollWaiters: () => Promise.resolve(server.app.gauges().longPollWaiters),
          [Symbol.asyncDispose]: () => server.stop(),
        };
      }),
      { numRuns: 60 },
    );
  },
});

const ADMIN_TOKEN = "property-admin-token-0001";

Deno.test({
  name: "two processes on one Redis agree with the same model, posts and feeds spread over both",
  ignore: redisMissing,
  sanitizeOps: false, // deno#22387: WebSockets
  sanitizeResources: false,
  async fn() {
    await using redis = await startRedis();
    await using fleet = await startFleet(redis.url, 2, [
      // The model's shoppers share one address: it checks holds per session, not per address.
      "--max-holds-per-client",
      "0",
      "--admin-token",
      ADMIN_TOKEN,
      "--max-products",
      "100000",
    ]);
    const urls = fleet.map((server) => server.url);
    let runs = 0;
    await fc.assert(
      // Each run lists its own products, through both processes, on the two processes kept.
      cartProperty(async (totals) => {
        const prefix = `run${++runs}-`;
        const catalogs = await Promise.all(
          urls.map((url) => openWebSocketFeed(url, {}, CATALOG_FEED)),
        );
        try {
          const names = Object.keys(totals);
          for (const [i, name] of names.entries()) {
            await listProduct(urls[i % urls.length], prefix + name, totals[name]);
          }
          // A process serves a product once the change channel has brought it there.
          for (const catalog of catalogs) {
            for (const name of names) {
              await catalog.waitForMessage((message) => message.product === prefix + name);
            }
          }
        } finally {
          await Promise.all(catalogs.map((catalog) => catalog[Symbol.asyncDispose]()));
        }
        return {
          urls,
          prefix,
          longPollWaiters: async () => {
            const counts = await Promise.all(
              urls.map((url) => metric(url, "inventory_long_poll_waiters")),
            );
            return counts.reduce((sum, count) => sum + count, 0);
          },
          [Symbol.asyncDispose]: () => Promise.resolve(),
        };
      }),
      { numRuns: 60 },
    );
  },
});

/** Creates a product through the admin API of one process, and checks that it is new. */
async function listProduct(base: string, id: string, total: number): Promise<void> {
  const response = await fetch(new URL(`admin/products/${id}`, base), {
    method: "PUT",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ ...productInfo(id), total }),
  });
  assert.equal(response.status, 201, await response.text());
}

function sameState(
  state: { inventoryCount: number; version: number } | undefined,
  expected: { inventoryCount: number; version: number },
): boolean {
  return state?.inventoryCount === expected.inventoryCount && state.version === expected.version;
}
