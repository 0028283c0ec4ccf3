/** Browser tests of the dashboard running the shop: add, edit and retire a product, as the owner. */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { axeViolations } from "./support/axe.ts";
import { browserTest, waitForConnection } from "./support/browser.ts";
import { catalogOf } from "./support/products.ts";
import { startTestServer } from "./support/server.ts";

const TOKEN = "dashboard-products-token-for-tests";

/**
 * Signs in through the page's form, as the owner does, and waits until the dashboard is live.
 *
 * @param browser The browser.
 * @param url The server's URL.
 * @param options The window's size and the browser's time zone.
 * @returns The dashboard's page, in a context of its own.
 */
async function openDashboard(
  browser: Browser,
  url: string,
  options: { viewport?: { width: number; height: number }; timezoneId?: string } = {},
): Promise<Page> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1200, height: 900 },
    timezoneId: options.timezoneId,
  });
  const page = await context.newPage();
  await page.goto(new URL("admin", url).href);
  await page.locator("#token").fill(TOKEN);
  await page.locator("#token").press("Enter");
  await page.locator("#dashboard").waitFor();
  await waitForConnection(page, "live");
  return page;
}

/**
 * The admin API's view of one product, retired ones included.
 *
 * @param url The server's URL.
 * @param id The product.
 * @returns Its fields and numbers, or undefined when the API lists none of that id.
 */
