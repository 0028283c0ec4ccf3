/** A bare page that loads the join challenge's solver, for the browser test and the bench. */
/// <reference lib="dom" />
// (The DOM types above are for the function handed to `page.evaluate`, which runs in the page.)
import type { Browser, Page } from "playwright-core";
import type { JoinChallengeJson } from "../../lib/queue/join_challenge.ts";
import type * as Solver from "../../static/altcha_solver.js";

const SOLVER_PATH = new URL("../../static/altcha_solver.js", import.meta.url);

const PAGE = `<!doctype html>
<html lang="en"><title>solver</title>
<script type="module">
  import * as solver from "/altcha_solver.js";
  globalThis.solver = solver;
</script>
</html>`;

/** What the page reports of one solve. */
export interface PageSolve {
  /** The `altcha` payload it would post, or null when it found no number. */
  readonly payload: string | null;
  /** Time from the start of the search to its end, in the page's clock (ms). */
  readonly ms: number;
  /** The longest the page went without running a 10 ms interval timer, minus 10 ms. */
  readonly longestStallMs: number;
}

/** The page, open in a browser, that solves challenges. */
export interface SolverPage extends AsyncDisposable {
  /** The browser's page. */
  readonly page: Page;
  /**
   * Solves one challenge in the page.
   *
   * @param challenge The challenge, as the server made it.
   * @returns The payload and how long it took.
   */
  solve(challenge: JoinChallengeJson): Promise<PageSolve>;
}

/**
 * Serves the page on a free port of 127.0.0.1 (a secure context, so Web Crypto is there) and opens
 * it in the browser; disposing of it stops the server.
 *
 * @param browser A running browser.
 * @returns The open page.
 */
export async function openSolverPage(browser: Browser): Promise<SolverPage> {
  const solver = await Deno.readFile(SOLVER_PATH);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const { pathname } = new URL(request.url);
    if (pathname === "/altcha_solver.js") {
      return new Response(solver, { headers: { "content-type": "text/javascript" } });
    }
    return new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
  });
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${server.addr.port}/`);
  await page.waitForFunction(() => "solver" in globalThis);
  return {
    page,
    solve: (challenge) => page.evaluate(solveInPage, challenge),
    async [Symbol.asyncDispose]() {
      await page.close();
      await server.shutdown();
    },
  };
}

/** Runs in the page: solves, and times the search and the longest stall of the event loop. */
async function solveInPage(challenge: JoinChallengeJson): Promise<PageSolve> {
  const { solveChallenge, altchaPayload } = (globalThis as unknown as { solver: typeof Solver })
    .solver;
  let longestGap = 0;
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    longestGap = Math.max(longestGap, now - last);
    last = now;
  }, 10);
  const started = performance.now();
  const number = await solveChallenge(challenge);
  const ms = performance.now() - started;
  clearInterval(ticker);
  longestGap = Math.max(longestGap, performance.now() - last);
  return {
    payload: number === null ? null : altchaPayload(challenge, number),
    ms,
    longestStallMs: Math.max(0, longestGap - 10),
  };
}
