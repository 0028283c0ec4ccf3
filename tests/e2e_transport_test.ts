/** Browser tests of each transport the page can use, its fallbacks, and its version rule. */
import assert from "node:assert/strict";
import type { RunningServer } from "../lib/server/start_server.ts";
import { browserTest, openShopper, waitForConnection, waitForCount } from "./support/browser.ts";
import { startTestServer } from "./support/server.ts";

const TRANSPORTS = [
  {
    param: "ws",
    name: "WebSocket",
    subscribers: (server: RunningServer) => server.app.websocketSubscribers,
  },
  {
    param: "sse",
    name: "Server-Sent Events",
    subscribers: (server: RunningServer) => server.app.sseSubscribers,
  },
  {
    param: "poll",
    name: "long polling",
    subscribers: (server: RunningServer) => server.cart.waiterCount,
  },
] as const;

/** Waits, by bounded polling (the server has no event for it), until a gauge reaches a value. */
async function waitForGauge(read: () => number, expected: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (read() !== expected) {
    if (Date.now() > deadline) assert.fail(`gauge stayed at ${read()}, expected ${expected}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

for (const transport of TRANSPORTS) {
  browserTest(
    `e2e: ?transport=${transport.param} names ${transport.name} and gets updates`,
    async (browser) => {
      await using server = await startTestServer({ inventory: 5 });
      const { page } = await openShopper(browser, `${server.url}?transport=${transport.param}`);
      const live = page.locator("#live");
      assert.equal(await live.getAttribute("data-transport"), transport.param);
      assert.equal(await live.textContent().then((t) => t?.trim()), `Live via ${transport.name}`);
      // The server really holds a connection of that kind.
      await waitForGauge(() => transport.subscribers(server), 1);

      const other = crypto.randomUUID();
      await server.cart.add(other);
      await waitForCount(page, 4);
      await server.cart.add(crypto.randomUUID());
      await waitForCount(page, 3);
      await server.cart.remove(other);
      await waitForCount(page, 4);
      assert.equal(await live.getAttribute("data-state"), "live");
    },
  );
}

browserTest("e2e: without a forced transport the page prefers WebSocket", async (browser) => {
  await using server = await startTestServer();
  const { page } = await openShopper(browser, server.url);
  assert.equal(await page.locator("#live").getAttribute("data-transport"), "ws");
  await waitForGauge(() => server.app.websocketSubscribers, 1);
});

browserTest(
  "e2e: a page whose WebSocket is refused falls back to SSE, then long polling",
  async (browser) => {
    await using server = await startTestServer({ inventory: 5 });
    const context = await browser.newContext();
    // A proxy that accepts the upgrade and hangs up at once, as some do.
    await context.routeWebSocket(/\/cart\/status/, (socket) => socket.close());
    const sse = await context.newPage();
    await sse.goto(server.url);
    await waitForConnection(sse, "live");
    assert.equal(await sse.locator("#live").getAttribute("data-transport"), "sse");

    // A proxy that also refuses event streams.
    await context.route(
      "**/cart/status",
      (route) =>
        route.request().headers()["accept"]?.includes("text/event-stream")
          ? route.abort()
          : route.fallback(),
    );
    const poll = await context.newPage();
    await poll.goto(server.url);
    await waitForConnection(poll, "live");
    assert.equal(await poll.locator("#live").getAttribute("data-transport"), "poll");

    await server.cart.add(crypto.randomUUID());
    await Promise.all([waitForCount(sse, 4), waitForCount(poll, 4)]);
  },
);

/** Records every count the page shows, with its version, from the first render on. */
function recordCounts(): void {
  const shown: [string, string][] = [];
  Object.assign(globalThis, { shownCounts: shown });
  document.addEventListener("DOMContentLoaded", () => {
    const count = document.getElementById("count")!;
    const record = () => shown.push([count.textContent ?? "", count.dataset.version ?? ""]);
    record();
    new MutationObserver(record).observe(count, {
      childList: true,
      characterData: true,
      subtree: true,
      attributes: true,
    });
  });
}

browserTest("e2e: the page never shows a version older than one it has shown", async (browser) => {
  await using server = await startTestServer({ inventory: 10 });
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.addInitScript(recordCounts);
  let toPage: ((message: string) => void) | undefined;
  await page.routeWebSocket(/\/cart\/status/, (socket) => {
    socket.connectToServer();
    toPage = (message) => socket.send(message);
  });
  await page.goto(`${server.url}?transport=ws`);
  await waitForConnection(page, "live");
  await server.cart.add(crypto.randomUUID());
  await server.cart.add(crypto.randomUUID());
  await waitForCount(page, 8);

  // A late message from before: older version, tempting count.
  toPage!(JSON.stringify({ inventoryCount: 99, version: 1 }));
  await server.cart.add(crypto.randomUUID());
  await waitForCount(page, 7);

  const shown = await page.evaluate(() =>
    (globalThis as unknown as { shownCounts: [string, string][] }).shownCounts
  );
  const versions = shown.map(([, version]) => Number(version));
  assert.deepEqual(shown.at(-1), ["7", "3"]);
  assert.ok(!shown.some(([count]) => count === "99"), JSON.stringify(shown));
  assert.ok(
    versions.every((v, i) => i === 0 || v >= versions[i - 1]),
    `versions went back: ${JSON.stringify(shown)}`,
  );
});
