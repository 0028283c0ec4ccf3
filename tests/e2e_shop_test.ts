/** Browser tests of the shop page as shoppers use it: two side by side, reload, no JS, screenshot. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { inventoryCountOf } from "../lib/inventory/ledger.ts";
import { DEMO_PRODUCT } from "../lib/server/demo_catalog.ts";
import { browserTest, openShopper, waitForCount } from "./support/browser.ts";
import { startTestServer } from "./support/server.ts";
import { nextChange } from "./support/changes.ts";
import { within } from "./support/within.ts";

const DEMO = DEMO_PRODUCT.id;

browserTest(
  "e2e: two shoppers side by side see every add and remove, and sold out",
  async (browser) => {
    await using server = await startTestServer({ inventory: 2 });
    const a = await openShopper(browser, server.url);
    const b = await openShopper(browser, server.url);
    for (const { page } of [a, b]) {
      assert.equal(await page.locator("#count").textContent(), "2");
      assert.equal(await page.locator(".stock").getAttribute("aria-live"), "polite");
    }

    // Hold A's request so that its in-between state can be seen.
    const release = Promise.withResolvers<void>();
    await a.page.route("**/cart", async (route) => {
      await release.promise;
      await route.continue();
    }, { times: 1 });
    const added = nextChange(server.inventory, DEMO);
    await a.page.click("#add");
    const add = a.page.locator("#add");
    await add.filter({ hasText: "Adding…" }).waitFor();
    assert.equal(await add.isDisabled(), true);
    assert.equal(await a.page.locator("#remove").isDisabled(), true);
    release.resolve();

    // Both pages follow once the server has the add: timed from the server's change, not from the
    // click, so the browser's own work is no part of it; the bound is about correctness.
    assert.equal((await within(added, "the add on the server")).held, 1);
    await Promise.all([waitForCount(a.page, 1), waitForCount(b.page, 1)]);
    await add.filter({ hasText: "In your cart" }).waitFor();
    assert.equal(await add.isDisabled(), true);
    assert.equal(await a.page.locator("#stock").textContent(), "In your cart");
    assert.equal(await a.page.locator("#remove").isEnabled(), true);
    assert.equal(await b.page.locator("#stock").textContent(), "Available");
    assert.equal(await b.page.locator("#add").isEnabled(), true);
    assert.equal(await b.page.locator("#remove").isDisabled(), true);

    const removed = nextChange(server.inventory, DEMO);
    await a.page.click("#remove");
    assert.equal((await within(removed, "the remove on the server")).held, 0);
    await Promise.all([waitForCount(a.page, 2), waitForCount(b.page, 2)]);
    await a.page.locator("#add", { hasText: "Add to cart" }).waitFor();
    assert.equal(await a.page.locator("#remove").isDisabled(), true);

    // B takes one and a shopper elsewhere takes the last.
    await b.page.click("#add");
    await waitForCount(a.page, 1);
    assert.equal((await server.inventory.add(DEMO, crypto.randomUUID())).ok, true);
    await Promise.all([waitForCount(a.page, 0), waitForCount(b.page, 0)]);
    await a.page.locator("#add", { hasText: "Sold out" }).waitFor();
    assert.equal(await a.page.locator("#add").isDisabled(), true);
    assert.equal(await a.page.locator("#stock").textContent(), "Sold out");
    // B holds one: it cannot add another, and can still put it back.
    assert.equal(await b.page.locator("#add").isDisabled(), true);
    assert.equal(await b.page.locator("#stock").textContent(), "In your cart");
    assert.equal(await b.page.locator("#remove").isEnabled(), true);

    await b.page.click("#remove");
    await Promise.all([waitForCount(a.page, 1), waitForCount(b.page, 1)]);
    await a.page.locator("#add:enabled", { hasText: "Add to cart" }).waitFor();
    assert.equal(inventoryCountOf(server.inventory.get(DEMO)!), 1);
  },
);

