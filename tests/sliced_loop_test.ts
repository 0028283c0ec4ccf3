/** forEachSliced: small sets at once; large ones in slices over a snapshot, stoppable between. */
import assert from "node:assert/strict";
import { forEachSliced } from "../lib/realtime/sliced_loop.ts";

Deno.test("a set that fits in one slice is visited at once, with nothing to await", () => {
  const seen: number[] = [];
  const done = forEachSliced(new Set([1, 2, 3]), (n) => seen.push(n), () => true, 3);
  assert.equal(done, undefined);
  assert.deepEqual(seen, [1, 2, 3]);
});

Deno.test("a larger set is visited in slices, yielding between them", async () => {
  const members = new Set(Array.from({ length: 10 }, (_, i) => i));
  const seen: number[] = [];
  const done = forEachSliced(members, (n) => seen.push(n), () => true, 4);
  assert.ok(done instanceof Promise);
  assert.deepEqual(seen, [0, 1, 2, 3], "only the first slice runs at once");
  await done;
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
});

Deno.test("members that leave before their turn are skipped; those that join are not visited", async () => {
  const members = new Set(Array.from({ length: 8 }, (_, i) => i));
  const seen: number[] = [];
  const done = forEachSliced(members, (n) => seen.push(n), () => true, 4);
  members.delete(5);
  members.add(100);
  await done;
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 6, 7]);
});

Deno.test("goOn false between slices ends the pass", async () => {
  const members = new Set(Array.from({ length: 12 }, (_, i) => i));
  const seen: number[] = [];
  let asked = 0;
  await forEachSliced(members, (n) => seen.push(n), () => ++asked < 2, 4);
  assert.deepEqual(seen, [0, 1, 2, 3, 4, 5, 6, 7], "the third slice was not run");
  assert.equal(asked, 2);
});
