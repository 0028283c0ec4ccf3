/** The queue's join challenge: real altcha-lib challenges, solved by altcha-lib and by the page. */
import assert from "node:assert/strict";
import { createChallenge, solveChallenge as altchaSolve } from "altcha-lib/v1";
import {
  DEFAULT_CHALLENGE_TTL_MS,
  JoinChallenge,
  type JoinChallengeJson,
} from "../lib/queue/join_challenge.ts";
import { MemorySpentChallenges } from "../lib/queue/spent_challenges.ts";
import { systemClock } from "../lib/time/clock.ts";
import { altchaPayload, solveChallenge } from "../static/altcha_solver.js";
import { browserTest } from "./support/browser.ts";
import { FakeClock } from "./support/fake_clock.ts";
import { openSolverPage } from "./support/solver_page.ts";

/** Small enough that a test solves many in milliseconds, large enough to be a real search. */
const DIFFICULTY = 2_000;

/** Solves with altcha-lib's own solver, and posts as the ALTCHA widget does. */
async function solvedByAltcha(challenge: JoinChallengeJson): Promise<string> {
  const solution = await altchaSolve(
    challenge.challenge,
    challenge.salt,
    "SHA-256",
    challenge.maxnumber,
  ).promise;
  assert.ok(solution, "altcha-lib found no number");
  return btoa(JSON.stringify({ ...challenge, number: solution.number, took: solution.took }));
}

/** Solves with the page's solver, and posts as the page does. */
async function solvedByPage(challenge: JoinChallengeJson): Promise<string> {
  const number = await solveChallenge(challenge);
  assert.notEqual(number, null, "the page's solver found no number");
  return altchaPayload(challenge, number!);
}

/** A payload of the challenge's fields with some replaced. */
function payloadWith(challenge: JoinChallengeJson, fields: Record<string, unknown>): string {
  return btoa(JSON.stringify({ ...challenge, ...fields }));
}

Deno.test("a challenge is ALTCHA's JSON with maxnumber = the difficulty and an expiry in its salt", async () => {
  const clock = new FakeClock();
  const challenge = await new JoinChallenge({ difficulty: 50_000 }, clock).challenge();
  assert.deepEqual(Object.keys(challenge).sort(), [
    "algorithm",
    "challenge",
    "maxnumber",
    "salt",
    "signature",
  ]);
  assert.equal(challenge.algorithm, "SHA-256");
  assert.equal(challenge.maxnumber, 50_000);
  assert.match(challenge.challenge, /^[0-9a-f]{64}$/);
  assert.match(challenge.signature, /^[0-9a-f]{64}$/);
  const expires = Math.floor((clock.now() + DEFAULT_CHALLENGE_TTL_MS) / 1000);
  assert.match(challenge.salt, new RegExp(`^[0-9a-f]{24}\\?expires=${expires}&$`));
});

Deno.test("a solution found by altcha-lib's solver is accepted once, then refused as a replay", async () => {
  const joinChallenge = new JoinChallenge({ difficulty: DIFFICULTY }, systemClock);
  const payload = await solvedByAltcha(await joinChallenge.challenge());
  assert.equal(await joinChallenge.verify(payload), true);
  assert.equal(await joinChallenge.verify(payload), false);
});

Deno.test("a solution found by the page's solver is accepted once, then refused as a replay", async () => {
  const joinChallenge = new JoinChallenge({ difficulty: DIFFICULTY }, systemClock);
  for (let i = 0; i < 20; i++) {
    const challenge = await joinChallenge.challenge();
    const payload = await solvedByPage(challenge);
    assert.equal(await joinChallenge.verify(payload), true, `challenge ${i}: ${challenge.salt}`);
    assert.equal(await joinChallenge.verify(payload), false, `challenge ${i} replayed`);
  }
});

Deno.test("the page's solver finds the number altcha-lib hid, at either end of the range", async () => {
  // Across the edges of a batch of digests (32 at once).
  const maxnumber = 5_000;
  for (const number of [0, 1, 31, 32, 33, 4095, 4096, maxnumber - 1, maxnumber]) {
    const challenge = await createChallenge({ hmacKey: "key", maxnumber, number });
    assert.equal(await solveChallenge({ ...challenge, maxnumber }), number);
  }
});

Deno.test("the page's solver stops at maxnumber when the number lies beyond it, and on abort", async () => {
  const beyond = await createChallenge({ hmacKey: "key", maxnumber: 100, number: 101 });
  assert.equal(await solveChallenge({ ...beyond, maxnumber: 100 }), null);
  const far = await createChallenge({ hmacKey: "key", maxnumber: 1e9, number: 1e9 });
  const controller = new AbortController();
  const solving = solveChallenge({ ...far, maxnumber: 1e9 }, { signal: controller.signal });
  controller.abort();
  assert.equal(await solving, null);
  await assert.rejects(
    solveChallenge({ ...beyond, algorithm: "SHA-1", maxnumber: 100 }),
    TypeError,
  );
});

Deno.test("concurrent posts of one solution: exactly one is accepted", async () => {
  const joinChallenge = new JoinChallenge({ difficulty: DIFFICULTY }, systemClock);
  const payload = await solvedByPage(await joinChallenge.challenge());
  const verdicts = await Promise.all(
    Array.from({ length: 10 }, () => joinChallenge.verify(payload)),
  );
  assert.equal(verdicts.filter(Boolean).length, 1);
});

