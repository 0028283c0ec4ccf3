/** Pushes one topic's changes to its subscribers of one transport: conflated, sliced, never older. */
import type { StateMessage } from "./message.ts";
import { PushThrottle } from "./push_throttle.ts";
import { forEachSliced } from "./sliced_loop.ts";
import type { Topic } from "./topic.ts";

/**
 * The subscribers of one topic on one transport, and the push of its changes to them.
 *
 * Changes are conflated: a push carries the newest message of each product that changed since
 * the last one (one product for a product's topic, any number for the catalog's). When pushing to
 * every subscriber is costly, pushes are spaced ({@linkcode PushThrottle}) and run in slices, so
 * other requests are answered in between; a pass overtaken by newer news stops, and what it had
 * not delivered yet goes out with the newer news, so nobody gets an older state after a newer one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Topic } from "./topic.ts";
 * const topic = new Topic("a", () => "{}", () => ({ epoch: "e", version: 0 }), { waiters: 0 });
 * const got: string[] = [];
 * const fanout = new Fanout<string>(topic, (sink, messages) => got.push(sink + messages[0].json));
 * fanout.add("s1:");
 * topic.publish({ product: "a", version: 1, cursor: "e.1", json: "{1}", last: false });
 * assert.deepEqual(got, ["s1:{1}"]);
 * fanout.close();
 * ```
 */
export class Fanout<S> {
  /** The topic pushed. */
  readonly topic: Topic;
  readonly #sinks = new Set<S>();
  readonly #deliver: (sink: S, messages: readonly StateMessage[]) => void;
  /** Product → its newest message not pushed yet. */
  readonly #pending = new Map<string, StateMessage>();
  readonly #throttle = new PushThrottle(() => this.#push());
  readonly #unsubscribe: () => void;
  #passing = false;

  /**
   * Follows a topic for subscribers still to come.
   *
   * @param topic The topic whose changes are pushed.
   * @param deliver Sends messages to one subscriber; it must not throw.
   */
  constructor(topic: Topic, deliver: (sink: S, messages: readonly StateMessage[]) => void) {
    this.topic = topic;
    this.#deliver = deliver;
    this.#unsubscribe = topic.subscribe((message) => {
      this.#pending.set(message.product, message);
      this.#throttle.request();
    });
  }

  /** Subscribers now. */
  get size(): number {
    return this.#sinks.size;
  }

  /**
   * A push is under way (in slices) or waiting for its turn: it will reach every subscriber, so
   * one that catches up on its own now might get a state twice.
   */
  get passing(): boolean {
    return this.#passing || this.#pending.size > 0;
  }

  /**
   * Adds a subscriber; it should have been sent the topic's opening state already.
   *
   * @param sink The subscriber.
   */
  add(sink: S): void {
    this.#sinks.add(sink);
  }

  /**
   * Removes a subscriber.
   *
   * @param sink The subscriber.
   * @returns True when it was there.
   */
  delete(sink: S): boolean {
    return this.#sinks.delete(sink);
  }

  /** The subscribers now. */
  sinks(): IterableIterator<S> {
    return this.#sinks.values();
  }

  /** Pushes what waits at once and stops following the topic. For shutdown. */
  close(): void {
    this.#throttle.flush();
    this.#unsubscribe();
  }

  #push(): void | Promise<void> {
    const messages = [...this.#pending.values()];
    this.#pending.clear();
    if (messages.length === 0) return;
    let overtaken = false;
    const done = forEachSliced(this.#sinks, (sink) => this.#deliver(sink, messages), () => {
      overtaken = this.#pending.size > 0;
      return !overtaken;
    });
    if (done === undefined) return;
    this.#passing = true;
    return done.finally(() => {
      this.#passing = false;
      if (!overtaken) return;
      // The subscribers this pass did not reach get its news with the newer news.
      for (const message of messages) {
        if (!this.#pending.has(message.product)) this.#pending.set(message.product, message);
      }
    });
  }
}
