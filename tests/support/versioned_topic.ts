/** A product's topic for in-process tests of the realtime layer: its version is the test's to set. */
import { Topic } from "../../lib/realtime/topic.ts";

/**
 * Makes a topic whose state is `{"version":V}`, with V read from `state` at each use.
 *
 * @returns The topic, and the state the test moves.
 */
export function versionedTopic(): { state: { version: number }; topic: Topic } {
  const state = { version: 0 };
  const topic = new Topic(
    "print",
    () => JSON.stringify({ version: state.version }),
    () => ({ epoch: "e1", version: state.version }),
    { waiters: 0 },
  );
  return { state, topic };
}
