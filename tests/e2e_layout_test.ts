/** Browser tests of the page's fit on phones: what a shopper needs is in view without scrolling. */
import assert from "node:assert/strict";
import { browserTest, openShopper } from "./support/browser.ts";
import { startTestServer } from "./support/server.ts";

/** Where an element sits in the window, and the window's and the page's sizes, in CSS pixels. */
interface Placement {
  top: number;
  bottom: number;
  left: number;
  right: number;
  innerWidth: number;
  innerHeight: number;
  /** The page's whole height: more than `innerHeight` when it scrolls. */
  scrollHeight: number;
}

const PHONES = [
  // A small phone: Add must be in view; what follows it may be below the fold.
  { width: 320, height: 568, selector: "#add", what: "the Add button", pageFits: false },
  // A common phone: the whole card fits, its margin too, so the page does not scroll.
  { width: 390, height: 844, selector: ".product", what: "the whole product card", pageFits: true },
];

for (const { width, height, selector, what, pageFits } of PHONES) {
  browserTest(
    `e2e: at ${width}×${height}, ${what} is in view without scrolling`,
    async (browser) => {
      await using server = await startTestServer();
      const { page } = await openShopper(browser, server.url, { width, height });
      const placement: Placement = await page.evaluate((selector) => {
        const { top, bottom, left, right } = document.querySelector(selector)!
          .getBoundingClientRect();
        const { scrollHeight } = document.documentElement;
        return { top, bottom, left, right, innerWidth, innerHeight, scrollHeight };
      }, selector);
      const seen = JSON.stringify(placement);
      assert.equal(placement.innerHeight, height);
      assert.ok(placement.top >= 0, `${what} starts above the window: ${seen}`);
      assert.ok(placement.bottom <= placement.innerHeight, `${what} ends below the fold: ${seen}`);
      assert.ok(
        placement.left >= 0 && placement.right <= placement.innerWidth,
        `${what} is wider than the window: ${seen}`,
      );
      if (pageFits) {
        assert.ok(placement.scrollHeight <= placement.innerHeight, `the page scrolls: ${seen}`);
      }
    },
  );
}
