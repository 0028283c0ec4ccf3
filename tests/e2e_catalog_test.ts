/** Browser tests of the catalog page: live tiles beside a product page, fallbacks, news, screenshot. */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Page } from "playwright-core";
import type { Gauges } from "../lib/http/monitoring.ts";
import type { RunningServer } from "../lib/server/start_server.ts";
import {
  browserTest,
  openShopper,
  openThroughRefusals,
  tileCounts,
  waitForConnection,
  waitForCount,
  waitForTileCount,
} from "./support/browser.ts";
import { eventually } from "./support/clients.ts";
import { exampleCatalog } from "./support/products.ts";
import { startTestServer } from "./support/server.ts";

const FIRST_COUNTS = { "night-sky-print": "10", "canvas-tote": "25", "moon-pin": "50" };

/** Starts a server on the example catalog: a print, a tote and a pin, with their images. */
async function startCatalogServer(): Promise<RunningServer & AsyncDisposable> {
  return await startTestServer({}, { catalog: await exampleCatalog() });
}

/**
 * Records, in the page, every count a tile shows from now on, as `<product> <count>`.
 *
 * @returns A function that reads the record, and one that names the tiles that changed.
 */
async function recordTiles(page: Page) {
  await page.evaluate(() => {
    const shown: string[] = [];
    Object.assign(globalThis, { shownTiles: shown });
    new MutationObserver((records) => {
      for (const record of records) {
        const node = record.target;
        const tile = (node instanceof Element ? node : node.parentElement)
          ?.closest<HTMLElement>("li.tile");
        if (tile === null || tile === undefined) continue;
        shown.push(`${tile.dataset.product} ${tile.querySelector(".tile-count")?.textContent}`);
      }
    }).observe(document.getElementById("products")!, {
      subtree: true,
      childList: true,
      characterData: true,
      attributeFilter: ["data-version"],
    });
  });
  const shown = () =>
    page.evaluate(() => (globalThis as unknown as { shownTiles: string[] }).shownTiles);
  const changed = async () => [...new Set((await shown()).map((line) => line.split(" ")[0]))];
  return { shown, changed };
}

browserTest(
  "e2e: the catalog page and a product page side by side: an add on one product updates both pages' count for that product and nothing else",
  async (browser) => {
    await using server = await startCatalogServer();
    const catalog = await openShopper(browser, server.url);
    const tote = await openShopper(browser, new URL("products/canvas-tote", server.url).href);
    assert.deepEqual(await tileCounts(catalog.page), FIRST_COUNTS);
    assert.equal(await tote.page.locator("#count").textContent(), "25");
    const tiles = await recordTiles(catalog.page);

    await tote.page.click("#add");
    await Promise.all([
      waitForCount(tote.page, 24, 1_000),
      waitForTileCount(catalog.page, "canvas-tote", 24, 1_000),
    ]);
    await tote.page.locator("#add", { hasText: "In your cart" }).waitFor();

    // Another product's news reaches the catalog; the tote's page stays as it is.
    await server.inventory.add("moon-pin", crypto.randomUUID());
    assert.equal(await waitForTileCount(catalog.page, "moon-pin", 49), 1);
    assert.deepEqual(await tiles.changed(), ["canvas-tote", "moon-pin"]);
    assert.deepEqual(await tileCounts(catalog.page), {
      ...FIRST_COUNTS,
      "canvas-tote": "24",
      "moon-pin": "49",
    });
    const toteCount = tote.page.locator("#count");
    assert.equal(await toteCount.textContent(), "24");
    assert.equal(await toteCount.getAttribute("data-version"), "1");

    // A tile is a link to its product's page, named by the product.
    const link = catalog.page.getByRole("link", { name: "Canvas tote bag" });
    assert.equal(await link.getAttribute("href"), "/products/canvas-tote");
    // Counts are text in a polite live region that names the product.
    const stock = catalog.page.locator('li[data-product="canvas-tote"] .tile-stock');
    assert.equal(await stock.getAttribute("aria-live"), "polite");
    assert.match(await stock.textContent() ?? "", /^Canvas tote bag: 24 left/);
  },
);

