/** Tests of the page script's rules that need no browser: backoff, message parsing, version gate. */
import assert from "node:assert/strict";
import {
  BACKOFF_BASE_MS,
  BACKOFF_CAP_MS,
  backoffDelay,
  type CartState,
  LiveState,
  parseState,
} from "../static/live_state.js";

Deno.test("backoffDelay doubles its window per attempt up to the cap, jittered over all of it", () => {
  const almostOne = () => 0.999_999;
  const windows = [0, 1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(attempt, almostOne) + 1);
  assert.deepEqual(windows, [2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
  assert.equal(BACKOFF_BASE_MS, windows[0]);
  assert.equal(BACKOFF_CAP_MS, windows.at(-1));
  // Full jitter: the delay can be anything from 0 to the window, so a crowd spreads out.
  assert.equal(backoffDelay(3, () => 0), 0);
  assert.equal(backoffDelay(3, () => 0.25), 4_000);
});

Deno.test("backoffDelay spreads a crowd's first retry over more than a second", () => {
  const delays = Array.from({ length: 10_000 }, () => backoffDelay(0));
  const seconds = new Set(delays.map((ms) => Math.floor(ms / 1000)));
  assert.deepEqual([...seconds].sort(), [0, 1]);
  assert.ok(delays.every((ms) => Number.isInteger(ms) && ms >= 0 && ms < BACKOFF_BASE_MS));
});

Deno.test("parseState keeps whole-number states and ignores anything else", () => {
  assert.deepEqual(parseState({ inventoryCount: 0, version: 12, extra: 1 }), {
    inventoryCount: 0,
    version: 12,
  });
  for (
    const value of [
      null,
      "x",
      [],
      { type: "ping" },
      { inventoryCount: "3", version: 1 },
      { inventoryCount: 3, version: -1 },
      { inventoryCount: 1.5, version: 1 },
      { inventoryCount: 3 },
    ]
  ) {
    assert.equal(parseState(value), undefined, JSON.stringify(value));
  }
});

/** Lets a check's awaited read finish: one macrotask runs after every pending microtask. */
function settled(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A LiveState whose fresh reads are answered by the test, recording what it shows. */
function gate(initial: CartState) {
  const shown: CartState[] = [];
  const reads: PromiseWithResolvers<CartState>[] = [];
  const state = new LiveState(initial, (s) => shown.push(s), () => {
    const read = Promise.withResolvers<CartState>();
    reads.push(read);
    return read.promise;
  });
  return { state, shown, reads };
}

Deno.test("LiveState shows only newer versions", () => {
  const { state, shown } = gate({ inventoryCount: 10, version: 0 });
  state.offer({ inventoryCount: 9, version: 1 });
  state.offer({ inventoryCount: 7, version: 3 });
  state.offer({ inventoryCount: 7, version: 3 });
  assert.deepEqual(shown.map((s) => s.version), [1, 3]);
  assert.deepEqual(state.current, { inventoryCount: 7, version: 3 });
});

Deno.test("LiveState shows the same version with another count: a restarted server", () => {
  const { state, shown, reads } = gate({ inventoryCount: 4, version: 1 });
  state.offer({ inventoryCount: 4, version: 1 });
  assert.deepEqual(shown, []);
  state.offer({ inventoryCount: 7, version: 1 });
  assert.deepEqual(shown, [{ inventoryCount: 7, version: 1 }]);
  assert.equal(reads.length, 0);
});

Deno.test("LiveState ignores an older message when a fresh read shows the server is current", async () => {
  const { state, shown, reads } = gate({ inventoryCount: 7, version: 3 });
  state.offer({ inventoryCount: 8, version: 2 });
  state.offer({ inventoryCount: 9, version: 1 });
  assert.equal(reads.length, 1, "one check at a time");
  reads[0].resolve({ inventoryCount: 6, version: 4 });
  await settled();
  assert.deepEqual(shown, [{ inventoryCount: 6, version: 4 }]);
});

Deno.test("LiveState ignores an older message when the fresh read fails", async () => {
  const { state, shown, reads } = gate({ inventoryCount: 7, version: 3 });
  state.offer({ inventoryCount: 8, version: 2 });
  reads[0].reject(new Error("timed out"));
  await settled();
  assert.deepEqual(shown, []);
  assert.deepEqual(state.current, { inventoryCount: 7, version: 3 });
});

Deno.test("LiveState follows a server whose fresh read is older: it restarted", async () => {
  const { state, shown, reads } = gate({ inventoryCount: 4, version: 6 });
  state.offer({ inventoryCount: 10, version: 0 });
  // News from the restarted server while the check is out: newer than the read it answers.
  state.offer({ inventoryCount: 9, version: 1 });
  reads[0].resolve({ inventoryCount: 10, version: 0 });
  await settled();
  assert.deepEqual(shown, [{ inventoryCount: 9, version: 1 }]);
  state.offer({ inventoryCount: 8, version: 2 });
  assert.deepEqual(state.current, { inventoryCount: 8, version: 2 });
});

Deno.test("LiveState keeps a newer state that arrived during the check over an older read", async () => {
  const { state, shown, reads } = gate({ inventoryCount: 4, version: 6 });
  state.offer({ inventoryCount: 5, version: 5 });
  state.offer({ inventoryCount: 3, version: 7 });
  reads[0].resolve({ inventoryCount: 4, version: 6 });
  await settled();
  assert.deepEqual(shown, [{ inventoryCount: 3, version: 7 }]);
  assert.equal(reads.length, 1, "a read that is merely behind starts no second check");
});
