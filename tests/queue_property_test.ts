/**
 * The waiting room's promises under any sequence of joins, adds, removes, checkouts, expiries,
 * restocks and admit-rate changes (fast-check, the fake clock): admissions never pass the free
 * units, admission follows the numbers exactly, a sold-out drop tells its followers, and the
 * published draw recomputes with code of its own (node:crypto).
 */
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import fc from "fast-check";
import { Checkouts } from "../lib/inventory/checkout.ts";
import { Inventory } from "../lib/inventory/inventory.ts";
import { inventoryCountOf } from "../lib/inventory/ledger.ts";
import { DropQueues } from "../lib/queue/drop_queues.ts";
import { linesInMemory } from "../lib/queue/line_store.ts";
import { dropGate } from "../lib/queue/queue_api.ts";
import { QueueFeed } from "../lib/queue/queue_feed.ts";
import { openMemoryStore } from "../lib/store/memory_store.ts";
import { FakeClock } from "./support/fake_clock.ts";
import { productInfo } from "./support/products.ts";

const PRODUCT = "drop";
const HOLD_TTL_MS = 20_000;
const WINDOW_MS = 30_000;
const ADMISSION_TTL_MS = 5_000;

type Step =
  | { kind: "join"; who: number }
  | { kind: "add"; who: number }
  | { kind: "remove"; who: number }
  | { kind: "checkout"; who: number }
  | { kind: "wait"; ms: number }
  | { kind: "restock"; total: number }
  | { kind: "rate"; rate: number };

const who = fc.nat({ max: 11 });
const step: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("join" as const), who }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant("add" as const), who }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant("remove" as const), who }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant("checkout" as const), who }), weight: 2 },
  {
    arbitrary: fc.record({
      kind: fc.constant("wait" as const),
      ms: fc.integer({ min: 1, max: 8_000 }),
    }),
    weight: 3,
  },
  {
    arbitrary: fc.record({ kind: fc.constant("restock" as const), total: fc.nat({ max: 6 }) }),
    weight: 1,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant("rate" as const),
      rate: fc.integer({ min: 1, max: 4 }),
    }),
    weight: 1,
  },
);

const sha256 = (bytes: string | Uint8Array) => createHash("sha256").update(bytes).digest("hex");