const FALLBACKS = [
  { param: "sse", name: "Server-Sent Events", gauge: "sseSubscribers" },
  { param: "poll", name: "long polling", gauge: "longPollWaiters" },
] as const satisfies { param: string; name: string; gauge: keyof Gauges }[];

for (const transport of FALLBACKS) {
  browserTest(
    `e2e: the catalog page over ?transport=${transport.param} names ${transport.name} and gets every product's news`,
    async (browser) => {
      await using server = await startCatalogServer();
      const { page } = await openShopper(browser, `${server.url}?transport=${transport.param}`);
      const live = page.locator("#live");
      assert.equal(await live.getAttribute("data-transport"), transport.param);
      assert.equal(await live.textContent().then((t) => t?.trim()), `Live via ${transport.name}`);
      // One connection for the whole catalog.
      await eventually(() => server.app.gauges()[transport.gauge] === 1, transport.gauge);

      await server.inventory.add("night-sky-print", crypto.randomUUID());
      await waitForTileCount(page, "night-sky-print", 9);
      await server.inventory.add("moon-pin", crypto.randomUUID());
      await waitForTileCount(page, "moon-pin", 49);
      await server.inventory.restock("canvas-tote", 30);
      await waitForTileCount(page, "canvas-tote", 30);
      // Still one connection: a long poll is between its answer and the next one for a moment.
      await eventually(() => server.app.gauges()[transport.gauge] === 1, transport.gauge);
      assert.equal(await live.getAttribute("data-state"), "live");
    },
  );
}

browserTest(
  "e2e: a catalog page whose WebSocket is refused falls back to SSE, then long polling",
  async (browser) => {
    await using server = await startCatalogServer();
    const { sse, poll } = await openThroughRefusals(browser, server.url, /\/catalog\/status/);
    assert.equal(await sse.locator("#live").getAttribute("data-transport"), "sse");
    assert.equal(await poll.locator("#live").getAttribute("data-transport"), "poll");

    await server.inventory.add("canvas-tote", crypto.randomUUID());
    await Promise.all([
      waitForTileCount(sse, "canvas-tote", 24),
      waitForTileCount(poll, "canvas-tote", 24),
    ]);
  },
);

browserTest(
  "e2e: the catalog page sells out, adds a new product, marks a retired one, ignores older news, and a reconnect's snapshot replaces all",
  async (browser) => {
    await using server = await startCatalogServer();
    const context = await browser.newContext();
    const page = await context.newPage();
    const sockets: { toPage(message: string): void; drop(): void }[] = [];
    await page.routeWebSocket(/\/catalog\/status/, (socket) => {
      socket.connectToServer();
      sockets.push({ toPage: (message) => socket.send(message), drop: () => socket.close() });
    });
    await page.goto(`${server.url}?transport=ws`);
    await waitForConnection(page, "live");
    const tiles = await recordTiles(page);
    const tile = (product: string) => page.locator(`li.tile[data-product="${product}"]`);
    const news = page.locator("#news");

    for (let i = 0; i < 10; i++) await server.inventory.add("night-sky-print", crypto.randomUUID());
    assert.equal(await waitForTileCount(page, "night-sky-print", 0), 10);
    assert.equal(await tile("night-sky-print").getAttribute("data-sold-out"), "true");
    assert.equal(await tile("night-sky-print").locator(".tile-state").textContent(), "Sold out");

    // A late message of this life of the store, older than what the tile shows.
    const epoch = server.inventory.epoch;
    await server.inventory.add("moon-pin", crypto.randomUUID());
    await waitForTileCount(page, "moon-pin", 49);
    sockets[0].toPage(JSON.stringify({
      product: "moon-pin",
      inventoryCount: 99,
      version: 0,
      epoch,
      name: "Crescent moon enamel pin",
      price: { amount: "9.00", currency: "EUR" },
      image: null,
    }));
    await server.inventory.add("moon-pin", crypto.randomUUID());
    assert.equal(await waitForTileCount(page, "moon-pin", 48), 2);

    // A product listed while the page is open gets a tile of its own.
    await server.inventory.list({
      info: {
        id: "star-sticker",
        name: "Star sticker",
        description: "",
        price: { amount: "2.5", currency: "EUR" },
        image: null,
      },
      total: 100,
    });
    await waitForTileCount(page, "star-sticker", 100);
    assert.equal(await tile("star-sticker").locator(".tile-price").textContent(), "€2.50");
    assert.equal(
      await page.getByRole("link", { name: "Star sticker" }).getAttribute("href"),
      "/products/star-sticker",
    );
    assert.equal(
      await tile("star-sticker").locator("img").getAttribute("src"),
      "/static/placeholder.svg",
    );
    assert.equal(await news.textContent(), "New: Star sticker");

    // A retired product is marked at once...
    await server.inventory.retire("canvas-tote");
    await tile("canvas-tote").and(page.locator('[data-retired="true"]')).waitFor();
    assert.equal(
      await tile("canvas-tote").locator(".tile-state").textContent(),
      "No longer on sale",
    );
    assert.equal(await news.textContent(), "Canvas tote bag is no longer on sale");
    assert.deepEqual(await tiles.changed(), ["night-sky-print", "moon-pin", "canvas-tote"]);
    assert.ok(!(await tiles.shown()).includes("moon-pin 99"), "an older version was shown");

    // ...and gone after a reconnect, whose snapshot lists what is on sale now.
    sockets[0].drop();
    await waitForConnection(page, "reconnecting");
    await waitForConnection(page, "live");
    await tile("canvas-tote").waitFor({ state: "detached" });
    assert.deepEqual(await tileCounts(page), {
      "night-sky-print": "0",
      "moon-pin": "48",
      "star-sticker": "100",
    });
    assert.equal(sockets.length, 2);
  },
);

