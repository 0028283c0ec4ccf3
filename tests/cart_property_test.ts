/** Property-based: random adds, removes, aborts and disconnects over real sockets keep the stock right. */
import assert from "node:assert/strict";
import fc from "fast-check";
import { startTestServer } from "./support/server.ts";
import { eventually, postCart } from "./support/clients.ts";
import {
  openLongPollFeed,
  openSseFeed,
  openWebSocketFeed,
  type StateFeed,
} from "./support/status_clients.ts";

const SESSIONS = 6;

/** One step a client takes. */
type Step =
  | { kind: "add" | "remove"; session: number }
  | { kind: "abort"; action: "add" | "remove"; session: number; late: boolean }
  | { kind: "abandon poll" }
  | { kind: "disconnect"; subscriber: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constantFrom("add", "remove"), session: fc.nat(SESSIONS - 1) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("abort"),
      action: fc.constantFrom("add", "remove"),
      session: fc.nat(SESSIONS - 1),
      late: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("abandon poll") }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("disconnect"), subscriber: fc.nat(6) }) },
) as fc.Arbitrary<Step>;

Deno.test({
  name: "stock is conserved, never negative, never oversold, and every subscriber ends current",
  sanitizeOps: false, // deno#22387: WebSockets
  sanitizeResources: false,
  async fn() {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 4 }),
        // Each inner array runs at once, so that sessions race each other.
        fc.array(fc.array(step, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 10 }),
        async (total, batches) => {
          await using server = await startTestServer({ inventory: total });
          const sessions = Array.from({ length: SESSIONS }, () => crypto.randomUUID());
          // Three WebSockets, three event streams and a re-polling long poll.
          const feeds: (StateFeed | undefined)[] = [];
          for (let i = 0; i < 3; i++) feeds.push(await openWebSocketFeed(server.url));
          for (let i = 0; i < 3; i++) feeds.push(await openSseFeed(server.url));
          feeds.push(openLongPollFeed(server.url, 0));
          try {
            for (const batch of batches) {
              await Promise.all(batch.map((s) => run(s)));
              const holders = sessions.filter((s) => server.cart.holds(s)).length;
              const { inventoryCount } = server.cart.current.state;
              assert.ok(inventoryCount >= 0, "never negative");
              assert.ok(holders <= total, "never oversold");
              assert.equal(inventoryCount + holders, total, "conserved");
            }
            // An aborted post may still land after its client gave up, so the final version is
            // the one the cart and every surviving subscriber show at one moment (a long poll
            // starts knowing version 0).
            const last = (feed: StateFeed) => feed.states.at(-1)?.version ?? 0;
            await eventually(
              () =>
                feeds.every((f) =>
                  f === undefined || last(f) === server.cart.current.state.version
                ),
              "every surviving subscriber to reach the final version",
            );
            for (const feed of feeds) {
              const versions = feed?.states.map((state) => state.version) ?? [];
              assert.ok(
                versions.every((v, i) => i === 0 || v > versions[i - 1]),
                `feed ${feeds.indexOf(feed)} went back: ${versions}`,
              );
            }
          } finally {
            for (const feed of feeds) await feed?.[Symbol.asyncDispose]();
          }
          await eventually(() => server.cart.waiterCount === 0, "abandoned polls to leave");

          async function run(s: Step): Promise<void> {
            if (s.kind === "add" || s.kind === "remove") {
              const { status, body } = await postCart(server.url, s.kind, sessions[s.session]);
              if (status === 409) {
                assert.equal(s.kind, "add");
                assert.equal(body.error, "sold out");
              } else {
                assert.equal(status, 200);
                assert.equal(body.inCart, s.kind === "add");
              }
            } else if (s.kind === "abort") {
              const controller = new AbortController();
              const sent = fetch(new URL("cart", server.url), {
                method: "POST",
                headers: { "content-type": "application/json" },
                body: JSON.stringify({ action: s.action, session: sessions[s.session] }),
                signal: controller.signal,
              }).then((r) => r.body?.cancel(), () => {});
              if (s.late) await new Promise((resolve) => setTimeout(resolve, 0));
              controller.abort();
              await sent;
            } else if (s.kind === "abandon poll") {
              const controller = new AbortController();
              const poll = fetch(new URL("cart/status", server.url), { signal: controller.signal })
                .then((r) => r.body?.cancel(), () => {});
              controller.abort();
              await poll;
            } else if (s.kind === "disconnect") {
              await feeds[s.subscriber]?.[Symbol.asyncDispose]();
              feeds[s.subscriber] = undefined;
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  },
});
