/** Fanout: a push in slices overtaken by newer news stops, and nobody gets an older state. */
import assert from "node:assert/strict";
import { Fanout } from "../lib/realtime/fanout.ts";
import type { StateMessage } from "../lib/realtime/message.ts";
import { DEFAULT_SLICE_SIZE } from "../lib/realtime/sliced_loop.ts";
import { Topic } from "../lib/realtime/topic.ts";
import { eventually } from "./support/clients.ts";

/** Enough subscribers that a pass takes four slices. */
const SUBSCRIBERS = 3 * DEFAULT_SLICE_SIZE + 1;

/** A subscriber that records what it got, as `product@version`. */
interface FakeSink {
  readonly got: string[];
  /** Each product's newest version it got. */
  readonly newest: Map<string, number>;
  /** States it got that were older than one it had. */
  older: number;
}

/** A catalog-like topic (news of any product) with fake subscribers on one fanout. */
function fakeFanout() {
  let version = 0;
  const topic = new Topic("*", () => "{}", () => ({ epoch: "e1", version }), { waiters: 0 });
  const sinks: FakeSink[] = Array.from(
    { length: SUBSCRIBERS },
    () => ({ got: [], newest: new Map(), older: 0 }),
  );
  const fanout = new Fanout<FakeSink>(topic, (sink, messages) => {
    for (const message of messages) {
      const had = sink.newest.get(message.product) ?? -1;
      if (message.version < had) sink.older++;
      sink.newest.set(message.product, Math.max(had, message.version));
      sink.got.push(`${message.product}@${message.version}`);
    }
  });
  for (const sink of sinks) fanout.add(sink);
  /** Each product's newest version published. */
  const latest = new Map<string, number>();
  const publish = (product: string) => {
    const productVersion = (latest.get(product) ?? 0) + 1;
    latest.set(product, productVersion);
    version++;
    const message: StateMessage = {
      product,
      version: productVersion,
      cursor: `e1.${version}`,
      json: JSON.stringify({ product, version: productVersion }),
      last: false,
    };
    topic.publish(message);
  };
  const allOnLatest = () =>
    sinks.every((sink) =>
      [...latest].every(([product, newest]) => sink.newest.get(product) === newest)
    );
  return { fanout, sinks, publish, allOnLatest };
}

Deno.test("a pass overtaken by newer news stops; the rest get only the newer news", async () => {
  const { fanout, sinks, publish, allOnLatest } = fakeFanout();
  try {
    publish("print"); // Its first slice goes out at once.
    publish("print"); // Before its second slice: the pass gives way.
    await eventually(allOnLatest, "every subscriber to have print@2");
    assert.deepEqual(sinks[0].got, ["print@1", "print@2"]);
    assert.deepEqual(sinks[DEFAULT_SLICE_SIZE - 1].got, ["print@1", "print@2"]);
    assert.deepEqual(sinks[DEFAULT_SLICE_SIZE].got, ["print@2"], "the pass stopped there");
    assert.deepEqual(sinks.at(-1)!.got, ["print@2"]);
  } finally {
    fanout.close();
  }
});

Deno.test("a pass overtaken by another product's news: what it had not delivered goes with it", async () => {
  const { fanout, sinks, publish, allOnLatest } = fakeFanout();
  try {
    publish("tote"); // Its first slice goes out at once.
    publish("print"); // Before its second slice: the pass gives way to print's news.
    await eventually(allOnLatest, "every subscriber to have tote@1 and print@1");
    assert.deepEqual(sinks.at(-1)!.got, ["print@1", "tote@1"], "one later pass carried both");
    assert.equal(sinks.reduce((sum, sink) => sum + sink.older, 0), 0);
  } finally {
    fanout.close();
  }
});

Deno.test("news of several products over overtaken passes: never older, all end on the newest", async () => {
  const { fanout, sinks, publish, allOnLatest } = fakeFanout();
  try {
    // A fixed interleaving: changes between slices, several in one turn, products that change
    // once (their news rides along with the newer news of others) and products that change often.
    const rounds = [
      ["print"],
      ["tote", "print"],
      [],
      ["pin"],
      ["print", "print", "tote"],
      [],
      [],
      ["tote"],
      ["print", "pin", "print"],
      ["tote"],
    ];
    for (const round of rounds) {
      for (const product of round) publish(product);
      await new Promise((resolve) => setTimeout(resolve, 0)); // One slice, or a pause, passes.
    }
    await eventually(allOnLatest, "every subscriber on the newest of every product");
    const older = sinks.reduce((sum, sink) => sum + sink.older, 0);
    assert.equal(older, 0, "no subscriber got an older state after a newer one");
    const last = sinks.at(-1)!.got;
    assert.ok(!last.includes("print@1"), `the last subscriber skipped print@1: ${last}`);
  } finally {
    fanout.close();
  }
});
