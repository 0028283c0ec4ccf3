/** The route table: URL patterns, each with its methods, guards and body, and the dispatch. */
import { type Clock, systemClock } from "../time/clock.ts";
import { DeadlineQueue } from "../time/deadline_queue.ts";
import { HttpError } from "./http_error.ts";
import { acceptedMediaType, readLimitedText, type RequestBody } from "./request_body.ts";
import { RequestHead } from "./request_head.ts";

/** What a handler gets: the request, its URL parsed once, the pattern's groups and its body. */
export interface RouteContext {
  /** The request. */
  readonly request: Request;
  /** Its URL. */
  readonly url: URL;
  /** Its head: the headers the routes read, taken once. */
  readonly head: RequestHead;
  /** The pattern's named groups, e.g. `{ id: "poster" }`. */
  readonly params: Readonly<Record<string, string | undefined>>;
  /** The body, read and checked as the route declares; undefined for routes that take none. */
  readonly body: RequestBody | undefined;
  /** The connection the request came on; absent for a request handed to the app in process. */
  readonly connection?: ConnectionInfo;
}

/** What a request's connection tells, as `Deno.serve` gives it to a handler. */
export interface ConnectionInfo {
  /** The peer's address: the client's, or a reverse proxy's. */
  readonly remoteAddr: Deno.NetAddr;
}

/**
 * A check before the handler; it throws an {@linkcode HttpError} (or returns a promise that
 * rejects with one) to refuse.
 */
export type Guard = (context: RouteContext) => void | Promise<void>;

/** What body a route takes. */
export interface BodyRule {
  /** The largest body, in bytes; larger gets 413. */
  readonly maxBytes: number;
  /** Media types accepted; others get 415. */
  readonly mediaTypes: readonly string[];
}

/** One route: a path and the methods it answers there. */
export interface Route {
  /** Its label in metrics (bounded: never the raw path). */
  readonly name: string;
  /** The path pattern, e.g. `/products/:id` (URLPattern syntax). */
  readonly path: string;
  /** Methods answered. A path may have several routes with other methods; the rest get 405. */
  readonly methods: readonly string[];
  /** Checks run in order before the body is read and the handler runs. */
  readonly guards?: readonly Guard[];
  /** The body the route takes, read (with the body deadline) before the handler runs. */
  readonly body?: BodyRule;
  /** Answers the request. */
  handle(context: RouteContext): Response | Promise<Response>;
}

/** The routes of one path. */
interface PathEntry {
  readonly pattern: URLPattern | undefined;
  readonly routes: Route[];
  /** Each method's route: the first of the path's that takes it. */
  readonly byMethod: Map<string, Route>;
  /** What a path without parameters matches, made once. */
  readonly match: Match;
}

const NO_PARAMS: Readonly<Record<string, string | undefined>> = Object.freeze({});

/** What a URL matched: the routes of its path and the pattern's groups. */
export interface Match {
  /** The routes of the path. */
  readonly routes: readonly Route[];
  /** Each method's route. */
  readonly byMethod: ReadonlyMap<string, Route>;
  /** The pattern's named groups. */
  readonly params: Readonly<Record<string, string | undefined>>;
}

/**
 * Finds the routes of a request's path and runs the one for its method: guards, body, handler.
 *
 * A path without parameters is looked up in a map; the others are tried in order with
 * `URLPattern`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const router = new Router([
 *   { name: "product", path: "/products/:id", methods: ["GET"], handle: ({ params }) => new Response(params.id) },
 * ]);
 * const url = new URL("http://x/products/poster");
 * const match = router.find(url)!;
 * assert.equal(Router.routeFor(match, "GET")?.name, "product");
 * const response = await router.run(match, new Request(url), url);
 * assert.equal(await response.text(), "poster");
 * ```
 */
export class Router {
  readonly #exact = new Map<string, PathEntry>();
  readonly #patterns: PathEntry[] = [];
  /** The deadlines of the bodies being read, one timer for them all. */
  readonly #bodyDeadlines: DeadlineQueue;

