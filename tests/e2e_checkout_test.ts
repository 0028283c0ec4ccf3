/** Browser tests of Buy now: a sale in demo mode, a refusal shown as text, paying on the service's page. */
import assert from "node:assert/strict";
import { browserTest, openShopper, waitForConnection, waitForCount } from "./support/browser.ts";
import { startOrderService } from "./support/order_service.ts";
import { startPaymentService } from "./support/payment_service.ts";
import { DEMO, holds, startTestServer, stateOf } from "./support/server.ts";

const SECRET = `whsec_${btoa("e2e-checkout-secret")}`;

browserTest(
  "e2e: in demo mode Buy now sells the held unit and shows Purchased ✓ with the order id",
  async (browser) => {
    await using server = await startTestServer({ inventory: 3 });
    const { page } = await openShopper(browser, server.url);
    const other = await openShopper(browser, server.url);
    const buy = page.locator("#buy");
    assert.equal(await buy.textContent(), "Buy now");
    assert.equal(await buy.isDisabled(), true, "nothing held, nothing to buy");

    await page.click("#add");
    await page.locator("#add", { hasText: "In your cart" }).waitFor();
    await waitForCount(page, 2);
    await buy.and(page.locator(":enabled")).waitFor();

    // Hold the checkout so that its in-between state can be seen.
    const release = Promise.withResolvers<void>();
    await page.route("**/cart", async (route) => {
      await release.promise;
      await route.continue();
    }, { times: 1 });
    const answered = page.waitForResponse((response) => response.url().endsWith("/cart"));
    await page.click("#buy");
    await buy.filter({ hasText: "Buying…" }).waitFor();
    for (const id of ["#add", "#remove", "#buy"]) {
      assert.equal(await page.locator(id).isDisabled(), true, `${id} waits for the checkout`);
    }
    release.resolve();
    const answer = await (await answered).json();
    assert.equal(typeof answer.orderId, "string");

    await buy.filter({ hasText: "Purchased ✓" }).waitFor();
    assert.equal(await page.locator("#order").textContent(), `Order ${answer.orderId}`);
    assert.equal(await page.locator("#order").isVisible(), true);
    assert.equal(await page.locator("#error").textContent(), "");
    // The unit is sold, no longer held: the shopper may add another while stock remains.
    assert.equal(await buy.isDisabled(), true);
    assert.equal(await page.locator("#stock").textContent(), "Available");
    assert.equal(await page.locator("#add:enabled").textContent(), "Add to cart");
    assert.equal(await page.locator("#remove").isDisabled(), true);
    const session = await page.locator("body").getAttribute("data-session");
    assert.equal(await holds(server, session!), false);

    // The count dropped by one for good, and the sale reached the other page too.
    assert.equal(server.inventory.get(DEMO)!.sold, 1);
    const { inventoryCount, version } = stateOf(server);
    assert.equal(inventoryCount, 2);
    for (const shown of [page, other.page]) assert.equal(await waitForCount(shown, 2), version);
  },
);

browserTest(
  "e2e: an order refused by the order service shows its reason as text and keeps the hold",
  async (browser) => {
    await using service = await startOrderService({
      secret: SECRET,
      otherwise: { status: 422, body: JSON.stringify({ error: "Card <b>html</b> declined" }) },
    });
    await using server = await startTestServer({
      inventory: 3,
      orderWebhook: { url: service.url, secret: SECRET },
    });
    const { page } = await openShopper(browser, server.url);
    await page.click("#add");
    await page.locator("#add", { hasText: "In your cart" }).waitFor();

    await page.click("#buy");
    const error = page.locator("#error");
    await error.filter({ hasText: "refused" }).waitFor();
    assert.equal(await error.getAttribute("role"), "alert");
    assert.equal(await error.isVisible(), true);
    assert.equal(await error.textContent(), "Your order was refused: Card <b>html</b> declined");
    assert.equal(await error.locator("*").count(), 0, "the reason is text, not markup");
    assert.equal(service.requests.length, 1);

    // The hold stays, and so does the way to buy it.
    const session = await page.locator("body").getAttribute("data-session");
    assert.equal(await holds(server, session!), true);
    assert.equal(await page.locator("#buy:enabled").textContent(), "Buy now");
    assert.equal(await page.locator("#stock").textContent(), "In your cart");
    assert.equal(await page.locator("#order").isHidden(), true);
    assert.equal(server.inventory.get(DEMO)!.sold, 0);
    assert.equal(stateOf(server).inventoryCount, 2);
  },
);

browserTest(
  "e2e: Buy now goes to the order service's payment page; once paid there, every page shows it sold",
  async (browser) => {
    await using service = await startPaymentService(SECRET);
    await using server = await startTestServer({
      inventory: 3,
      orderWebhook: { url: service.url, secret: SECRET },
    });
    service.shopUrl = server.url;
    const { page } = await openShopper(browser, server.url);
    const other = await openShopper(browser, server.url);
    await page.click("#add");
    await page.locator("#add", { hasText: "In your cart" }).waitFor();
    const session = await page.locator("body").getAttribute("data-session");

    await page.click("#buy");
    await page.waitForURL(/\/pay\//);
    const orderId = new URL(page.url()).pathname.split("/").at(-1)!;
    // On the payment page the unit is held for the shopper, awaiting payment.
    assert.equal(await holds(server, session!), true);
    assert.equal(server.inventory.get(DEMO)!.sold, 0);

    await page.click("#pay");
    // The service's paid callback sold it; the shopper is back on the shop's page.
    await page.waitForURL(server.url);
    await waitForConnection(page, "live");
    const { inventoryCount, version } = stateOf(server);
    assert.equal(inventoryCount, 2);
    assert.equal(server.inventory.get(DEMO)!.sold, 1);
    assert.equal(await holds(server, session!), false);
    for (const shown of [page, other.page]) assert.equal(await waitForCount(shown, 2), version);
    assert.equal(service.calls[0].body.orderId, orderId);
    // Back from paying, the page says so as after a direct sale, from the shop's own record.
    await page.locator("#buy", { hasText: "Purchased ✓" }).waitFor();
    assert.equal(await page.locator("#order").textContent(), `Order ${orderId}`);
    assert.equal(await page.locator("#buy").isDisabled(), true);
    // A new tab of the same shopper, which never saw the checkout, says so too.
    const tab = await page.context().newPage();
    await tab.goto(server.url);
    await tab.locator("#buy", { hasText: "Purchased ✓" }).waitFor();
    assert.equal(await tab.locator("#order").textContent(), `Order ${orderId}`);
    // Another shopper's page does not.
    assert.equal(await other.page.locator("#buy").textContent(), "Buy now");
  },
);