browserTest("e2e: the catalog page at phone width, without JavaScript", async (browser) => {
  await using server = await startCatalogServer();
  const context = await browser.newContext({
    viewport: { width: 360, height: 740 },
    javaScriptEnabled: false,
  });
  const page = await context.newPage();
  await page.goto(server.url);
  assert.deepEqual(await tileCounts(page), FIRST_COUNTS);
  assert.equal(await page.locator(".note").isVisible(), true);
  assert.equal(await page.locator("#live").isVisible(), false);
  // One column that fits the screen: nothing scrolls sideways.
  const widths = await page.evaluate(() => ({
    page: document.documentElement.scrollWidth,
    tiles: [...document.querySelectorAll("li.tile")].map((tile) => tile.getBoundingClientRect().x),
  }));
  assert.ok(widths.page <= 360, `the page is ${widths.page} px wide`);
  assert.equal(new Set(widths.tiles).size, 1, `tiles start at ${widths.tiles.join(", ")}`);
});

browserTest("e2e: a screenshot of the catalog page", async (browser) => {
  await using server = await startCatalogServer();
  for (let i = 0; i < 10; i++) await server.inventory.add("night-sky-print", crypto.randomUUID());
  for (let i = 0; i < 18; i++) await server.inventory.add("canvas-tote", crypto.randomUUID());
  for (let i = 0; i < 8; i++) await server.inventory.add("moon-pin", crypto.randomUUID());
  const context = await browser.newContext({ viewport: { width: 1200, height: 760 } });
  const page = await context.newPage();
  await page.goto(server.url);
  await waitForConnection(page, "live");
  await waitForTileCount(page, "canvas-tote", 7);
  const dir = await Deno.makeTempDir({ prefix: "shop-screenshot-" });
  try {
    const path = join(dir, "catalog.png");
    await page.screenshot({ path, animations: "disabled" });
    const png = await Deno.readFile(path);
    assert.deepEqual([...png.subarray(1, 4)], [..."PNG"].map((c) => c.charCodeAt(0)));
    assert.ok(png.byteLength > 10_000, `a real picture, not a blank one (${png.byteLength} B)`);
    // `E2E_CATALOG_SCREENSHOT=docs/catalog.png deno test -A tests/e2e_catalog_test.ts` refreshes
    // the copy the README shows.
    const keep = Deno.env.get("E2E_CATALOG_SCREENSHOT");
    if (keep) await Deno.copyFile(path, keep);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
