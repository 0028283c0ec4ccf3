/** Browser tests of the dashboard's recent orders: a new order shows live; the table is accessible and fits 320 px. */
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { axeViolations } from "./support/axe.ts";
import { browserTest, waitForConnection } from "./support/browser.ts";
import { postCart } from "./support/clients.ts";
import { startOrderService, webhookSecret } from "./support/order_service.ts";
import { startTestServer } from "./support/server.ts";

const TOKEN = "orders-dashboard-token-0001";
const SECRET = webhookSecret("orders-dashboard-secret-0001");

/** Signs in through the page's form and waits until the dashboard is live. */
async function openDashboard(
  browser: Browser,
  url: string,
  viewport = { width: 1200, height: 900 },
): Promise<Page> {
  const context = await browser.newContext({
    viewport,
    timezoneId: "Pacific/Auckland",
    locale: "en-GB",
  });
  const page = await context.newPage();
  await page.goto(new URL("admin", url).href);
  await page.locator("#token").fill(TOKEN);
  await page.locator("#token").press("Enter");
  await page.locator("#dashboard").waitFor();
  await waitForConnection(page, "live");
  return page;
}

/** Adds a unit for a new shopper and checks it out; answers the order id. */
async function buy(url: string): Promise<string> {
  const session = crypto.randomUUID();
  assert.equal((await postCart(url, "add", session)).status, 200);
  const answer = await postCart(url, "checkout", session);
  return String(answer.body.orderId);
}

/** The recent orders' rows as the page shows them: each cell's text. */
function rows(page: Page): Promise<string[][]> {
  return page.locator("#order-rows tr").evaluateAll((rows) =>
    rows.map((row) => [...row.children].map((cell) => cell.textContent ?? ""))
  );
}

browserTest("e2e: a new order shows in the dashboard's recent orders at once", async (browser) => {
  await using server = await startTestServer({ adminToken: TOKEN, inventory: 5 });
  const dashboard = await openDashboard(browser, server.url);
  const table = dashboard.getByRole("table", { name: /last 100 checkouts/ });
  await table.waitFor();
  assert.equal(await dashboard.locator("#orders-empty").isVisible(), true);

  const orderId = await buy(server.url);
  await dashboard.locator("#order-rows tr", { hasText: orderId }).waitFor();
  assert.equal(await dashboard.locator("#orders-empty").isVisible(), false);
  const [[time, product, shownId, status, reason]] = await rows(dashboard);
  assert.deepEqual([product, shownId, status, reason], ["Night Sky Print", orderId, "Sold", ""]);
  // The time is in the browser's zone and language (Auckland's, British, here); the
  // machine-readable one is UTC.
  const stamp = await dashboard.locator("#order-rows tr time").getAttribute("datetime");
  const expected = new Date(stamp!).toLocaleString("en-GB", {
    dateStyle: "short",
    timeStyle: "medium",
    timeZone: "Pacific/Auckland",
  });
  assert.equal(time, expected);

  // A second order goes on top; a reload lists both, from the snapshot.
  const second = await buy(server.url);
  await dashboard.locator("#order-rows tr", { hasText: second }).waitFor();
  assert.deepEqual((await rows(dashboard)).map((cells) => cells[2]), [second, orderId]);
  await dashboard.reload();
  await waitForConnection(dashboard, "live");
  await dashboard.locator("#order-rows tr", { hasText: orderId }).waitFor();
  assert.deepEqual((await rows(dashboard)).map((cells) => cells[2]), [second, orderId]);
});

browserTest(
  "e2e: the recent orders are axe-clean in light and dark, and fit 320 px",
  async (browser) => {
    await using service = await startOrderService({ secret: SECRET });
    await using server = await startTestServer({
      adminToken: TOKEN,
      orderWebhook: { url: service.url, secret: SECRET },
    });
    await buy(server.url); // sold
    service.reply(1, {
      status: 422,
      body: JSON.stringify({
        error: "The card was declined by its issuer: ask the shopper for another card",
      }),
    });
    await buy(server.url);
    // A refusal's answer names no order: the one the service was sent.
    const refused = JSON.parse((await service.arrived(1)).body).orderId;
    const dashboard = await openDashboard(browser, server.url, { width: 320, height: 640 });
    const row = dashboard.locator("#order-rows tr", { hasText: refused });
    await row.waitFor();
    assert.match(await row.textContent() ?? "", /Refused.*The card was declined/);
    await row.scrollIntoViewIfNeeded();
    const widths = await dashboard.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      window: innerWidth,
    }));
    assert.ok(widths.page <= widths.window, `${widths.page} px wide in ${widths.window}`);
    for (const colorScheme of ["light", "dark"] as const) {
      await dashboard.emulateMedia({ colorScheme });
      assert.deepEqual(await axeViolations(dashboard), [], `axe, ${colorScheme}`);
    }
  },
);
