/** Long polling: hold the request until its topic changes or time runs out. */
import type { Since } from "./message.ts";
import type { DeadlineQueue } from "../time/deadline_queue.ts";
import type { PollGate } from "./poll_gate.ts";
import type { Topic } from "./topic.ts";

// A state is JSON, and never cached: the next poll must reach us. Made once for every answer.
const STATE_INIT: ResponseInit = {
  headers: { "content-type": "application/json", "cache-control": "no-store" },
};

/** Long polls being answered now (waiting, or passing their gate). */
export interface PollCount {
  /** Their number. */
  open: number;
}

/**
 * Answers a long poll: at once when the client is elsewhere, else at the next change or timeout.
 *
 * A waiting poll holds one waiter on its topic, one entry in the shared deadline queue and one
 * listener on `request.signal`: a client that disconnects takes its waiter and its entry out at
 * once. One callback is all three. The answer goes out at the next pass of the topic's
 * {@linkcode PollGate}: at once on an idle server, conflated with other changes under a storm of
 * them; always with the newest state. No async function: a waiting poll keeps no suspended frame,
 * and its answer is made in the gate's pass.
 *
 * @param topic The topic polled.
 * @param gate The topic's gate.
 * @param deadlines Answers the poll with the current state when its time runs out.
 * @param request The incoming request.
 * @param since Where the client stands.
 * @param polls Counts this poll while it is answered.
 * @returns The topic's state with `Cache-Control: no-store`.
 */
export function longPollResponse(
  topic: Topic,
  gate: PollGate,
  deadlines: DeadlineQueue,
  request: Request,
  since: Since | undefined,
  polls: PollCount,
): Promise<Response> {
  const { signal } = request;
  const { promise, resolve } = Promise.withResolvers<Response>();
  const answer = (json: string) => {
    polls.open--;
    resolve(new Response(json, STATE_INIT));
  };
  let waiting = true;
  // Woken by a change, its deadline or its client leaving, whichever comes first: it leaves the
  // topic and the queue, and joins the gate's next pass, which answers it.
  const wake = () => {
    if (!waiting) return;
    waiting = false;
    topic.leave(wake);
    deadlines.delete(wake);
    gate.enter(answer);
  };
  polls.open++;
  if (!signal.aborted && topic.wait(since, wake)) {
    deadlines.add(wake);
    // Left on the signal once answered: an abort after that finds the poll woken already, and
    // the signal goes with the request.
    signal.addEventListener("abort", wake, { once: true });
  } else {
    waiting = false;
    gate.enter(answer);
  }
  return promise;
}
