/** Browser tests of the shop owner's dashboard: sign-in, live rows, restock, summary, phone, picture. */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { browserTest, openShopper, waitForConnection, waitForCount } from "./support/browser.ts";
import { catalogOf, exampleCatalog } from "./support/products.ts";
import { DEMO, startTestServer } from "./support/server.ts";
import { nextChange } from "./support/changes.ts";
import { within } from "./support/within.ts";

const TOKEN = "dashboard-token-for-tests-0001";

/**
 * Signs in through the page's form, as the owner does, and waits until the dashboard is live.
 *
 * @param browser The browser.
 * @param url The server's URL.
 * @param viewport The window's size.
 * @returns The dashboard's page, in a context of its own.
 */
async function openDashboard(
  browser: Browser,
  url: string,
  viewport = { width: 1200, height: 900 },
): Promise<Page> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  await page.goto(new URL("admin", url).href);
  await page.locator("#token").fill(TOKEN);
  await page.locator("#token").press("Enter");
  await page.locator("#dashboard").waitFor();
  await waitForConnection(page, "live");
  return page;
}

/**
 * The text a cell of a product's row shows.
 *
 * @param page The dashboard.
 * @param product The product's id.
 * @param column The cell's class: `available`, `held`, `sold`, `total` or `version`.
 * @returns The text.
 */
function cellText(page: Page, product: string, column: string): Promise<string | null> {
  return page.locator(`tr[data-product="${product}"] td.${column}`).textContent();
}

/**
 * Waits until a product's row shows a number in a column.
 *
 * @param page The dashboard.
 * @param product The product's id.
 * @param cells The texts expected, by column.
 * @param timeout How long to wait, in ms.
 */
async function waitForRow(
  page: Page,
  product: string,
  cells: Record<string, string>,
  timeout = 5_000,
): Promise<void> {
  await page.waitForFunction(
    ([product, cells]) => {
      const row = [...document.querySelectorAll<HTMLElement>("#product-rows tr")]
        .find((row) => row.dataset.product === product);
      return row !== undefined &&
        Object.entries(cells).every(([column, text]) =>
          row.querySelector(`td.${column}`)?.textContent === text
        );
    },
    [product, cells] as const,
    { timeout },
  );
}

browserTest("e2e: the owner signs in through the form, and signs out", async (browser) => {
  await using server = await startTestServer({ adminToken: TOKEN, inventory: 4 });
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(new URL("admin", server.url).href);
  assert.equal(await page.locator("#dashboard").count(), 0);

  await page.locator("#token").fill(`${TOKEN}x`);
  await page.locator("#token").press("Enter");
  await page.locator("[role=alert]", { hasText: "wrong" }).waitFor();
  assert.equal(await page.locator("#dashboard").count(), 0);

  await page.locator("#token").fill(TOKEN);
  await page.locator("#token").press("Enter");
  await page.locator("#dashboard").waitFor();
  await waitForConnection(page, "live");
  await waitForRow(page, DEMO, { available: "4", held: "0", sold: "0", total: "4" });
  const cookie = (await context.cookies()).find((c) => c.httpOnly && c.sameSite === "Strict");
  assert.ok(cookie !== undefined, "an HttpOnly, SameSite=Strict admin cookie");

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.locator("#token").waitFor();
  assert.equal(await page.locator("#dashboard").count(), 0);
  await page.reload();
  assert.equal(await page.locator("#dashboard").count(), 0);
  assert.equal(await page.locator("#token").isVisible(), true);
});

browserTest(
  "e2e: an add on the shop page shows on the dashboard's row once the server has it, and in its summary",
  async (browser) => {
    await using server = await startTestServer({ adminToken: TOKEN, inventory: 10 });
    const dashboard = await openDashboard(browser, server.url);
    const shopper = await openShopper(browser, server.url);
    await waitForRow(dashboard, DEMO, { available: "10", held: "0" });
    assert.match(await dashboard.locator("#activity-summary").textContent() ?? "", /0 holds/);

    // Timed from the server's change, not from the click: the browser's own work (the click, its
    // request) is no part of the push. The bound is about correctness: the change arrives.
    const added = nextChange(server.inventory, DEMO);
    await shopper.page.click("#add");
    assert.equal((await within(added, "the add on the server")).held, 1);
    await waitForRow(dashboard, DEMO, { available: "9", held: "1" });
    assert.equal(await cellText(dashboard, DEMO, "sold"), "0");

    // The next tick (once a second) carries the hold into the history and its words.
    await dashboard.locator("#activity-summary", { hasText: "Last minute: 1 hold, 0 releases" })
      .waitFor({ timeout: 3_000 });
    const chart = dashboard.locator("#units-chart svg[role=img]");
    assert.equal(
      await chart.getAttribute("aria-labelledby").then((id) =>
        dashboard.locator(`[id="${id}"]`).textContent()
      ),
      "Holds, releases and sales per second",
    );
    assert.match(await chart.locator("desc").textContent() ?? "", /Last minute: 1 hold,/);
    assert.match(await dashboard.locator("#watchers-total").textContent() ?? "", /^[1-9]/);
  },
);