Deno.test("wrong, tampered, foreign and malformed solutions are refused", async () => {
  const joinChallenge = new JoinChallenge({ difficulty: DIFFICULTY }, systemClock);
  const challenge = await joinChallenge.challenge();
  const number = await solveChallenge(challenge);
  assert.notEqual(number, null);
  const later = challenge.salt.replace(/expires=(\d+)/, (_, s) => `expires=${Number(s) + 3600}`);
  const refused: [string, unknown][] = [
    ["the wrong number", payloadWith(challenge, { number: number! + 1 })],
    ["a number as text", payloadWith(challenge, { number: String(number) })],
    ["a negative number", payloadWith(challenge, { number: -1 })],
    ["a later expiry", payloadWith(challenge, { number, salt: later })],
    ["another signature", payloadWith(challenge, { number, signature: "0".repeat(64) })],
    ["another algorithm", payloadWith(challenge, { number, algorithm: "SHA-1" })],
    ["no signature", payloadWith(challenge, { number, signature: undefined })],
    ["no number", payloadWith(challenge, {})],
    ["not base64", "%%%"],
    ["base64 of not JSON", btoa("{")],
    ["base64 of null", btoa("null")],
    ["base64 of a number", btoa("12")],
    ["too long", btoa(JSON.stringify({ ...challenge, number, pad: "x".repeat(2000) }))],
    ["the empty string", ""],
    ["missing", undefined],
    ["not a string", { ...challenge, number }],
  ];
  for (const [what, payload] of refused) {
    assert.equal(await joinChallenge.verify(payload), false, what);
  }
  // None of them spent the challenge: the right solution still goes through, once.
  assert.equal(await joinChallenge.verify(altchaPayload(challenge, number!)), true);
});

Deno.test("a challenge signed with another key is refused; one with the same key is accepted", async () => {
  const ours = new JoinChallenge({ difficulty: DIFFICULTY, hmacKey: "fleet key" }, systemClock);
  const sameKey = new JoinChallenge({ difficulty: DIFFICULTY, hmacKey: "fleet key" }, systemClock);
  const stranger = new JoinChallenge({ difficulty: DIFFICULTY }, systemClock);
  assert.equal(await ours.verify(await solvedByPage(await stranger.challenge())), false);
  assert.equal(await ours.verify(await solvedByPage(await sameKey.challenge())), true);
});

Deno.test("a solution posted after its challenge expired is refused, on the injected clock", async () => {
  const clock = new FakeClock(Date.UTC(2026, 11, 6, 18));
  const joinChallenge = new JoinChallenge({ difficulty: DIFFICULTY, ttlMs: 60_000 }, clock);
  const onTime = await solvedByPage(await joinChallenge.challenge());
  const late = await solvedByPage(await joinChallenge.challenge());
  clock.advance(59_999);
  assert.equal(await joinChallenge.verify(onTime), true);
  clock.advance(1);
  assert.equal(await joinChallenge.verify(late), false);
});

Deno.test("solved challenges are forgotten once expired, and past the bound, oldest first", async () => {
  const clock = new FakeClock();
  const spent = new MemorySpentChallenges(3, clock);
  const joinChallenge = new JoinChallenge({ difficulty: 100, ttlMs: 60_000, spent }, clock);
  const payloads: string[] = [];
  for (let i = 0; i < 4; i++) payloads.push(await solvedByPage(await joinChallenge.challenge()));
  for (const payload of payloads) assert.equal(await joinChallenge.verify(payload), true);
  assert.equal(spent.size, 3, "the bound holds");
  // The oldest was forgotten to keep the bound: the documented price of bounded memory.
  assert.equal(await joinChallenge.verify(payloads[0]), true);
  assert.equal(await joinChallenge.verify(payloads[3]), false);
  clock.advance(60_000);
  const fresh = await solvedByPage(await joinChallenge.challenge());
  assert.equal(await joinChallenge.verify(fresh), true);
  assert.equal(spent.size, 1, "every expired challenge was forgotten");
});

Deno.test("a difficulty, time to live or key that makes no sense is refused at the start", () => {
  for (const difficulty of [0, -1, 1.5, NaN, Infinity, 2 ** 32]) {
    assert.throws(
      () => new JoinChallenge({ difficulty }, systemClock),
      RangeError,
      `${difficulty}`,
    );
  }
  assert.throws(() => new JoinChallenge({ difficulty: 10, ttlMs: 0 }, systemClock), RangeError);
  assert.throws(() => new JoinChallenge({ difficulty: 10, hmacKey: "" }, systemClock), RangeError);
  assert.throws(() => new MemorySpentChallenges(0, systemClock), RangeError);
});

browserTest(
  "Chromium solves real challenges with the page's solver, and the server accepts them",
  async (browser) => {
    await using solverPage = await openSolverPage(browser);
    const joinChallenge = new JoinChallenge({ difficulty: 10_000 }, systemClock);
    for (let i = 0; i < 3; i++) {
      const { payload } = await solverPage.solve(await joinChallenge.challenge());
      assert.equal(await joinChallenge.verify(payload), true, `solve ${i}`);
    }
  },
);
