/**
 * The join challenge's cost on both sides: how long Chromium's page takes to solve one with
 * static/altcha_solver.js at each difficulty (and the longest the page stalls meanwhile), and the
 * server's CPU per challenge made and per solution checked, with the memory of spent challenges.
 *
 *     deno run -A --v8-flags=--expose-gc bench/altcha_solve.ts     # ~2 min
 *     deno run -A bench/altcha_solve.ts --n 5 --difficulties 10000,50000
 */
import { parseArgs } from "node:util";
import process from "node:process";
import { JoinChallenge, type JoinChallengeJson } from "../lib/queue/join_challenge.ts";
import { MemorySpentChallenges } from "../lib/queue/spent_challenges.ts";
import { withoutSeparator } from "../lib/server/config.ts";
import { systemClock } from "../lib/time/clock.ts";
import { altchaPayload, solveChallenge } from "../static/altcha_solver.js";
import { chromiumMissing, launchChromium } from "../tests/support/browser.ts";
import { openSolverPage } from "../tests/support/solver_page.ts";

const { values } = parseArgs({
  args: withoutSeparator(Deno.args),
  options: {
    n: { type: "string", default: "20" },
    difficulties: { type: "string", default: "10000,50000,100000,500000" },
    "server-n": { type: "string", default: "5000" },
  },
});
const N = Number(values.n);
const SERVER_N = Number(values["server-n"]);
const DIFFICULTIES = values.difficulties.split(",").map(Number);
if (
  ![N, SERVER_N, ...DIFFICULTIES].every(Number.isSafeInteger) || N < 1 || N > 1000 ||
  SERVER_N < 100 || DIFFICULTIES.some((difficulty) => difficulty < 1)
) {
  console.error(
    "usage: altcha_solve.ts [--n 1..1000] [--difficulties 10000,...] [--server-n 100..]",
  );
  Deno.exit(2);
}
if (chromiumMissing) Deno.exit(1);

/** A percentile of sorted values, nearest rank. */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

/** The number a payload carries. */
function numberOf(payload: string): number {
  return JSON.parse(atob(payload)).number;
}

/** This process's CPU time, user and system, in µs. */
function cpuMicros(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

// The memory of spent challenges when full (the bound's cost), first, while the heap is quiet.
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.log("(run with --v8-flags=--expose-gc for the memory of spent challenges)");
} else {
  const FULL = 100_000;
  gc();
  const heapBefore = Deno.memoryUsage().heapUsed;
  const spent = new MemorySpentChallenges(FULL, systemClock);
  const expiresAt = Date.now() + 600_000;
  for (let i = 0; i < FULL; i++) {
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    spent.spend(Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(""), expiresAt);
  }
  gc();
  const perEntry = (Deno.memoryUsage().heapUsed - heapBefore) / spent.size;
  console.log(
    `spent challenges, ${spent.size.toLocaleString("en")} remembered: ` +
      `${perEntry.toFixed(0)} B each, ${((perEntry * FULL) / 2 ** 20).toFixed(1)} MiB in all\n`,
  );
}

console.log(`Chromium: ${N} challenges per difficulty, solved one after another in one page\n`);
console.log(
  "| difficulty | median | p90 | max | tries/s (median) | longest page stall | all accepted |",
);
console.log("| ---: | ---: | ---: | ---: | ---: | ---: | :---: |");
{
  await using browser = await launchChromium();
  await using solverPage = await openSolverPage(browser);
  for (const difficulty of DIFFICULTIES) {
    const joinChallenge = new JoinChallenge({ difficulty }, systemClock);
    const times: number[] = [];
    const rates: number[] = [];
    let longestStall = 0;
    let accepted = 0;
    for (let i = 0; i < N; i++) {
      const solved = await solverPage.solve(await joinChallenge.challenge());
      if (solved.payload === null) throw new Error(`difficulty ${difficulty}: no number found`);
      if (await joinChallenge.verify(solved.payload)) accepted++;
      times.push(solved.ms);
      rates.push((numberOf(solved.payload) + 1) / (solved.ms / 1000));
      longestStall = Math.max(longestStall, solved.longestStallMs);
    }
    times.sort((a, b) => a - b);
    rates.sort((a, b) => a - b);
    const ms = (value: number) => `${Math.round(value)} ms`;
    console.log(
      `| ${difficulty.toLocaleString("en")} | ${ms(percentile(times, 0.5))} | ` +
        `${ms(percentile(times, 0.9))} | ${ms(times.at(-1)!)} | ` +
        `${Math.round(percentile(rates, 0.5)).toLocaleString("en")} | ${ms(longestStall)} | ` +
        `${accepted === N ? "yes" : `${accepted}/${N}`} |`,
    );
  }
}

console.log(`\nServer (this process), ${SERVER_N} of each, one after another\n`);
const joinChallenge = new JoinChallenge({ difficulty: 50_000 }, systemClock);
const before = cpuMicros();
const started = performance.now();
for (let i = 0; i < SERVER_N; i++) await joinChallenge.challenge();
const createCpu = (cpuMicros() - before) / SERVER_N;
const createWall = ((performance.now() - started) * 1000) / SERVER_N;

// Solutions to check: challenges of difficulty 100, whose solving costs the bench little.
const easy = new JoinChallenge({ difficulty: 100 }, systemClock);
const solved: [JoinChallengeJson, number][] = [];
for (let i = 0; i < SERVER_N; i++) {
  const challenge = await easy.challenge();
  solved.push([challenge, (await solveChallenge(challenge))!]);
}
const wrong = solved.map(([challenge, number]) => altchaPayload(challenge, number + 1));
const right = solved.map(([challenge, number]) => altchaPayload(challenge, number));

/** CPU and wall time per check of each payload, after checking that each got the verdict. */
async function perCheck(payloads: string[], expected: boolean): Promise<[number, number]> {
  const cpuBefore = cpuMicros();
  const wallBefore = performance.now();
  for (const payload of payloads) {
    if (await easy.verify(payload) !== expected) throw new Error(`a check was not ${expected}`);
  }
  return [
    (cpuMicros() - cpuBefore) / payloads.length,
    ((performance.now() - wallBefore) * 1000) / payloads.length,
  ];
}
const [wrongCpu, wrongWall] = await perCheck(wrong, false);
const [rightCpu, rightWall] = await perCheck(right, true);
const [replayCpu, replayWall] = await perCheck(right, false);

console.log("| operation | CPU | wall |");
console.log("| --- | ---: | ---: |");
const us = (value: number) => `${value.toFixed(1)} µs`;
console.log(`| make a challenge | ${us(createCpu)} | ${us(createWall)} |`);
console.log(`| check a right solution (accepted) | ${us(rightCpu)} | ${us(rightWall)} |`);
console.log(`| check a wrong number (refused) | ${us(wrongCpu)} | ${us(wrongWall)} |`);
console.log(`| check a replay (refused) | ${us(replayCpu)} | ${us(replayWall)} |`);