async function adminProduct(url: string, id: string): Promise<Record<string, unknown> | undefined> {
  const response = await fetch(new URL("admin/products", url), {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  assert.equal(response.status, 200);
  const { products } = await response.json();
  return products.find((product: { id: string }) => product.id === id);
}

/**
 * Asserts that the page fits its window's width: nothing scrolls sideways.
 *
 * @param page The page.
 * @param what What is shown, for the message.
 */
async function assertFitsWidth(page: Page, what: string): Promise<void> {
  const widths = await page.evaluate(() => ({
    page: document.documentElement.scrollWidth,
    window: innerWidth,
    dialog: [...document.querySelectorAll("dialog[open]")]
      .map((dialog) => dialog.scrollWidth - dialog.clientWidth)[0] ?? 0,
  }));
  assert.ok(widths.page <= widths.window, `${what}: ${widths.page} px wide in ${widths.window}`);
  assert.equal(widths.dialog, 0, `${what}: the dialog does not scroll sideways`);
}

browserTest(
  "e2e: a product added from the dashboard is on sale on its own page; refusals are named at the form",
  async (browser) => {
    await using server = await startTestServer(
      { adminToken: TOKEN },
      { catalog: catalogOf({ tote: 3 }) },
    );
    const dashboard = await openDashboard(browser, server.url, { timezoneId: "Europe/Paris" });
    const add = dashboard.getByRole("button", { name: "Add a product" });
    await add.click();
    const dialog = dashboard.getByRole("dialog", { name: "Add a product" });
    await dialog.waitFor();
    assert.equal(await dashboard.evaluate(() => document.activeElement?.id), "product-id");
    assert.equal(await dialog.getByLabel("Currency").inputValue(), "EUR", "the shop's currency");

    // An id the shop has already: refused before any PUT could change that product.
    await dialog.getByLabel("Id").fill("tote");
    await dialog.getByLabel("Name").fill("Another tote");
    await dialog.getByLabel("Price").fill("12.00");
    await dialog.getByLabel("In stock").fill("4");
    await dialog.getByRole("button", { name: "Add product" }).click();
    const refusal = dialog.getByRole("alert");
    await refusal.filter({ hasText: "That id is taken" }).waitFor();
    assert.equal(server.inventory.get("tote")?.info.name, "Product tote");

    // The server's refusal of a field is shown next to the form, and that field is marked.
    await dialog.getByLabel("Id").fill("moon-pin");
    await dialog.getByLabel("Name").fill("Moon pin");
    await dialog.getByLabel("Price").fill("9,50");
    await dialog.getByRole("button", { name: "Add product" }).click();
    await refusal.filter({ hasText: 'field "price.amount" must be' }).waitFor();
    assert.equal(await dialog.getByLabel("Price").getAttribute("aria-invalid"), "true");
    assert.equal(await dashboard.evaluate(() => document.activeElement?.id), "product-price");
    assert.equal(server.inventory.get("moon-pin"), undefined);

    await dialog.getByLabel("Price").fill("9.50");
    await dialog.getByLabel("Description").fill("Enamel, 25 mm.");
    await dialog.getByLabel("Limit per shopper").fill("2");
    await dialog.getByRole("button", { name: "Add product" }).click();
    await dashboard.locator("#products-status", { hasText: "Moon pin added" }).waitFor();
    assert.equal(await dialog.isVisible(), false);
    assert.equal(await dashboard.evaluate(() => document.activeElement?.id), "add-product");
    const row = dashboard.locator('tr[data-product="moon-pin"]');
    await row.locator("td.total", { hasText: /^4$/ }).waitFor();

    const shop = await (await browser.newContext()).newPage();
    await shop.goto(new URL("products/moon-pin", server.url).href);
    await waitForConnection(shop, "live");
    assert.equal(await shop.locator("#product-name").textContent(), "Moon pin");
    assert.equal(await shop.locator("#count").textContent(), "4");
    const added = await adminProduct(server.url, "moon-pin");
    assert.deepEqual(
      [added?.price, added?.description, added?.limitPerShopper, added?.opensAt],
      [{ amount: "9.50", currency: "EUR" }, "Enamel, 25 mm.", 2, undefined],
    );

    // An opening time is typed in the browser's time zone and sent in UTC.
    await add.click();
    await dialog.getByLabel("Id").fill("star-print");
    await dialog.getByLabel("Name").fill("Star print");
    await dialog.getByLabel("Price").fill("40.00");
    await dialog.getByLabel("In stock").fill("10");
    await dialog.getByLabel("Opening time").fill("2030-12-24T18:00");
    await dialog.getByRole("button", { name: "Add product" }).click();
    await dashboard.locator("#products-status", { hasText: "Star print added" }).waitFor();
    assert.equal((await adminProduct(server.url, "star-print"))?.opensAt, "2030-12-24T17:00:00Z");
  },
);

browserTest(
  "e2e: an edit from the dashboard sends only the fields changed, and the shop's page shows them",
  async (browser) => {
    await using server = await startTestServer(
      { adminToken: TOKEN },
      { catalog: catalogOf({ tote: 3, pin: 2 }) },
    );
    const dashboard = await openDashboard(browser, server.url);
    const row = dashboard.locator('tr[data-product="tote"]');
    await row.getByRole("button", { name: "Edit Product tote" }).click();
    const dialog = dashboard.getByRole("dialog", { name: "Edit Product tote" });
    await dialog.waitFor();
    assert.equal(await dialog.getByLabel("Name").inputValue(), "Product tote");
    assert.equal(await dialog.getByLabel("Price").inputValue(), "5.00");
    assert.equal(await dialog.getByLabel("Id").isVisible(), false, "an id is not edited");

    const patches: { method: string; body: unknown }[] = [];
    dashboard.on("request", (request) => {
      if (request.url().endsWith("/admin/products/tote")) {
        patches.push({ method: request.method(), body: request.postDataJSON() });
      }
    });
    await dialog.getByLabel("Name").fill("Canvas tote");
    await dialog.getByLabel("Price").fill("24.00");
    await dialog.getByLabel("Image URL").fill("https://shop.example/tote.png");
    await dialog.getByRole("button", { name: "Save changes" }).click();
    await dashboard.locator("#products-status", { hasText: "Product tote: saved" }).waitFor();
    assert.deepEqual(patches, [{
      method: "PATCH",
      body: {
        name: "Canvas tote",
        price: { amount: "24.00", currency: "EUR" },
        image: "https://shop.example/tote.png",
      },
    }]);
    await row.locator(".product-name", { hasText: "Canvas tote" }).waitFor();

    const edited = await adminProduct(server.url, "tote");
    assert.deepEqual(
      [edited?.name, edited?.price, edited?.image, edited?.total, edited?.description],
      ["Canvas tote", { amount: "24.00", currency: "EUR" }, "https://shop.example/tote.png", 3, ""],
    );
    const shop = await (await browser.newContext()).newPage();
    await shop.route("https://shop.example/**", (route) => route.abort());
    await shop.goto(new URL("products/tote", server.url).href);
    await waitForConnection(shop, "live");
    assert.equal(await shop.locator("#product-name").textContent(), "Canvas tote");

    // Opened again and saved untouched: nothing is sent.
    await row.getByRole("button", { name: "Edit Canvas tote" }).click();
    await dashboard.getByRole("dialog", { name: "Edit Canvas tote" })
      .getByRole("button", { name: "Save changes" }).click();
    await dashboard.locator("#products-status", { hasText: "Canvas tote: nothing changed" })
      .waitFor();
    assert.equal(patches.length, 1);

    // An image URL emptied is removed (null), and only it is sent.
    await row.getByRole("button", { name: "Edit Canvas tote" }).click();
    const again = dashboard.getByRole("dialog", { name: "Edit Canvas tote" });
    await again.getByLabel("Image URL").fill("");
    await again.getByRole("button", { name: "Save changes" }).click();
    await dashboard.locator("#products-status", { hasText: "Canvas tote: saved image" }).waitFor();
    assert.deepEqual(patches[1], { method: "PATCH", body: { image: null } });
    assert.equal((await adminProduct(server.url, "tote"))?.image, null);
  },
);

browserTest(
  "e2e: retiring from the dashboard asks first, then the shop's page says the product is gone",
  async (browser) => {
    await using server = await startTestServer(
      { adminToken: TOKEN },
      { catalog: catalogOf({ tote: 3, pin: 2 }) },
    );
    const dashboard = await openDashboard(browser, server.url);
    const row = dashboard.locator('tr[data-product="pin"]');
    const retire = row.getByRole("button", { name: "Retire Product pin" });
    await retire.click();
    const dialog = dashboard.getByRole("dialog", { name: "Retire Product pin?" });
    await dialog.waitFor();
    // The safe answer has the focus: Enter on an unexpected dialog keeps the product.
    await dashboard.keyboard.press("Enter");
    await dialog.waitFor({ state: "hidden" });
    assert.equal(
      await dashboard.evaluate(() => document.activeElement?.textContent),
      "Retire Product pin",
    );
    assert.equal(server.inventory.get("pin")?.retired, false);

    await retire.click();
    await dialog.getByRole("button", { name: "Retire Product pin" }).click();
    await dashboard.locator("#products-status", { hasText: "Product pin is retired" }).waitFor();
    await row.locator(".product-state", { hasText: "Retired" }).waitFor();
    assert.equal(await retire.isDisabled(), true);
    assert.equal((await adminProduct(server.url, "pin"))?.retired, true);
    const page = await fetch(new URL("products/pin", server.url));
    await page.body?.cancel();
    assert.equal(page.status, 410);
    assert.equal((await adminProduct(server.url, "tote"))?.retired, false);
  },
);

browserTest(
  "e2e: the dashboard's forms and dialogs are axe-clean in light and dark, and fit 320 px",
  async (browser) => {
    await using server = await startTestServer(
      { adminToken: TOKEN },
      { catalog: catalogOf({ "a-product-with-a-long-id-to-wrap": 3, pin: 2 }) },
    );
    const dashboard = await openDashboard(browser, server.url, {
      viewport: { width: 320, height: 640 },
    });
    /** Checks the page as it stands in both colour schemes. */
    const check = async (what: string) => {
      await assertFitsWidth(dashboard, what);
      for (const colorScheme of ["light", "dark"] as const) {
        await dashboard.emulateMedia({ colorScheme });
        assert.deepEqual(await axeViolations(dashboard), [], `axe, ${colorScheme}: ${what}`);
      }
    };
    await dashboard.locator("#details > summary").click();
    await dashboard.locator("#version-rows tr").first().waitFor();
    await check("the dashboard with its details open");

    await dashboard.getByRole("button", { name: "Add a product" }).click();
    const dialog = dashboard.getByRole("dialog", { name: "Add a product" });
    await dialog.getByLabel("Id").fill("tee");
    await dialog.getByRole("button", { name: "Add product" }).click();
    await dialog.getByRole("alert").filter({ hasText: 'field "name"' }).waitFor();
    await check("the add dialog with a refusal");
    await dialog.getByRole("button", { name: "Cancel" }).click();

    await dashboard.getByRole("button", { name: "Edit Product pin" }).click();
    await dashboard.getByRole("dialog", { name: "Edit Product pin" }).waitFor();
    await check("the edit dialog");
    await dashboard.keyboard.press("Escape");

    await dashboard.getByRole("button", { name: "Retire Product pin" }).click();
    await dashboard.getByRole("dialog", { name: "Retire Product pin?" }).waitFor();
    await check("the retire dialog");
  },
);
