/** Browser tests of the dashboard's drops: the live status of a drop, its admit rate and its pause. */
import assert from "node:assert/strict";
import type { Browser, Locator, Page } from "playwright-core";
import { axeViolations } from "./support/axe.ts";
import { browserTest, waitForConnection } from "./support/browser.ts";
import { productInfo } from "./support/products.ts";
import { startTestServer } from "./support/server.ts";

const TOKEN = "dashboard-drop-token-for-tests-01";
const DROP = "drop";

/**
 * A server whose catalog has a drop opening in ten minutes, its queue open (a 30-minute window),
 * and a plain product beside it, with the admin API on.
 */
function startDropServer() {
  const opensAt = new Date(Date.now() + 10 * 60_000).toISOString();
  return startTestServer({ adminToken: TOKEN, queueWindowMs: 30 * 60_000 }, {
    catalog: {
      entries: [
        { info: productInfo(DROP, { opensAt }), total: 3 },
        { info: productInfo("pin"), total: 2 },
      ],
      media: new Map(),
    },
  });
}

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
 * The drop's status as every page gets it: `/queue/status` as a long poll that answers at once.
 *
 * @param url The server's URL.
 * @returns The status message.
 */
async function queueStatus(url: string): Promise<Record<string, unknown>> {
  const response = await fetch(new URL(`queue/status?product=${DROP}&since=0`, url));
  assert.equal(response.status, 200);
  return await response.json();
}

/**
 * Waits until a card's figure shows a text.
 *
 * @param card The drop's card.
 * @param figure The figure's class, e.g. `admit-rate`.
 * @param text The text expected.
 */
async function waitForFigure(card: Locator, figure: string, text: string): Promise<void> {
  await card.locator(`.${figure}`, { hasText: new RegExp(`^${text}$`) }).waitFor({
    timeout: 5_000,
  });
}

browserTest(
  "e2e: the dashboard shows a drop live, sets its admit rate and pauses and resumes it",
  async (browser) => {
    await using server = await startDropServer();
    const dashboard = await openDashboard(browser, server.url);
    const card = dashboard.locator(`article.drop[data-product="${DROP}"]`);
    await card.waitFor();
    assert.equal(await dashboard.locator("article.drop").count(), 1, "a card for the drop only");
    await waitForFigure(card, "phase", "Queue open, draw to come");
    await waitForFigure(card, "admit-rate", "20 a second");
    await waitForFigure(card, "admissions", "Running");
    await waitForFigure(card, "queued", "0");
    await waitForFigure(card, "units", "3 free, 0 held");
    assert.equal(
      await card.locator("time.opens-at").getAttribute("datetime"),
      server.inventory.get(DROP)?.info.opensAt,
    );

    // A rate out of range is the server's to refuse, and its reason goes to the alert line.
    const rate = card.getByLabel("New admit rate (shoppers a second) for Product drop");
    await rate.fill("20000");
    await card.getByRole("button", { name: "Set rate" }).click();
    await dashboard.locator("#drop-error", {
      hasText: 'Change to the drop of Product drop refused: Field "admitRate" must be a whole ' +
        "number from 1 to 10000",
    }).waitFor();
    await rate.fill("");
    await card.getByRole("button", { name: "Set rate" }).click();
    await dashboard.locator("#drop-error", { hasText: "Type an admit rate for Product drop first" })
      .waitFor();
    assert.equal((await queueStatus(server.url)).admitRate, 20);

    await rate.fill("7");
    await card.getByRole("button", { name: "Set rate" }).click();
    await waitForFigure(card, "admit-rate", "7 a second");
    await dashboard.locator("#drop-status", {
      hasText: "Product drop: admit rate set to 7 a second.",
    }).waitFor();
    assert.equal(
      await dashboard.locator("#drop-error").textContent(),
      "",
      "a done change clears it",
    );
    assert.equal((await queueStatus(server.url)).admitRate, 7);

    await card.getByRole("button", { name: "Pause admissions of Product drop" }).click();
    await waitForFigure(card, "admissions", "Paused");
    assert.equal((await queueStatus(server.url)).paused, true);
    assert.deepEqual(await axeViolations(dashboard), [], "axe-clean with a paused drop");

    await card.getByRole("button", { name: "Resume admissions of Product drop" }).click();
    await waitForFigure(card, "admissions", "Running");
    const resumed = await queueStatus(server.url);
    assert.deepEqual([resumed.paused, resumed.admitRate], [false, 7]);

    // A shopper joins the line from elsewhere: the card follows over the admin feed.
    const joined = await fetch(new URL("queue", server.url), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ product: DROP, session: crypto.randomUUID() }),
    });
    assert.equal(joined.status, 200, await joined.text());
    await waitForFigure(card, "queued", "1");
    assert.equal((await queueStatus(server.url)).queued, 1);

    // Signed out in another tab: the next change is refused, and the alert says why.
    const other = await dashboard.context().newPage();
    await other.goto(new URL("admin", server.url).href);
    await other.getByRole("button", { name: "Sign out" }).click();
    await other.locator("#token").waitFor();
    await card.getByRole("button", { name: "Pause admissions of Product drop" }).click();
    const refusal = dashboard.locator("#drop-error");
    await refusal.filter({ hasText: "Change to the drop of Product drop refused: " }).waitFor();
    assert.equal(await refusal.getAttribute("role"), "alert");
    assert.equal((await queueStatus(server.url)).paused, false);
  },
);

browserTest(
  "e2e: at 320 px the drop's card fits the width and is steered from the keyboard",
  async (browser) => {
    await using server = await startDropServer();
    const dashboard = await openDashboard(browser, server.url, { width: 320, height: 700 });
    const card = dashboard.locator(`article.drop[data-product="${DROP}"]`);
    await waitForFigure(card, "admit-rate", "20 a second");
    const widths = await dashboard.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      window: innerWidth,
    }));
    assert.ok(
      widths.page <= widths.window,
      `the page is ${widths.page} px wide in ${widths.window}`,
    );

    const input = card.locator(".admit-rate-input");
    await input.focus();
    await dashboard.keyboard.type("12");
    await dashboard.keyboard.press("Enter");
    await waitForFigure(card, "admit-rate", "12 a second");
    // The feed may show the new rate before the control's own answer: its Set button is enabled
    // again (and so in the tab order) once the dashboard says the change was made.
    await dashboard.waitForFunction(() => document.getElementById("drop-status")?.textContent);
    await dashboard.keyboard.press("Tab");
    await dashboard.keyboard.press("Tab");
    const focused = await dashboard.evaluate(() => document.activeElement?.textContent);
    assert.equal(focused, "Pause admissions of Product drop");
    await dashboard.keyboard.press("Enter");
    await waitForFigure(card, "admissions", "Paused");
    assert.deepEqual(await axeViolations(dashboard), [], "axe-clean at 320 px");
    await dashboard.emulateMedia({ colorScheme: "dark" });
    assert.deepEqual(await axeViolations(dashboard), [], "axe-clean in the dark scheme");
  },
);
