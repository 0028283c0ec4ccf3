/** Browser tests of a server that stops while pages are open and comes back on the same port. */
import assert from "node:assert/strict";
import { DEMO_PRODUCT } from "../lib/server/demo_catalog.ts";
import { browserTest, openShopper, waitForConnection, waitForCount } from "./support/browser.ts";
import { startTestServer } from "./support/server.ts";

const DEMO = DEMO_PRODUCT.id;

/** The backoff's first windows (2 s, 4 s) plus a restart leave room for a few unlucky draws. */
const RECONNECT_TIMEOUT_MS = 20_000;

for (const transport of ["ws", "sse", "poll"]) {
  browserTest(
    `e2e: over ${transport}, a stopped server shows reconnecting, and its return shows live`,
    async (browser) => {
      const first = await startTestServer({ inventory: 5 });
      const port = Number(new URL(first.url).port);
      let second;
      try {
        const { page } = await openShopper(browser, `${first.url}?transport=${transport}`);
        await first.inventory.add(DEMO, crypto.randomUUID());
        await first.inventory.add(DEMO, crypto.randomUUID());
        await waitForCount(page, 3);

        await first.stop();
        await waitForConnection(page, "reconnecting");
        const live = page.locator("#live");
        assert.match(await live.textContent() ?? "", /reconnecting/);
        assert.equal(await live.getAttribute("data-transport"), transport);
        // The last count stays, faded and labelled as such: never shown as live.
        assert.equal(await page.locator(".stale-note").isVisible(), true);
        assert.equal(await page.locator("#count").textContent(), "3");
        // It keeps trying while the server is away, with a new delay each time.
        await page.locator('#live[data-state="reconnecting"]:not([data-attempt="1"])').waitFor({
          timeout: RECONNECT_TIMEOUT_MS,
        });

        // A new in-memory server: a new epoch, other stock, and versions that start again from 0,
        // so that it is on version 1 where the page showed version 2. The epoch tells the page.
        second = await startTestServer({ port, inventory: 8 });
        assert.notEqual(second.inventory.epoch, first.inventory.epoch);
        await second.inventory.add(DEMO, crypto.randomUUID());
        await waitForConnection(page, "live", RECONNECT_TIMEOUT_MS);
        assert.equal(await waitForCount(page, 7), 1);
        assert.equal(await live.getAttribute("data-transport"), transport);
        assert.equal(await page.locator(".stale-note").isVisible(), false);

        // And it is live indeed, through version 2 (the number the page showed before) and on.
        await second.inventory.add(DEMO, crypto.randomUUID());
        assert.equal(await waitForCount(page, 6), 2);
        await second.inventory.add(DEMO, crypto.randomUUID());
        assert.equal(await waitForCount(page, 5), 3);
      } finally {
        await first.stop();
        await second?.stop();
      }
    },
  );
}