Deno.test("admissions never pass the free units and follow the draw's numbers exactly", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 5 }),
      fc.integer({ min: 1, max: 4 }),
      fc.array(fc.nat({ max: 11 }), { maxLength: 8 }),
      fc.array(step, { minLength: 1, maxLength: 40 }),
      async (total, admitRate, windowJoins, steps) => {
        const clock = new FakeClock();
        const opensAt = clock.now() + WINDOW_MS + 10_000;
        const store = openMemoryStore({ holdTtlMs: HOLD_TTL_MS, clock });
        const inventory = await Inventory.open(store, HOLD_TTL_MS);
        await inventory.list({
          info: productInfo(PRODUCT, { opensAt: new Date(opensAt).toISOString() }),
          total,
        });
        const settings = {
          windowMs: WINDOW_MS,
          admitRate,
          admissionTtlMs: ADMISSION_TTL_MS,
          maxTicketsPerClient: 0,
        };
        const drops = await DropQueues.open(inventory, linesInMemory(), settings, clock);
        const feed = new QueueFeed(drops, { waiters: 0 }, clock);
        const seen: { phase: string; version: number }[] = [];
        feed.topic(PRODUCT)!.subscribe((message) => seen.push(JSON.parse(message.json)));
        const gate = dropGate(inventory, drops);
        const checkouts = new Checkouts(inventory, { service: undefined, timeoutMs: 1_000, clock });
        const sessions = Array.from({ length: 12 }, () => crypto.randomUUID());
        const tickets = new Map<string, string>();
        // Every operation of the line runs in turn: a no-op control waits for all before it.
        const settled = async () => {
          await inventory.cartOf(sessions[0]);
          return (await drops.control(PRODUCT, {}))!;
        };
        const admitted = new Set<number>();
        let servingUpTo = 0;
        const check = async (label: string) => {
          const status = await settled();
          const now = clock.now();
          const record = inventory.get(PRODUCT)!;
          const turns = await Promise.all(
            sessions.map(async (session) => (await drops.turnOf(PRODUCT, session))!),
          );
          const open = turns.filter((turn) => turn.admitted);
          assert.ok(
            open.length <= inventoryCountOf(record),
            `${label}: ${open.length} admitted for ${inventoryCountOf(record)} free`,
          );
          assert.ok(status.servingUpTo >= servingUpTo, `${label}: servingUpTo went back`);
          const newly: number[] = [];
          for (const turn of open) {
            assert.ok(turn.number! <= status.servingUpTo, `${label}: admitted past servingUpTo`);
            assert.ok(turn.admissionExpiresAt! > now);
            if (!admitted.has(turn.number!)) newly.push(turn.number!);
          }
          // Numbers are admitted in order: a new admission is above every earlier one.
          const before = Math.max(0, ...admitted);
          for (const number of newly) {
            assert.ok(number > before, `${label}: admitted ${number} after ${before}`);
            admitted.add(number);
          }
          servingUpTo = status.servingUpTo;
          if (now >= opensAt - WINDOW_MS && record.total === 0 && record.held === 0) {
            assert.equal(status.phase, "soldOut", label);
            assert.equal(seen.at(-1)?.phase, "soldOut", `${label}: followers not told`);
          }
          if (seen.length > 0) assert.equal(seen.at(-1)!.version, status.version, label);
        };

        clock.advance(WINDOW_MS + 1);
        const windowTickets = new Set<string>();
        for (const i of windowJoins) {
          const joined = await drops.join(PRODUCT, sessions[i], "client");
          if (joined.ok) tickets.set(sessions[i], joined.ticket.id);
          if (joined.ok) windowTickets.add(joined.ticket.id);
        }
        clock.advance(10_000);
        await check("draw");
        try {
          for (const [index, next] of steps.entries()) {
            const label = `step ${index} ${JSON.stringify(next)}`;
            switch (next.kind) {
              case "join": {
                const joined = await drops.join(PRODUCT, sessions[next.who], "client");
                if (joined.ok) tickets.set(sessions[next.who], joined.ticket.id);
                break;
              }
              case "add": {
                const session = sessions[next.who];
                const turn = (await drops.turnOf(PRODUCT, session))!;
                const pass = await gate.check(PRODUCT, session);
                if (!pass.ok) break;
                const outcome = await inventory.add(PRODUCT, session);
                const took = outcome.ok && outcome.inCart;
                await pass.settle?.(took);
                if (took) assert.ok(turn.ticket !== null, `${label}: a hold without a ticket`);
                break;
              }
              case "remove":
                await inventory.remove(PRODUCT, sessions[next.who]);
                break;
              case "checkout":
                await checkouts.checkout(PRODUCT, sessions[next.who]);
                break;
              case "wait":
                clock.advance(next.ms);
                break;
              case "restock":
                await inventory.restock(PRODUCT, next.total);
                break;
              case "rate":
                await drops.control(PRODUCT, { admitRate: next.rate });
                break;
            }
            await check(label);
          }

          // The draw recomputes: the seed matches the commitment, the window's tickets are in
          // HMAC order, and those that came later follow in arrival order.
          const draw = (await drops.draw(PRODUCT))!;
          assert.equal(sha256(Buffer.from(draw.seed, "hex")), draw.commitment);
          const mac = (ticket: string) =>
            createHmac("sha256", Buffer.from(draw.seed, "hex")).update(ticket).digest("hex");
          const expected = [...windowTickets].sort((a, b) => mac(a) < mac(b) ? -1 : 1).map(sha256);
          assert.deepEqual(draw.order.slice(0, expected.length), expected);
          assert.equal(draw.order.length, tickets.size);
        } finally {
          feed.close();
          await drops.close();
          await store.close();
        }
      },
    ),
    { numRuns: 300 },
  );
});
