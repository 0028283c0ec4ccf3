/** Tests of the pages' rules that need no browser: backoff, message parsing, the epoch rule. */
import assert from "node:assert/strict";
import {
  BACKOFF_BASE_MS,
  BACKOFF_CAP_MS,
  backoffDelay,
  type CatalogEntry,
  isNews,
  LiveCatalog,
  LiveState,
  parseCatalogEntry,
  parseCatalogSnapshot,
  parseState,
  type ProductState,
} from "../static/live_state.js";

Deno.test("backoffDelay doubles its window per attempt up to the cap, jittered over all of it", () => {
  const almostOne = () => 0.999_999;
  const windows = [0, 1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(attempt, almostOne) + 1);
  assert.deepEqual(windows, [2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  assert.equal(BACKOFF_BASE_MS, windows[0]);
  assert.equal(BACKOFF_CAP_MS, windows.at(-1));
  // Full jitter: the delay can be anything from 0 to the window, so a crowd spreads out.
  assert.equal(backoffDelay(3, () => 0), 0);
  assert.equal(backoffDelay(3, () => 0.25), 4_000);
});

Deno.test("backoffDelay spreads a crowd's first retry over more than a second", () => {
  const delays = Array.from({ length: 10_000 }, () => backoffDelay(0));
  const seconds = new Set(delays.map((ms) => Math.floor(ms / 1000)));
  assert.deepEqual([...seconds].sort(), [0, 1]);
  assert.ok(delays.every((ms) => Number.isInteger(ms) && ms >= 0 && ms < BACKOFF_BASE_MS));
});

Deno.test("parseState reads status messages and cart answers, and ignores anything else", () => {
  assert.deepEqual(
    parseState({ product: "moon-pin", inventoryCount: 0, version: 12, epoch: "8f71e78e" }),
    { product: "moon-pin", inventoryCount: 0, version: 12, epoch: "8f71e78e", retired: false },
  );
  // A retired product's last message.
  assert.equal(
    parseState({ product: "moon-pin", inventoryCount: 0, version: 13, epoch: "e", retired: true })
      ?.retired,
    true,
  );
  // The answer to a click names no epoch.
  assert.deepEqual(
    parseState({ product: "moon-pin", inventoryCount: 3, version: 4, inCart: true }),
    { product: "moon-pin", inventoryCount: 3, version: 4, epoch: undefined, retired: false },
  );
  for (
    const value of [
      null,
      "x",
      [],
      { type: "ping" },
      { inventoryCount: "3", version: 1 },
      { inventoryCount: 3, version: -1 },
      { inventoryCount: 1.5, version: 1 },
      { inventoryCount: 3 },
      { inventoryCount: 3, version: 1, epoch: 7 },
      { inventoryCount: 3, version: 1, product: ["moon-pin"] },
    ]
  ) {
    assert.equal(parseState(value), undefined, JSON.stringify(value));
  }
});

const PRICE = { amount: "9.00", currency: "EUR" };

/** A catalog entry of the example catalog's pin, with changes. */
function pin(fields: Partial<CatalogEntry> = {}): CatalogEntry {
  return {
    product: "moon-pin",
    inventoryCount: 50,
    version: 0,
    epoch: "e1",
    retired: false,
    name: "Crescent moon enamel pin",
    price: PRICE,
    priceText: "€9.00",
    image: "/media/a308fd64116a29a8.svg",
    limitText: "one per shopper",
    ...fields,
  };
}

Deno.test("parseCatalogEntry and parseCatalogSnapshot read the catalog feed", () => {
  assert.deepEqual(parseCatalogEntry(pin()), pin());
  assert.deepEqual(parseCatalogEntry(pin({ image: null })), pin({ image: null }));
  const { product: _, ...unnamed } = pin();
  for (
    const value of [
      unnamed,
      { ...pin(), name: 3 },
      { ...pin(), price: "9.00" },
      { ...pin(), price: { amount: 9, currency: "EUR" } },
      { ...pin(), image: 1 },
    ]
  ) {
    assert.equal(parseCatalogEntry(value), undefined, JSON.stringify(value));
  }
  assert.deepEqual(
    parseCatalogSnapshot({ epoch: "e1", version: 3, products: [pin()] }),
    { epoch: "e1", version: 3, products: [pin()] },
  );
  // An entry is no snapshot, and a snapshot with a bad entry is not read at all.
  assert.equal(parseCatalogSnapshot(pin()), undefined);
  assert.equal(parseCatalogSnapshot({ epoch: "e1", version: 3, products: [pin(), {}] }), undefined);
  assert.equal(parseCatalogSnapshot({ epoch: "e1", products: [] }), undefined);
});

/** A product page's state of the example pin. */
function state(inventoryCount: number, version: number, epoch: string | undefined): ProductState {
  return { product: "moon-pin", inventoryCount, version, epoch, retired: false };
}

/** A LiveState that records what it shows. */
function live(initial: ProductState) {
  const shown: ProductState[] = [];
  return { state: new LiveState(initial, (s) => shown.push(s)), shown };
}

Deno.test("LiveState shows only newer versions within one epoch", () => {
  const { state: page, shown } = live(state(10, 0, "e1"));
  assert.equal(page.offer(state(9, 1, "e1")), true);
  page.offer(state(7, 3, "e1"));
  page.offer(state(7, 3, "e1"));
  // A late message (a poll answered late, a click's answer overtaken by a push).
  assert.equal(page.offer(state(99, 2, "e1")), false);
  // One epoch never gives one version two counts: the same version is no news either.
  page.offer(state(8, 3, "e1"));
  assert.deepEqual(shown.map((s) => s.version), [1, 3]);
  assert.deepEqual(page.current, state(7, 3, "e1"));
});

Deno.test("LiveState shows a state of another epoch at once, and it becomes the base", () => {
  // The store started again, empty: its versions count from 0, below what the page shows.
  const { state: page, shown } = live(state(4, 6, "e1"));
  assert.equal(page.offer(state(10, 0, "e2")), true);
  assert.deepEqual(page.current, state(10, 0, "e2"));
  // From now on versions compare within the new epoch...
  page.offer(state(9, 1, "e2"));
  assert.equal(page.offer(state(10, 0, "e2")), false);
  // ...through the version the page showed before, and past it.
  page.offer(state(3, 6, "e2"));
  page.offer(state(2, 7, "e2"));
  assert.deepEqual(shown, [
    state(10, 0, "e2"),
    state(9, 1, "e2"),
    state(3, 6, "e2"),
    state(2, 7, "e2"),
  ]);
});

Deno.test("LiveState takes a state that names no epoch as one of the epoch shown", () => {
  const { state: page, shown } = live(state(7, 3, "e1"));
  assert.equal(page.offer(state(8, 2, undefined)), false);
  assert.equal(page.offer(state(6, 4, undefined)), true);
  // What it shows keeps the epoch, so the next push of that epoch compares with it.
  assert.deepEqual(page.current, state(6, 4, "e1"));
  assert.equal(page.offer(state(6, 4, "e1")), false);
  assert.deepEqual(shown, [state(6, 4, "e1")]);
});

Deno.test("isNews: another epoch always, the same epoch only when newer", () => {
  const shown = state(4, 6, "e1");
  assert.equal(isNews(state(4, 7, "e1"), shown), true);
  assert.equal(isNews(state(4, 6, "e1"), shown), false);
  assert.equal(isNews(state(4, 5, "e1"), shown), false);
  assert.equal(isNews(state(4, 99, "e2"), shown), true);
  assert.equal(isNews(state(4, 0, "e2"), shown), true);
  assert.equal(isNews(state(4, 6, "e2"), shown), true);
});

/** A LiveCatalog that records what it is told, one line per event. */
function catalog(initial: CatalogEntry[]) {
  const events: string[] = [];
  const shop = new LiveCatalog(initial, {
    onAdd: (entry) => events.push(`add ${entry.product} ${entry.inventoryCount}`),
    onChange: (entry) =>
      events.push(`${entry.product} ${entry.retired ? "retired" : entry.inventoryCount}`),
    onRemove: (product) => events.push(`remove ${product}`),
  });
  return { shop, events };
}

const TOTE = { product: "canvas-tote", name: "Canvas tote bag", inventoryCount: 25 };

Deno.test("LiveCatalog keeps each product by the epoch rule, and adds and marks products", () => {
  const { shop, events } = catalog([pin(), pin(TOTE)]);
  shop.offerEntry(pin({ inventoryCount: 49, version: 1 }));
  // An older entry of the pin, then news of the tote: only the tote moves.
  shop.offerEntry(pin({ inventoryCount: 99, version: 0 }));
  shop.offerEntry(pin({ ...TOTE, inventoryCount: 24, version: 1 }));
  // A product listed after the page loaded, and one retired.
  shop.offerEntry(pin({ product: "night-sky-print", inventoryCount: 10 }));
  shop.offerEntry(pin({ inventoryCount: 0, version: 2, retired: true }));
  // A retired product the page never showed needs no tile.
  shop.offerEntry(pin({ product: "old-poster", version: 5, retired: true }));
  assert.deepEqual(events, [
    "moon-pin 49",
    "canvas-tote 24",
    "add night-sky-print 10",
    "moon-pin retired",
  ]);
  // The tote is kept at version 1 and the print is tracked from now on.
  shop.offerEntry(pin({ ...TOTE, inventoryCount: 23, version: 1 }));
  shop.offerEntry(pin({ product: "night-sky-print", inventoryCount: 9, version: 1 }));
  assert.deepEqual(events.slice(4), ["night-sky-print 9"]);
});

Deno.test("LiveCatalog: a snapshot replaces all, but never shows a product older", () => {
  const { shop, events } = catalog([pin({ version: 4, inventoryCount: 46 }), pin(TOTE)]);
  shop.offerSnapshot({
    epoch: "e1",
    version: 12,
    products: [
      // Behind what the page shows (another process's feed may lag): kept as shown.
      pin({ version: 3, inventoryCount: 47 }),
      pin({ product: "night-sky-print", inventoryCount: 10, version: 2 }),
    ],
  });
  // The tote is no longer listed; the print is new.
  assert.deepEqual(events, ["remove canvas-tote", "add night-sky-print 10"]);
  // The pin stays at version 4; the tote, if it comes back, is a new tile.
  shop.offerEntry(pin({ version: 4, inventoryCount: 47 }));
  shop.offerEntry(pin({ version: 5, inventoryCount: 45 }));
  shop.offerEntry(pin({ ...TOTE, version: 3 }));
  assert.deepEqual(events.slice(2), ["moon-pin 45", "add canvas-tote 25"]);
});

Deno.test("LiveCatalog: a snapshot of another epoch replaces every product's state", () => {
  const { shop, events } = catalog([pin({ version: 4, inventoryCount: 46 }), pin(TOTE)]);
  shop.offerSnapshot({
    epoch: "e2",
    version: 2,
    products: [
      pin({ epoch: "e2", version: 0, inventoryCount: 50 }),
      pin({ ...TOTE, epoch: "e2", version: 0 }),
    ],
  });
  assert.deepEqual(events, ["moon-pin 50", "canvas-tote 25"]);
  // And entries of the new epoch follow from its versions, below the old epoch's 4 too.
  shop.offerEntry(pin({ epoch: "e2", version: 0, inventoryCount: 44 }));
  shop.offerEntry(pin({ epoch: "e2", version: 1, inventoryCount: 49 }));
  assert.deepEqual(events.slice(2), ["moon-pin 49"]);
});
