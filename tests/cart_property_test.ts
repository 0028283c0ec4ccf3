/** Property-based: random adds, removes, aborts and disconnects over real sockets keep the stock right. */
import assert from "node:assert/strict";
import fc from "fast-check";
import type { CartState } from "../lib/cart.ts";
import { startTestServer } from "./support/server.ts";
import {
  type MessageQueue,
  metric,
  openStatusSocket,
  openStatusStream,
  postCart,
  type StatusSocket,
  type StatusStream,
} from "./support/clients.ts";

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
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("disconnect"), subscriber: fc.nat(5) }) },
) as fc.Arbitrary<Step>;

/** Takes states from a subscriber until it reaches a version; fails after a deadline. */
async function reachVersion(next: () => Promise<CartState>, version: number): Promise<void> {
  const deadline = AbortSignal.timeout(5_000);
  for (;;) {
    const state = await Promise.race([
      next(),
      new Promise<never>((_, reject) =>
        deadline.addEventListener("abort", () => reject(new Error(`never saw version ${version}`)))
      ),
    ]);
    assert.ok(state.version <= version, `version ${state.version} past ${version}`);
    if (state.version === version) return;
  }
}

const sseStates = (stream: StatusStream) => async () =>
  JSON.parse((await stream.events.next()).data);
const wsStates = (queue: MessageQueue<CartState>) => () => queue.next();

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
          const sockets: (StatusSocket | undefined)[] = [];
          const streams: (StatusStream | undefined)[] = [];
          for (let i = 0; i < 3; i++) {
            sockets.push(await openStatusSocket(server.url));
            streams.push(await openStatusStream(server.url));
          }
          try {
            for (const batch of batches) {
              await Promise.all(batch.map((s) => run(s)));
              const holders = sessions.filter((s) => server.cart.holds(s)).length;
              const { inventoryCount } = server.cart.current.state;
              assert.ok(inventoryCount >= 0, "never negative");
              assert.ok(holders <= total, "never oversold");
              assert.equal(inventoryCount + holders, total, "conserved");
            }
            const final = server.cart.current.state.version;
            assert.equal(
              await metric(server.url, "inventory_count"),
              server.cart.current.state.inventoryCount,
            );
            for (const socket of sockets) {
              if (socket) await reachVersion(wsStates(socket.states), final);
            }
            for (const stream of streams) if (stream) await reachVersion(sseStates(stream), final);
            assert.equal(server.cart.waiterCount, 0, "abandoned polls left no waiter");
          } finally {
            for (const s of [...sockets, ...streams]) await s?.[Symbol.asyncDispose]();
          }

          async function run(s: Step): Promise<void> {
            if (s.kind === "add" || s.kind === "remove") {
              const response = await postCart(server.url, s.kind, sessions[s.session]);
              const body = await response.json();
              if (response.status === 409) {
                assert.equal(s.kind, "add");
                assert.equal(body.error, "sold out");
              } else {
                assert.equal(response.status, 200);
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
              const index = s.subscriber % 3;
              const list: (StatusSocket | StatusStream | undefined)[] = s.subscriber < 3
                ? sockets
                : streams;
              await list[index]?.[Symbol.asyncDispose]();
              list[index] = undefined;
            }
          }
        },
      ),
      { numRuns: 60 },
    );
  },
});