browserTest(
  "e2e: a shopper who loses the race for the last unit is told plainly",
  async (browser) => {
    await using server = await startTestServer({ inventory: 1 });
    const context = await browser.newContext();
    const page = await context.newPage();
    // Keep the page from hearing about the sale, so that it still offers the unit.
    await page.routeWebSocket(/\/cart\/status/, (socket) => {
      socket.connectToServer().onMessage(() => {});
    });
    await page.goto(server.url);
    await page.locator("#add:enabled").waitFor();
    assert.equal((await server.inventory.add(DEMO, crypto.randomUUID())).ok, true);

    await page.click("#add");
    const error = page.locator("#error");
    await error.filter({ hasText: "sold out" }).waitFor();
    assert.equal(await error.getAttribute("role"), "alert");
    assert.equal(await error.isVisible(), true);
    // The 409 carries the newer state: the page shows it even though the push never came.
    await waitForCount(page, 0);
    assert.equal(await page.locator("#add").isDisabled(), true);
    assert.equal(await page.locator("#stock").textContent(), "Sold out");
  },
);

browserTest(
  "e2e: a reload keeps the shopper's cart through the session cookie",
  async (browser) => {
    await using server = await startTestServer({ inventory: 3 });
    const { context, page } = await openShopper(browser, server.url);
    await page.click("#add");
    await page.locator("#add", { hasText: "In your cart" }).waitFor();
    const cookie = (await context.cookies()).find((c) => c.name === "sid");
    assert.equal(cookie?.httpOnly, true);
    const cart = await server.inventory.cartOf(cookie.value);
    assert.deepEqual(cart.map((unit) => unit.product), [DEMO]);
    assert.match(await page.locator("#hold").textContent() ?? "", /^Held for you until /);

    await page.reload();
    // The server renders it before any script runs...
    assert.equal(await page.locator("#stock").textContent(), "In your cart");
    assert.equal(await page.locator("#count").textContent(), "2");
    // ...and the script keeps it.
    await page.locator("#live[data-state=live]").waitFor();
    assert.equal(await page.locator("#add").isDisabled(), true);
    assert.equal(await page.locator("#add").textContent(), "In your cart ✓");
    assert.equal(await page.locator("#remove").isEnabled(), true);
    assert.equal(await page.locator("body").getAttribute("data-session"), cookie.value);
    assert.match(await page.locator("#hold").textContent() ?? "", /^Held for you until /);
    await page.click("#remove");
    await page.locator("#add", { hasText: "Add to cart" }).waitFor();
    assert.match(
      await page.locator("#hold").textContent() ?? "",
      /keeps the item for 15 minutes from when you add it/,
    );
  },
);

browserTest("e2e: without JavaScript the first render still shows the count", async (browser) => {
  await using server = await startTestServer({ inventory: 4 });
  assert.equal((await server.inventory.add(DEMO, crypto.randomUUID())).ok, true);
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(server.url);
  assert.equal(await page.locator("#count").textContent(), "3");
  assert.equal(await page.locator("#stock").textContent(), "Available");
  assert.equal(await page.locator(".note").isVisible(), true);
  // No connection is claimed, and nothing offers an action that cannot work.
  assert.equal(await page.locator("#live").isVisible(), false);
  assert.equal(await page.locator("#add").isDisabled(), true);
  // Everything the page loads comes from our own origin: no fonts or scripts from elsewhere.
  const sources = await page.locator("link[href], script[src], img[src]").evaluateAll((nodes) =>
    nodes.map((node) => node.getAttribute("href") ?? node.getAttribute("src") ?? "")
  );
  assert.ok(sources.length >= 3);
  assert.ok(sources.every((source) => source.startsWith("/")), sources.join(" "));
});

browserTest("e2e: a screenshot of the page in use", async (browser) => {
  await using server = await startTestServer({ inventory: 10 });
  for (let i = 0; i < 3; i++) await server.inventory.add(DEMO, crypto.randomUUID());
  const { page } = await openShopper(browser, server.url);
  await page.click("#add");
  await waitForCount(page, 6);
  await page.locator("#add", { hasText: "In your cart" }).waitFor();
  const dir = await Deno.makeTempDir({ prefix: "shop-screenshot-" });
  try {
    const path = join(dir, "screenshot.png");
    await page.screenshot({ path, animations: "disabled" });
    const png = await Deno.readFile(path);
    assert.deepEqual([...png.subarray(1, 4)], [..."PNG"].map((c) => c.charCodeAt(0)));
    assert.ok(png.byteLength > 10_000, `a real picture, not a blank one (${png.byteLength} B)`);
    // `E2E_SCREENSHOT=docs/screenshot.png deno task test` refreshes the copy the README shows.
    const keep = Deno.env.get("E2E_SCREENSHOT");
    if (keep) await Deno.copyFile(path, keep);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
