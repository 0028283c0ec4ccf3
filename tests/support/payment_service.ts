/**
 * A fake order service that takes payment on its own page, on a real socket: it answers each
 * checkout 202 with its payment page, serves that page, sends the shop the signed callbacks, and
 * hears the shop's `order.expired` calls.
 */
import { signedHeaders } from "../../lib/orders/order_webhook.ts";
import { verifySignature } from "./order_service.ts";

/** One call the shop made to the fake. */
export interface ShopCall {
  /** `checkout` for an order to book, or the event's `type` (`order.expired`). */
  readonly type: string;
  /** Its body, parsed. */
  readonly body: Record<string, unknown>;
  /** Its headers. */
  readonly headers: Headers;
  /** Whether its Standard Webhooks signature holds under the fake's secret. */
  readonly signatureValid: boolean;
  /** The status the fake answered it with. */
  readonly status: number;
}

/** How a test signs a callback: the fake's secret and the time by default. */
export interface CallbackSigning {
  /** Another secret (a wrong one). */
  readonly secret?: string;
  /** Another time, in ms since the epoch (a stale one). */
  readonly at?: number;
  /** Another body; `{}` by default. */
  readonly body?: string;
}

/** A running fake payment service. */
export interface FakePaymentService extends AsyncDisposable {
  /** Where the shop posts orders (its `--order-webhook`). */
  readonly url: string;
  /** Every call the shop made, in order. */
  readonly calls: readonly ShopCall[];
  /** The shop the callbacks go to; set once the shop has started. */
  shopUrl: string;
  /** While true, the fake answers the shop's events (`order.expired`) 503, as a service down. */
  down: boolean;
  /**
   * While true, the fake sends the shop the `paid` callback of each order before it answers the
   * checkout 202 (a saved card, paid at once), and keeps the shop's answer in `earlyAnswers`.
   */
  paysBeforeAnswering: boolean;
  /** The shop's answers to the callbacks sent before the 202, with their `Retry-After`. */
  readonly earlyAnswers: { status: number; retryAfter: string | null }[];
  /**
   * Resolves once the shop has made a call of a type.
   *
   * @param type `checkout` or an event's type.
   * @returns The first such call.
   */
  called(type: string): Promise<ShopCall>;
  /**
   * Resolves once the fake has answered a call of a type with a status.
   *
   * @param type `checkout` or an event's type.
   * @param status The status it answered.
   * @returns The first such call.
   */
  answered(type: string, status: number): Promise<ShopCall>;
  /**
   * Sends the shop a callback for an order, signed as the test says.
   *
   * @param orderId The order.
   * @param how `paid` or `cancelled`.
   * @param signing Another secret, time or body.
   * @returns The shop's answer and its parsed body.
   */
  callback(
    orderId: string,
    how: "paid" | "cancelled",
    signing?: CallbackSigning,
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  /** Stops the fake. */
  close(): Promise<void>;
}

/**
 * Starts the fake on a free port of 127.0.0.1. Its payment page, `GET /pay/{orderId}`, has one
 * button, "Pay now", whose form posts to `/pay/{orderId}`: the fake then sends the shop the signed
 * `paid` callback and sends the browser back to the shop's page.
 *
 * @param secret The Standard Webhooks secret it shares with the shop.
 * @returns The running fake; disposing it closes it.
 */
export async function startPaymentService(secret: string): Promise<FakePaymentService> {
  const calls: ShopCall[] = [];
  const waiters = new Map<string, PromiseWithResolvers<ShopCall>>();
  const waiter = (type: string) => {
    let found = waiters.get(type);
    if (found === undefined) waiters.set(type, found = Promise.withResolvers<ShopCall>());
    return found;
  };
  let base = "";

  const fake: Omit<FakePaymentService, "url"> = {
    calls,
    shopUrl: "",
    down: false,
    paysBeforeAnswering: false,
    earlyAnswers: [],
    called: (type) => waiter(type).promise,
    answered: (type, status) => waiter(`${type} ${status}`).promise,
    async callback(orderId, how, signing = {}) {
      const body = signing.body ?? "{}";
      const id = `${orderId}.${how}`;
      const response = await fetch(new URL(`orders/${orderId}/${how}`, fake.shopUrl), {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...signedHeaders(signing.secret ?? secret, id, body, signing.at ?? Date.now()),
        },
        body,
      });
      return { status: response.status, body: await response.json() };
    },
    close: () => server.shutdown(),
    [Symbol.asyncDispose]: () => server.shutdown(),
  };

  const handle = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const paying = /^\/pay\/([\w-]+)$/.exec(url.pathname);
    if (paying !== null && request.method === "GET") {
      return new Response(
        `<!doctype html><title>Pay</title><h1>Pay for order ${paying[1]}</h1>` +
          `<form method="post"><button id="pay">Pay now</button></form>`,
        { headers: { "content-type": "text/html; charset=utf-8" } },
      );
    }
    if (paying !== null && request.method === "POST") {
      const { status } = await fake.callback(paying[1], "paid");
      if (status !== 200) return new Response(`the shop answered ${status}`, { status: 502 });
      return Response.redirect(fake.shopUrl, 303);
    }
    const text = await request.text();
    if (url.pathname !== "/orders") {
      // Posted elsewhere (a wrong --order-webhook): refused, with a reason.
      return Response.json({ error: `no order desk at ${url.pathname}` }, { status: 422 });
    }
    const body = JSON.parse(text);
    const type = typeof body.type === "string" ? body.type : "checkout";
    const status = type === "checkout" ? 202 : fake.down ? 503 : 204;
    const call: ShopCall = {
      type,
      body,
      headers: request.headers,
      signatureValid: verifySignature(secret, text, request.headers),
      status,
    };
    calls.push(call);
    waiter(call.type).resolve(call);
    waiter(`${call.type} ${status}`).resolve(call);
    if (call.type !== "checkout") return new Response(null, { status });
    if (fake.paysBeforeAnswering) {
      const response = await fetch(new URL(`orders/${body.orderId}/paid`, fake.shopUrl), {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...signedHeaders(secret, `${body.orderId}.paid`, "{}", Date.now()),
        },
        body: "{}",
      });
      await response.body?.cancel();
      fake.earlyAnswers.push({
        status: response.status,
        retryAfter: response.headers.get("retry-after"),
      });
    }
    return Response.json({ paymentUrl: `${base}/pay/${body.orderId}` }, { status: 202 });
  };

  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: resolve }, handle);
  const address = await listening;
  base = `http://127.0.0.1:${address.port}`;
  return Object.assign(fake, { url: `${base}/orders` });
}
