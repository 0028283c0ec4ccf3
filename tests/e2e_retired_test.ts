/** Browser tests of a product page whose product is retired while it is open. */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { DEMO_PRODUCT } from "../lib/server/demo_catalog.ts";
import { BACKOFF_BASE_MS, BACKOFF_CAP_MS } from "../static/live_state.js";
import { browserTest, openShopper, waitForConnection } from "./support/browser.ts";
import { eventually } from "./support/clients.ts";
import { startTestServer } from "./support/server.ts";

const DEMO = DEMO_PRODUCT.id;

/** Checks that the page says its product is gone and offers nothing that cannot work. */
async function assertSaysRetired(page: Page): Promise<void> {
  await page.locator("#stock", { hasText: "No longer on sale" }).waitFor();
  assert.equal(await page.locator("#add").isDisabled(), true);
  assert.equal(await page.locator("#add").textContent(), "Unavailable");
  assert.equal(await page.locator("#count").isVisible(), false);
  assert.equal(await page.locator("#remove").isDisabled(), true);
  assert.equal(await page.locator("#gone").isVisible(), true);
  assert.equal(await page.locator("#hold").isVisible(), false);
  assert.equal(await page.locator("#live").getAttribute("data-state"), "ended");
  assert.equal(await page.locator("#live-text").textContent(), "Updates ended");
  assert.match(await page.title(), /^No longer on sale · /);
}

for (const transport of ["ws", "sse", "poll"]) {
  browserTest(
    `e2e: over ${transport}, a retired product's open page says so, and lets go of its connection`,
    async (browser) => {
      await using server = await startTestServer({ inventory: 3 });
      const { page } = await openShopper(browser, `${server.url}?transport=${transport}`);
      await page.click("#add");
      await page.locator("#add", { hasText: "In your cart" }).waitFor();

      await server.inventory.retire(DEMO);
      await assertSaysRetired(page);
      // The shopper's unit went with the product.
      assert.equal(await page.locator("#stock").textContent(), "No longer on sale");
      await eventually(() => {
        const gauges = server.app.gauges();
        return gauges.websocketSubscribers + gauges.sseSubscribers + gauges.longPollWaiters === 0;
      }, "no connection left");
    },
  );
}

browserTest(
  "e2e: a page that missed the retirement learns it from the 410 when it reconnects, and stops",
  async (browser) => {
    await using server = await startTestServer({ inventory: 3 });
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.clock.install();
    let connections = 0;
    // A connection that drops the retired message on the way, as a restart in between would.
    await page.routeWebSocket(/\/cart\/status/, (socket) => {
      connections++;
      const upstream = socket.connectToServer();
      upstream.onMessage((message) => {
        if (!String(message).includes('"retired":true')) socket.send(message);
      });
    });
    await page.goto(`${server.url}?transport=ws`);
    await waitForConnection(page, "live");

    await server.inventory.retire(DEMO);
    await waitForConnection(page, "reconnecting");
    assert.equal(await page.locator("#stock").textContent(), "Available");
    // The backoff's first window passes: the page tries again, and the server answers 410.
    await page.clock.runFor(BACKOFF_BASE_MS);
    await assertSaysRetired(page);
    assert.equal(connections, 2);

    // Nothing reconnects later, however long the page stays open.
    await page.clock.runFor(BACKOFF_CAP_MS * 4);
    assert.equal(connections, 2);
    assert.equal(await page.locator("#live").getAttribute("data-state"), "ended");
  },
);
