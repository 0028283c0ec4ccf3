/** Browser-test helpers: Debian's headless Chromium driven by playwright-core, always closed. */
/// <reference lib="dom" />
// (The DOM types above are for the functions tests hand to `page.evaluate`, which run in the page.)
import assert from "node:assert/strict";
import {
  type Browser,
  type BrowserContext,
  chromium,
  type Frame,
  type Page,
} from "playwright-core";
import { programMissing } from "./missing_program.ts";

/** Where Debian's `chromium` package puts the browser (`apt-get install -y chromium`). */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** Flags for a quiet, self-contained headless run (no GPU, QUIC, sync or background updates). */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** True when no Chromium is installed: browser tests are then skipped, and say so loudly. */
export const chromiumMissing: boolean = programMissing({
  path: CHROMIUM_PATH,
  tests: "BROWSER TESTS",
  install: "apt-get install -y chromium",
  files: "tests/e2e_*",
});

/**
 * Launches headless Chromium with {@linkcode CHROMIUM_ARGS}.
 *
 * Playwright gives every launch a fresh temporary user-data dir (`--user-data-dir`) and deletes it
 * on close, so no test sees another's cookies or cache.
 *
 * @returns The browser; `await using` closes it at the end of the scope, whatever happens.
 */
export async function launchChromium(): Promise<Browser & AsyncDisposable> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS],
  });
  return Object.assign(browser, { [Symbol.asyncDispose]: () => browser.close() });
}

/** What a browser test may allow of the pages' Content-Security-Policy violations. */
export interface BrowserTestOptions {
  /** Violations the test provokes on purpose (a foreign page framing the shop); none by default. */
  readonly expectedViolations?: RegExp;
}

/**
 * Registers a test that gets its own Chromium, or is skipped (never passed) without one.
 *
 * Every page the test opens is watched for Content-Security-Policy violations, which Chromium
 * reports on the console: the test fails on any it did not expect, so the pages are shown to work
 * under their policy. The test gets the violations seen so far, to assert on those it provokes.
 *
 * Playwright keeps pipes and timers of its own across awaits, so the op and resource sanitizers
 * are off for these tests only.
 *
 * @param name The test's name.
 * @param fn The test body, given a browser that is closed when it ends and the violations seen.
 * @param options The violations the test provokes on purpose.
 */
export function browserTest(
  name: string,
  fn: (browser: Browser, violations: readonly string[]) => Promise<void>,
  options: BrowserTestOptions = {},
): void {
  Deno.test({
    name,
    ignore: chromiumMissing,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      await using browser = await launchChromium();
      const violations = watchPolicyViolations(browser);
      await fn(browser, violations);
      const unexpected = violations.filter((text) => !options.expectedViolations?.test(text));
      assert.deepEqual(unexpected, [], "no Content-Security-Policy violation");
    },
  });
}

/**
 * Collects the Content-Security-Policy violations that Chromium reports on the console of every
 * page of every context made from now on (`browser.newPage` makes its context the same way).
 */
function watchPolicyViolations(browser: Browser): string[] {
  const violations: string[] = [];
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (options) => {
    const context = await newContext(options);
    context.on("console", (message) => {
      if (message.text().includes("Content Security Policy")) violations.push(message.text());
    });
    return context;
  };
  return violations;
}

/** One shopper: a browser context of their own (own cookie, own session) with a page open. */
export interface Shopper {
  /** The shopper's context; closing the browser closes it. */
  readonly context: BrowserContext;
  /** The shop page. */
  readonly page: Page;
}

/**
 * Opens a page of the shop (a product's or the catalog) as a new shopper and waits until it is live.
 *
 * @param browser A running browser.
 * @param url The page's URL, e.g. the server's URL with `?transport=sse`.
 * @returns The shopper, with the page connected.
 */
export async function openShopper(
  browser: Browser,
  url: string,
  viewport: { width: number; height: number } = { width: 1000, height: 720 },
): Promise<Shopper> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  await page.goto(url);
  await waitForConnection(page, "live");
  return { context, page };
}

/**
 * Waits until the page's live indicator reaches a state.
 *
 * @param page The shop page, or a frame that holds it.
 * @param state `live`, `connecting` or `reconnecting`.
 * @param timeout How long to wait, in ms.
 */
export async function waitForConnection(
  page: Page | Frame,
  state: "live" | "connecting" | "reconnecting",
  timeout = 10_000,
): Promise<void> {
  await page.locator(`#live[data-state="${state}"]`).waitFor({ timeout });
}

/**
 * Waits until the page shows a count, and returns the version it shows with it.
 *
 * @param page The shop page.
 * @param count The expected count.
 * @param timeout How long to wait, in ms.
 * @returns The version the count carries.
 */
export async function waitForCount(page: Page, count: number, timeout = 5_000): Promise<number> {
  const handle = await page.waitForFunction(
    (expected) => {
      const element = document.getElementById("count")!;
      return element.textContent === String(expected) && element.dataset.version;
    },
    count,
    { timeout },
  );
  return Number(await handle.jsonValue());
}

/**
 * Waits until the catalog page's tile of a product shows a count, and returns its version.
 *
 * @param page The catalog page.
 * @param product The product's id.
 * @param count The expected count.
 * @param timeout How long to wait, in ms.
 * @returns The version the tile carries.
 */
export async function waitForTileCount(
  page: Page,
  product: string,
  count: number,
  timeout = 5_000,
): Promise<number> {
  const handle = await page.waitForFunction(
    ([product, expected]) => {
      const tile = [...document.querySelectorAll<HTMLElement>("li.tile")]
        .find((tile) => tile.dataset.product === product);
      return tile?.querySelector(".tile-count")?.textContent === expected && tile.dataset.version;
    },
    [product, String(count)],
    { timeout },
  );
  return Number(await handle.jsonValue());
}

/**
 * Reads every tile of the catalog page: its product and the count it shows.
 *
 * @param page The catalog page.
 * @returns The counts by product, in the page's order.
 */
export function tileCounts(page: Page): Promise<Record<string, string>> {
  return page.locator("li.tile").evaluateAll((tiles) =>
    Object.fromEntries(
      tiles.map((tile) => [
        (tile as HTMLElement).dataset.product,
        tile.querySelector(".tile-count")?.textContent,
      ]),
    )
  );
}

/**
 * Opens a page twice behind refusals, as proxies refuse: first with its WebSocket upgrade accepted
 * and hung up at once (it must fall back to SSE), then with event streams refused too (it must
 * fall back to long polling). Each page is live before this returns.
 *
 * @param browser The browser.
 * @param url The page.
 * @param feed The page's status feed, e.g. `/\/cart\/status/`.
 * @returns The page on SSE and the page on long polling.
 */
export async function openThroughRefusals(
  browser: Browser,
  url: string,
  feed: RegExp,
): Promise<{ sse: Page; poll: Page }> {
  const context = await browser.newContext();
  await context.routeWebSocket(feed, (socket) => socket.close());
  const sse = await context.newPage();
  await sse.goto(url);
  await waitForConnection(sse, "live");
  await context.route(
    feed,
    (route) =>
      route.request().headers()["accept"]?.includes("text/event-stream")
        ? route.abort()
        : route.fallback(),
  );
  const poll = await context.newPage();
  await poll.goto(url);
  await waitForConnection(poll, "live");
  return { sse, poll };
}
