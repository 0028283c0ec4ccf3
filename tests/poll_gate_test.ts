/** PollGate: polls ready in the same turn are answered together, with the newest state. */
import assert from "node:assert/strict";
import { PollGate } from "../lib/realtime/poll_gate.ts";
import { DEFAULT_SLICE_SIZE } from "../lib/realtime/sliced_loop.ts";
import { versionedTopic } from "./support/versioned_topic.ts";

const versionOf = (json: string): number => JSON.parse(json).version;

/** A poll joining the gate's next pass: its answer. */
function through(gate: PollGate): Promise<string> {
  const { promise, resolve } = Promise.withResolvers<string>();
  gate.enter(resolve);
  return promise;
}

Deno.test("a poll goes through at once on an idle gate, with the current state", async () => {
  const { topic } = versionedTopic();
  const gate = new PollGate(topic);
  assert.equal(await through(gate), '{"version":0}');
});

Deno.test("polls that join in one turn share a pass, and get the state at the pass", async () => {
  const { state, topic } = versionedTopic();
  const gate = new PollGate(topic);
  const answers = Array.from({ length: 3000 }, () => through(gate));
  state.version = 1; // A change in the same turn, before the pass: nobody was answered yet.
  const versions = (await Promise.all(answers)).map(versionOf);
  assert.ok(versions.every((version) => version === 1));
});

Deno.test("a pass that had to wait slices; a poll that joins meanwhile gets a later pass", async () => {
  const clock = { now: 0 };
  const { state, topic } = versionedTopic();
  const gate = new PollGate(topic, () => clock.now);
  await through(gate); // A first pass at 0, measured until its answers are out.
  const answered: string[] = [];
  const track = (name: string, answer: Promise<string>) =>
    answer.then((json) => {
      answered.push(name);
      return versionOf(json);
    });
  // Three batches ask while that pass is still measured, and its writes last until 5: their
  // pass starts 5 ms after they asked, so it answers a batch per slice.
  const polls = Array.from(
    { length: 2 * DEFAULT_SLICE_SIZE + 1 },
    (_, i) => track(`poll ${i}`, through(gate)),
  );
  await Promise.resolve(); // They have asked.
  clock.now = 5;
  const first = await polls[0];
  // Between the first slice and the next: a change, and a poll that joins.
  state.version = 1;
  const late = track("late", through(gate));
  const versions = await Promise.all(polls);
  assert.equal(first, 0, "the first slice went out before the change");
  assert.equal(versions.at(-1), 1, "later slices carry the newest state");
  assert.equal(versions.indexOf(1), DEFAULT_SLICE_SIZE, "one batch per slice");
  assert.equal(await late, 1);
  assert.equal(answered.at(-1), "late", "the late poll waited for the next pass");
  gate.flush();
});