  /**
   * Creates the Router.
   *
   * @param routes The table.
   * @param bodyTimeoutMs How long a request body may take to arrive.
   * @param clock The time source of the body deadlines.
   */
  constructor(routes: readonly Route[], bodyTimeoutMs = 10_000, clock: Clock = systemClock) {
    this.#bodyDeadlines = new DeadlineQueue(bodyTimeoutMs, clock, { lingering: true });
    const byPath = new Map<string, PathEntry>();
    for (const route of routes) {
      let entry = byPath.get(route.path);
      if (entry === undefined) {
        const pattern = /[:*(){}]/.test(route.path)
          ? new URLPattern({ pathname: route.path })
          : undefined;
        const routes: Route[] = [];
        const byMethod = new Map<string, Route>();
        entry = { pattern, routes, byMethod, match: { routes, byMethod, params: NO_PARAMS } };
        byPath.set(route.path, entry);
        if (pattern === undefined) this.#exact.set(route.path, entry);
        else this.#patterns.push(entry);
      }
      entry.routes.push(route);
      for (const method of route.methods) {
        if (!entry.byMethod.has(method)) entry.byMethod.set(method, route);
      }
    }
  }

  /**
   * Finds the routes of a URL's path.
   *
   * @param url The request URL.
   * @returns The routes and the pattern's groups, or undefined when no path matches.
   */
  find(url: URL): Match | undefined {
    const exact = this.#exact.get(url.pathname);
    if (exact !== undefined) return exact.match;
    for (const { routes, byMethod, pattern } of this.#patterns) {
      const match = pattern!.exec({ pathname: url.pathname });
      if (match !== null) return { routes, byMethod, params: match.pathname.groups };
    }
    return undefined;
  }

  /**
   * The route of a match for a method.
   *
   * @param match What {@linkcode Router.find} returned.
   * @param method The request's method.
   * @returns The route, or undefined when the path does not take the method.
   */
  static routeFor(match: Match, method: string): Route | undefined {
    return match.byMethod.get(method);
  }

  /**
   * Runs the route for the request's method: its guards, its body, then its handler.
   *
   * @param match What {@linkcode Router.find} returned.
   * @param request The request.
   * @param url Its URL.
   * @param connection The connection it came on, when it came on one.
   * @param head Its head, when read already.
   * @returns The handler's response.
   * @throws {HttpError} 405 (with `Allow`) for a method the path does not take, or what a guard,
   * the body's rule or the handler throws.
   */
  run(
    match: Match,
    request: Request,
    url: URL,
    connection?: ConnectionInfo,
    head: RequestHead = RequestHead.of(request),
  ): Response | Promise<Response> {
    const route = Router.routeFor(match, request.method);
    if (route === undefined) {
      const allowed = match.routes.flatMap((route) => route.methods);
      throw new HttpError(405, `Method ${request.method} is not allowed here`, {
        headers: { allow: allowed.join(", ") },
      });
    }
    const bare: RouteContext = {
      request,
      url,
      head,
      params: match.params,
      body: undefined,
      connection,
    };
    const guards = route.guards ?? [];
    for (let i = 0; i < guards.length; i++) {
      // Most guards answer at once; only a promise is awaited.
      const checked = guards[i](bare);
      if (checked !== undefined) return this.#afterGuard(checked, route, bare, guards.slice(i + 1));
    }
    // Not async: a long-lived answer (a long poll) keeps no suspended frame of the router.
    if (route.body === undefined) return route.handle(bare);
    return this.#withBody(route, bare, route.body);
  }

  async #afterGuard(
    checked: Promise<void>,
    route: Route,
    bare: RouteContext,
    rest: readonly Guard[],
  ): Promise<Response> {
    await checked;
    for (const guard of rest) await guard(bare);
    if (route.body === undefined) return await route.handle(bare);
    return await this.#withBody(route, bare, route.body);
  }

  async #withBody(route: Route, bare: RouteContext, rule: BodyRule): Promise<Response> {
    const { request, url, head, params, connection } = bare;
    // The only async frame of the body's way: the rule checked and the text read here.
    const mediaType = acceptedMediaType(head.contentType, rule.mediaTypes);
    const text = await readLimitedText(
      request,
      rule.maxBytes,
      this.#bodyDeadlines,
      head.contentLength,
    );
    const body: RequestBody = { mediaType, text };
    return await route.handle({ request, url, head, params, body, connection });
  }

  /** Stops the timer of the body deadlines. For shutdown. */
  close(): void {
    this.#bodyDeadlines.close();
  }
}
