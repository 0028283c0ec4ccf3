/** A fake order service on a real socket: the test scripts each answer and reads every request. */
import { Webhook } from "standardwebhooks";

/** How the fake answers one request. */
export interface OrderReply {
  /** The status code. */
  readonly status: number;
  /** The body, sent as is; none sends an empty one. */
  readonly body?: string;
  /** Headers besides `content-type: application/json`, e.g. a redirect's `location`. */
  readonly headers?: Record<string, string>;
  /** Waits this long before answering, in ms (a slow service, not a test's synchronization). */
  readonly delayMs?: number;
  /**
   * A body made as it is read, in place of `body`: `{ bytes }` of filler, or `"trickle"`: its first
   * bytes at once, then nothing more until the fake closes (a hostile or broken service).
   */
  readonly stream?: { readonly bytes: number } | "trickle";
}

/**
 * What the test scripts for one request: a reply, a reply the test gives later (a promise it
 * resolves once the request has arrived), or `"hang"`: no answer until the caller gives up.
 */
export type ScriptedReply = OrderReply | Promise<OrderReply> | "hang";

/** One request the fake received. */
export interface OrderRequest {
  /** Its place among the requests, from 0. */
  readonly index: number;
  /** Its method. */
  readonly method: string;
  /** Its headers. */
  readonly headers: Headers;
  /** Its body, as text. */
  readonly body: string;
  /** Whether its Standard Webhooks signature holds under the fake's secret, checked by the package. */
  readonly signatureValid: boolean;
  /** The answer was the one given earlier to the same `Idempotency-Key`, not the script's. */
  readonly replayed: boolean;
}

/** A running fake order service. */
export interface FakeOrderService extends AsyncDisposable {
  /** Where to post orders. */
  readonly url: string;
  /** Every request received so far, in order of arrival. */
  readonly requests: readonly OrderRequest[];
  /** Idempotency key → the 2xx status it was booked with (once per key, as a real service). */
  readonly booked: ReadonlyMap<string, number>;
  /**
   * Scripts the answer to one request.
   *
   * @param index The request's place, from 0.
   * @param reply What to answer.
   */
  reply(index: number, reply: ScriptedReply): void;
  /**
   * Resolves once a request has arrived.
   *
   * @param index The request's place, from 0.
   * @returns The request.
   */
  arrived(index: number): Promise<OrderRequest>;
  /** Stops the fake: every hanging request ends, then the socket closes. */
  close(): Promise<void>;
}

/** What the fake answers when a test scripted nothing for a request. */
const DEFAULT_REPLY: OrderReply = { status: 201, body: '{"status":"booked"}' };

const encoder = new TextEncoder();

/**
 * Starts a fake order service on a free port of 127.0.0.1.
 *
 * Like a real idempotent service it decides each `Idempotency-Key` once: a key it answered with a
 * 2xx or a 4xx gets that same answer again, whatever the script says (a 5xx decides nothing, so a
 * retry is scripted anew). A scripted answer counts as decided when it is given, even if the caller
 * has gone by then (an order booked while its shop server was killed).
 *
 * @param options The secret signatures are checked with, and the answer to unscripted requests.
 * @returns The running fake; disposing it closes it.
 */
