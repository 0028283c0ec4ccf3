/** ExpiryHeap: random changes checked against a plain sorted model, and short holds among many. */
import assert from "node:assert/strict";
import fc from "fast-check";
import { ExpiryHeap } from "../lib/time/expiry_heap.ts";

/** One change or question to the heap. */
type Command =
  | { kind: "set"; session: number; expiresAt: number }
  | { kind: "delete"; session: number }
  | { kind: "due"; now: number; limit: number };

const SESSIONS = 64;
// Few distinct times, so that ties and moves both ways are common.
const time = fc.integer({ min: 0, max: 60 });

const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("set" as const),
      session: fc.nat(SESSIONS - 1),
      expiresAt: time,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant("delete" as const), session: fc.nat(SESSIONS - 1) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("due" as const),
      now: time,
      limit: fc.integer({ min: 1, max: SESSIONS + 1 }),
    }),
  },
);

/** The model's holds due by `now`, earliest first (ties by session, to compare as sets). */
function dueIn(model: Map<string, number>, now: number): string[] {
  return [...model].filter(([, at]) => at <= now).map(([session]) => session).sort();
}

Deno.test("random sets, moves, deletes and due lists agree with a plain map", () => {
  fc.assert(
    fc.property(fc.array(command, { minLength: 50, maxLength: 300, size: "max" }), (commands) => {
      const heap = new ExpiryHeap();
      const model = new Map<string, number>();
      for (const c of commands) {
        if (c.kind === "set") {
          heap.set(`s${c.session}`, c.expiresAt);
          model.set(`s${c.session}`, c.expiresAt);
        } else if (c.kind === "delete") {
          assert.equal(heap.delete(`s${c.session}`), model.delete(`s${c.session}`));
        } else {
          const due = dueIn(model, c.now);
          const listed = heap.due(c.now, c.limit);
          assert.equal(listed.length, Math.min(c.limit, due.length));
          assert.equal(new Set(listed).size, listed.length, "no session twice");
          assert.ok(listed.every((session) => due.includes(session)), "only due holds");
          assert.deepEqual(heap.due(c.now).sort(), due);
        }
        assert.equal(heap.size, model.size);
        assert.equal(heap.firstExpiry(), Math.min(...model.values()));
        // A misplaced hold hides below one that is not due: ask at every time the model has.
        for (const at of new Set(model.values())) {
          assert.deepEqual(heap.due(at).sort(), dueIn(model, at));
        }
        for (let s = 0; s < SESSIONS; s++) assert.equal(heap.get(`s${s}`), model.get(`s${s}`));
        assert.deepEqual(
          [...heap.entries()].sort(([a], [b]) => a.localeCompare(b)),
          [...model].sort(([a], [b]) => a.localeCompare(b)),
        );
      }
    }),
    { numRuns: 100 },
  );
});

Deno.test("holds that expire before the latest one, added over 5,000, come out first and in order", () => {
  const heap = new ExpiryHeap();
  const hour = 3_600_000;
  for (let i = 0; i < 5_000; i++) heap.set(`long-${i}`, hour + i);
  // After a restart with a shorter hold time, each new hold expires before every stored one,
  // and later adds expire later: the order the index must keep without sorting again.
  for (let i = 0; i < 200; i++) {
    heap.set(`short-${i}`, 60_000 + i);
    assert.equal(heap.firstExpiry(), 60_000);
  }
  assert.equal(heap.size, 5_200);
  for (let i = 0; i < 200; i++) {
    const due = heap.due(60_000 + i);
    assert.deepEqual(due, [`short-${i}`], `at ${60_000 + i}`);
    heap.delete(due[0]);
  }
  assert.equal(heap.firstExpiry(), hour);
  // A refreshed stored hold moves later, past the others.
  heap.set("long-0", 2 * hour);
  assert.equal(heap.firstExpiry(), hour + 1);
  assert.equal(heap.due(hour + 4_999).length, 4_999);
  assert.deepEqual(heap.due(2 * hour, 10_000).length, 5_000);
});