browserTest(
  "e2e: a restock from the dashboard reaches an open shop page; a refused one says why",
  async (browser) => {
    await using server = await startTestServer(
      { adminToken: TOKEN },
      { catalog: catalogOf({ pin: 2, tote: 3 }) },
    );
    const dashboard = await openDashboard(browser, server.url);
    const shop = await openShopper(browser, new URL("products/tote", server.url).href);
    await waitForRow(dashboard, "tote", { available: "3", total: "3" });

    const row = dashboard.locator('tr[data-product="tote"]');
    await row.getByLabel("New stock for Product tote").fill("7");
    await row.getByRole("button", { name: "Set stock" }).click();
    await waitForCount(shop.page, 7);
    await waitForRow(dashboard, "tote", { available: "7", total: "7" });
    await dashboard.locator("#products-status", { hasText: "Product tote: 7 in stock" })
      .waitFor();
    assert.equal(await cellText(dashboard, "pin", "total"), "2");

    // Signed out in another tab: the next restock is refused, and the page shows the server's word.
    const other = await dashboard.context().newPage();
    await other.goto(new URL("admin", server.url).href);
    await other.getByRole("button", { name: "Sign out" }).click();
    await other.locator("#token").waitFor();
    await row.getByLabel("New stock for Product tote").fill("9");
    await row.getByRole("button", { name: "Set stock" }).click();
    const refusal = dashboard.locator("#products-error");
    await refusal.filter({ hasText: "Restock of Product tote refused: " }).waitFor();
    assert.equal(await refusal.getAttribute("role"), "alert");
    assert.equal(server.inventory.get("tote")?.total, 7);
  },
);

browserTest(
  "e2e: at 375×700 the dashboard fits the width and restocks from the keyboard",
  async (browser) => {
    await using server = await startTestServer({ adminToken: TOKEN, inventory: 5 });
    const page = await openDashboard(browser, server.url, { width: 375, height: 700 });
    await waitForRow(page, DEMO, { total: "5" });
    const widths = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      window: innerWidth,
    }));
    assert.ok(
      widths.page <= widths.window,
      `the page is ${widths.page} px wide in ${widths.window}`,
    );

    const input = page.locator(`tr[data-product="${DEMO}"] .restock-input`);
    // Tab through the page's controls until the restock's input has the focus (a bounded walk).
    for (
      let presses = 0;
      presses < 30 && !(await input.evaluate((e) => e === document.activeElement));
      presses++
    ) {
      await page.keyboard.press("Tab");
    }
    assert.equal(await input.evaluate((e) => e === document.activeElement), true);
    const outline = await input.evaluate((e) => getComputedStyle(e).outlineStyle);
    assert.notEqual(outline, "none", "the focused input shows its focus");
    await page.keyboard.type("12");
    await page.keyboard.press("Enter");
    await waitForRow(page, DEMO, { available: "12", total: "12" });
  },
);

browserTest("e2e: a screenshot of the dashboard in use", async (browser) => {
  await using server = await startTestServer({ adminToken: TOKEN }, {
    catalog: await exampleCatalog(),
  });
  const dashboard = await openDashboard(browser, server.url, { width: 1200, height: 1500 });
  const shopper = await openShopper(browser, new URL("products/canvas-tote", server.url).href);
  await shopper.page.click("#add");
  await shopper.page.locator("#buy:enabled").click();
  await shopper.page.locator("#order:not([hidden])").waitFor();
  // A few seconds of holds and releases, each second's waited for on the dashboard's summary.
  let holds = 1;
  for (const adds of [3, 6, 2, 5]) {
    const sessions = Array.from({ length: adds }, () => crypto.randomUUID());
    for (const session of sessions) await server.inventory.add("moon-pin", session);
    await server.inventory.remove("moon-pin", sessions[0]);
    holds += adds;
    await dashboard.locator("#activity-summary", { hasText: `Last minute: ${holds} holds` })
      .waitFor({ timeout: 3_000 });
  }
  await waitForRow(dashboard, "canvas-tote", { sold: "1" });
  const dir = await Deno.makeTempDir({ prefix: "shop-screenshot-" });
  try {
    const path = join(dir, "dashboard.png");
    await dashboard.screenshot({ path, animations: "disabled", fullPage: true });
    const png = await Deno.readFile(path);
    assert.deepEqual([...png.subarray(1, 4)], [..."PNG"].map((c) => c.charCodeAt(0)));
    assert.ok(png.byteLength > 10_000, `a real picture, not a blank one (${png.byteLength} B)`);
    // `E2E_DASHBOARD_SCREENSHOT=docs/dashboard.png deno test -A tests/e2e_dashboard_test.ts`
    // refreshes the copy the README shows.
    const keep = Deno.env.get("E2E_DASHBOARD_SCREENSHOT");
    if (keep) await Deno.copyFile(path, keep);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
