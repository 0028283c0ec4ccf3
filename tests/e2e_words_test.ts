/** Browser tests of the shop's words: its name and tagline on every page, the way back, a broken picture. */
import assert from "node:assert/strict";
import { browserTest, openShopper } from "./support/browser.ts";
import { productInfo } from "./support/products.ts";
import { startTestServer } from "./support/server.ts";

/** An https:// picture that fails at once: nothing listens on port 1. */
const BROKEN_IMAGE = "https://127.0.0.1:1/print.png";
const SHOP = { name: "Moonlit Press", tagline: "Prints and pins from the hills, counted live." };

async function startShop() {
  return await startTestServer({}, {
    catalog: {
      entries: [
        { info: productInfo("print", { name: "Night print", image: BROKEN_IMAGE }), total: 5 },
        { info: productInfo("pin", { name: "Moon pin" }), total: 9 },
      ],
      media: new Map(),
      shop: SHOP,
    },
  });
}

/** Waits until an image shows our placeholder, and answers whether it loaded. */
async function waitForPlaceholder(
  page: import("playwright-core").Page,
  selector: string,
): Promise<boolean> {
  const image = page.locator(selector);
  await image.and(page.locator('img[src="/static/placeholder.svg"]')).waitFor({ timeout: 5_000 });
  return await image.evaluate((element) =>
    (element as HTMLImageElement).complete && (element as HTMLImageElement).naturalWidth > 0
  );
}

browserTest(
  "e2e: the catalog and product pages carry the shop's name and tagline, link back, and show our placeholder for an https:// picture that fails",
  async (browser) => {
    await using server = await startShop();
    const { page } = await openShopper(browser, server.url);
    assert.equal(await page.title(), SHOP.name);
    assert.equal(await page.locator("h1").textContent(), SHOP.name);
    assert.equal(await page.locator(".catalog-head .lede").textContent(), SHOP.tagline);
    assert.equal(
      await waitForPlaceholder(page, 'li.tile[data-product="print"] img'),
      true,
      "the placeholder loads in the broken picture's place",
    );

    const product = await openShopper(browser, new URL("products/print", server.url).href);
    // The page's script puts the live count before the title it was given.
    assert.equal(await product.page.title(), `5 left · Night print · ${SHOP.name}`);
    assert.equal(await waitForPlaceholder(product.page, ".art img"), true);
    const back = product.page.getByRole("link", { name: `← All of ${SHOP.name}` });
    assert.equal(await back.getAttribute("href"), "/");
    await back.click();
    await product.page.waitForURL(server.url);
    assert.equal(await product.page.title(), SHOP.name);

    const missing = await browser.newPage();
    await missing.goto(new URL("products/nope", server.url).href);
    assert.equal(await missing.title(), `Not found · ${SHOP.name}`);
    await missing.close();
  },
);
