/** Answers long polls in throttled passes, so that a storm of changes cannot swamp the server. */
import type { Topic } from "./topic.ts";
import { PushThrottle, type PushThrottleOptions } from "./push_throttle.ts";
import { DEFAULT_SLICE_SIZE } from "./sliced_loop.ts";

/** One pass at a time, and no pause after it: see {@linkcode PollGate}. */
const POLL_THROTTLE_OPTIONS: PushThrottleOptions = { minCostMs: 1, spacing: 1 };

/** Polls released together: each one's answer, called with the state of their pass. */
type Batch = ((json: string) => void)[];

/**
 * Holds long polls that are ready to be answered and answers them in passes, each with the newest
 * state. A pass runs at once when the server is idle; after a costly one (many answers and the
 * re-polls they bring) the next waits until its answers are out ({@linkcode PushThrottle} with
 * spacing 1: a longer pause, as the push hubs take, would make a lone change that comes soon after
 * another wait for it). A long poll that is behind is still answered at the next pass, and always with the
 * newest state: under a burst of changes each poll is answered about once per pass instead of once
 * per change.
 *
 * A pass that runs at once answers all its polls in one go. A pass that had to wait (changes are
 * coming faster than the server answers) answers them in batches with a timer between, so that
 * other requests are answered in between. Always slicing would cost a lone change dearly: the
 * first polls' re-polls would be served between the slices, and the last poll would wait for them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Topic } from "./topic.ts";
 * const topic = new Topic("a", () => '{"version":0}', () => ({ epoch: "e", version: 0 }), { waiters: 0 });
 * const gate = new PollGate(topic);
 * const answered = Promise.withResolvers<string>();
 * gate.enter(answered.resolve);
 * assert.equal(await answered.promise, '{"version":0}');
 * ```
 */
export class PollGate {
  readonly #topic: Topic;
  readonly #now: () => number;
  readonly #throttle: PushThrottle;
  #batches: Batch[] = [];
  #asked = false;
  /** When the polls of the next pass asked for it. */
  #askedAt = 0;

  /**
   * Makes a gate with no poll waiting.
   *
   * @param topic The topic whose newest state each pass answers with.
   * @param now The clock, in ms: what a pass cost, and whether the next one had to wait.
   */
  constructor(topic: Topic, now: () => number = () => performance.now()) {
    this.#topic = topic;
    this.#now = now;
    this.#throttle = new PushThrottle(() => this.#pass(), POLL_THROTTLE_OPTIONS, now);
  }

  /**
   * Joins the next pass: a callback, not a promise, so that a poll woken by a change is answered
   * at the pass without a turn of its own on the way in.
   *
   * @param answer Called once, at the pass, with the newest state's JSON; it must not throw.
   */
  enter(answer: (json: string) => void): void {
    let batch = this.#batches.at(-1);
    if (batch === undefined || batch.length >= DEFAULT_SLICE_SIZE) {
      batch = [];
      this.#batches.push(batch);
    }
    batch.push(answer);
    if (!this.#asked) {
      this.#asked = true;
      // After the microtasks already queued: every poll that one change woke joins this pass.
      queueMicrotask(() => {
        this.#asked = false;
        this.#askedAt = this.#now();
        this.#throttle.request();
      });
    }
  }

  /** Answers every waiting poll now, whatever the pause. For shutdown. */
  flush(): void {
    this.#throttle.flush();
  }

  #pass(): Promise<void> | void {
    const batches = this.#batches;
    this.#batches = [];
    if (batches.length === 0) return;
    const waited = this.#now() - this.#askedAt > 1;
    // A promise even for one batch: the throttle then measures the pass until its answers are out.
    return (async () => {
      for (let i = 0; i < batches.length; i++) {
        if (i > 0 && waited) await new Promise((resolve) => setTimeout(resolve, 0));
        const json = this.#topic.opening();
        for (const answer of batches[i]) answer(json);
      }
    })();
  }
}