export function startOrderService(
  options: { secret: string; otherwise?: ScriptedReply },
): Promise<FakeOrderService> {
  const requests: OrderRequest[] = [];
  const script = new Map<number, ScriptedReply>();
  const arrivals: PromiseWithResolvers<OrderRequest>[] = [];
  const decided = new Map<string, OrderReply>();
  const booked = new Map<string, number>();
  const closing = new AbortController();
  const arrival = (index: number) => (arrivals[index] ??= Promise.withResolvers<OrderRequest>());

  /** The answer to a key, fixed the first time it is 2xx or 4xx. */
  const decide = (key: string, reply: OrderReply): OrderReply => {
    const earlier = decided.get(key);
    if (earlier !== undefined) return earlier;
    if (reply.status < 500) decided.set(key, reply);
    if (reply.status >= 200 && reply.status < 300) booked.set(key, reply.status);
    return reply;
  };

  const handle = async (request: Request): Promise<Response> => {
    const body = await request.text();
    const signatureValid = verifySignature(options.secret, body, request.headers);
    // From here to the push nothing awaits, so concurrent requests get distinct places.
    const key = request.headers.get("idempotency-key") ?? "";
    const index = requests.length;
    const earlier = decided.get(key);
    const recorded: OrderRequest = {
      index,
      method: request.method,
      headers: request.headers,
      body,
      signatureValid,
      replayed: earlier !== undefined,
    };
    requests.push(recorded);
    arrival(index).resolve(recorded);
    const scripted = earlier ?? script.get(index) ?? options.otherwise ?? DEFAULT_REPLY;
    if (scripted === "hang") {
      await whenAborted(AbortSignal.any([request.signal, closing.signal]));
      return new Response(null, { status: 503 });
    }
    // Decided as soon as the test gives it, whether or not the caller still listens.
    const reply = Promise.resolve(scripted).then((given) => decide(key, given));
    const given = await Promise.race([reply, whenAborted(closing.signal)]);
    if (given === undefined) return new Response(null, { status: 503 });
    if (given.delayMs) await pause(given.delayMs, closing.signal);
    const answer = given.stream === undefined
      ? given.body ?? null
      : given.stream === "trickle"
      ? trickle(closing.signal)
      : filler(given.stream.bytes);
    return new Response(answer, {
      status: given.status,
      headers: { "content-type": "application/json", ...given.headers },
    });
  };

  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({
    port: 0,
    hostname: "127.0.0.1",
    onListen: resolve,
    // A caller that hangs up mid-answer is part of the tests; there is nothing to report.
    onError: () => new Response(null, { status: 500 }),
  }, handle);
  const close = async () => {
    closing.abort();
    await server.shutdown();
  };
  return listening.then((address) => ({
    url: `http://127.0.0.1:${address.port}/orders`,
    requests,
    booked,
    reply(index, reply) {
      script.set(index, reply);
    },
    arrived: (index) => arrival(index).promise,
    close,
    [Symbol.asyncDispose]: close,
  }));
}

/**
 * Checks a Standard Webhooks signature with the `standardwebhooks` package, the way an order
 * service would (its 5-minute window on the timestamp included).
 *
 * @param secret The shared secret, `whsec_` and base64.
 * @param body The body as received.
 * @param headers The request's headers.
 * @returns True when `webhook-signature` signs `webhook-id.webhook-timestamp.body` under it.
 */
export function verifySignature(secret: string, body: string, headers: Headers): boolean {
  try {
    new Webhook(secret).verify(body, {
      "webhook-id": headers.get("webhook-id") ?? "",
      "webhook-timestamp": headers.get("webhook-timestamp") ?? "",
      "webhook-signature": headers.get("webhook-signature") ?? "",
    });
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes a test's Standard Webhooks secret from a readable seed.
 *
 * @param seed Any text of 16+ characters.
 * @returns `whsec_` and the base64 of the seed.
 */
export function webhookSecret(seed: string): string {
  return `whsec_${btoa(seed)}`;
}

/** A body whose first bytes come at once and the rest never, until the signal aborts. */
function trickle(signal: AbortSignal): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(encoder.encode('{"status":'));
    },
    async pull(controller) {
      await whenAborted(signal);
      controller.close();
    },
  });
}

/** A body of filler made chunk by chunk as it is read, so the fake holds no more than a chunk. */
function filler(bytes: number): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(64 * 1024).fill(0x78);
  let left = bytes;
  return new ReadableStream({
    pull(controller) {
      if (left <= 0) return controller.close();
      const next = chunk.subarray(0, Math.min(left, chunk.byteLength));
      left -= next.byteLength;
      controller.enqueue(next.slice());
    },
  }, { highWaterMark: 0 });
}

/** Resolves (with undefined) once a signal aborts. */
function whenAborted(signal: AbortSignal): Promise<undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(undefined), { once: true })
  );
}

/** Waits for a delay, or less when the signal aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
