/** Tests of the waiting room page's rules that need no browser: clock, pace, wait, panel words. */
import assert from "node:assert/strict";
import {
  durationText,
  estimateText,
  Pace,
  parseQueueStatus,
  parseQueueTicket,
  type QueueStatus,
  type QueueTicket,
  queueView,
  ServerClock,
  waitEstimate,
} from "../static/queue_rules.js";

const OPENS_AT = Date.UTC(2026, 11, 6, 18);

const STATUS: QueueStatus = {
  product: "moon-drop",
  phase: "open",
  opensAt: OPENS_AT,
  serverTime: OPENS_AT,
  commitment: "c".repeat(64),
  seed: "5".repeat(64),
  servingUpTo: 0,
  queued: 0,
  free: 10,
  held: 0,
  admitRate: 20,
  paused: false,
  version: 1,
  epoch: "e1",
};
const NONE: QueueTicket = { ticket: null, number: null, admitted: false, admissionExpiresAt: NaN };
const MINE: QueueTicket = { ...NONE, ticket: "t1" };
const UTC = { timeZone: "UTC" };

Deno.test("queueView: before the window, the opening and a countdown by the server's clock", () => {
  const status = { ...STATUS, phase: "before" as const };
  const view = queueView(status, NONE, OPENS_AT - 62 * 60_000 - 500, UTC);
  assert.equal(view.state, "before");
  assert.equal(view.status, "Opens at 18:00");
  assert.equal(view.detail, "in 1 h 02 min");
  assert.equal(view.canJoin, false);
  assert.equal(view.canAdd, false);
});

Deno.test("queueView: while queueing, Join is offered, then the draw's time is the news", () => {
  const status = { ...STATUS, phase: "queueing" as const, seed: null };
  const now = OPENS_AT - 90_000;
  const join = queueView(status, NONE, now, UTC);
  assert.equal(join.state, "join");
  assert.equal(join.canJoin, true);
  assert.equal(join.status, "The line is open — the draw is at 18:00");
  const waiting = queueView(status, MINE, now, UTC);
  assert.equal(waiting.state, "waiting");
  assert.equal(waiting.status, "You're in line — the draw is at 18:00");
  assert.equal(waiting.detail, "in 1 min 30 s");
  assert.equal(waiting.canJoin, false);
});

Deno.test("queueView: after the draw, the place in line and the wait, rough", () => {
  const ticket = { ...MINE, number: 1_300 };
  const view = queueView({ ...STATUS, servingUpTo: 66 }, ticket, OPENS_AT, UTC);
  assert.equal(view.state, "numbered");
  assert.equal(view.status, "You're number 1,234 in line");
  assert.equal(view.detail, "about 1 minute");
  // At the recent pace (2 a second) rather than the admit rate, the wait is ten times longer.
  const slow = queueView({ ...STATUS, servingUpTo: 66 }, ticket, OPENS_AT, { ...UTC, pace: 2 });
  assert.equal(slow.detail, "about 10 minutes");
  // A stalled line says why rather than promising a time.
  const stalled = queueView({ ...STATUS, servingUpTo: 66, free: 0, held: 3 }, ticket, OPENS_AT, {
    ...UTC,
    pace: 0,
  });
  assert.equal(stalled.detail, "All units are in carts: 3 may come back.");
  const paused = queueView({ ...STATUS, servingUpTo: 66, paused: true }, ticket, OPENS_AT, UTC);
  assert.equal(paused.detail, "The shop has paused the line for now.");
});

Deno.test("queueView: Add only during an admission that has not ended", () => {
  const ticket = { ...MINE, number: 3, admitted: true, admissionExpiresAt: OPENS_AT + 105_000 };
  const status = { ...STATUS, servingUpTo: 3 };
  const admitted = queueView(status, ticket, OPENS_AT, UTC);
  assert.equal(admitted.state, "admitted");
  assert.equal(admitted.canAdd, true);
  assert.equal(admitted.detail, "Your turn ends in 1 min 45 s");
  const ended = queueView(status, ticket, OPENS_AT + 105_000, UTC);
  assert.equal(ended.state, "done");
  assert.equal(ended.canAdd, false);
  assert.equal(ended.status, "Your turn has passed");
  const used = queueView(status, { ...ticket, admitted: false }, OPENS_AT, { inCart: true });
  assert.equal(used.status, "It's in your cart");
});

Deno.test("queueView: sold out wins over everything else", () => {
  const ticket = { ...MINE, number: 3, admitted: true, admissionExpiresAt: OPENS_AT + 60_000 };
  const view = queueView({ ...STATUS, phase: "soldOut" }, ticket, OPENS_AT, UTC);
  assert.equal(view.status, "Sold out");
  assert.equal(view.canAdd, false);
  assert.equal(view.canJoin, false);
});

Deno.test("ServerClock: the largest recent offset, since messages only arrive late", () => {
  const clock = new ServerClock(NaN, 0);
  assert.equal(clock.now(1_000), 1_000, "no reading: the device's clock");
  clock.observe(50_000, 1_000);
  clock.observe(40_000, 2_000); // a conflated message made long before it was sent
  assert.equal(clock.now(3_000), 52_000);
  // Only the latest readings count: a device whose clock was set forward follows.
  for (let i = 0; i < 8; i++) clock.observe(60_000 + i, 100_000 + i);
  assert.equal(clock.now(100_010), 60_010);
});

Deno.test("Pace: admissions a second over the last half minute, starting again on a gap", () => {
  const pace = new Pace();
  for (let second = 0; second <= 60; second++) pace.record(second * 1000, second * 3);
  assert.equal(pace.perSecond(), 3);
  pace.record(61_000, 10); // a new life of the store: the line went back
  assert.equal(pace.perSecond(), undefined);
});

Deno.test("waitEstimate and its words: never faster than the admit rate", () => {
  assert.equal(waitEstimate(100, 20, 50), 5_000);
  assert.equal(waitEstimate(100, 0, undefined), undefined);
  assert.equal(estimateText(59_999), "less than a minute");
  assert.equal(estimateText(90_000), "about 2 minutes");
  assert.equal(durationText(58_001), "59 s");
  assert.equal(durationText(59_001), "1 min 00 s");
  assert.equal(durationText(60_000), "1 min 00 s");
});

Deno.test("parsers refuse what is not theirs and read times either way", () => {
  assert.equal(parseQueueStatus({ ...STATUS, phase: "later" }), undefined);
  assert.equal(parseQueueStatus({ ...STATUS, opensAt: "soon" }), undefined);
  assert.equal(parseQueueStatus({ ...STATUS, servingUpTo: -1 }), undefined);
  assert.equal(parseQueueStatus(null), undefined);
  assert.equal(parseQueueStatus({ ...STATUS, opensAt: OPENS_AT })?.seed, STATUS.seed);
  const iso = new Date(OPENS_AT).toISOString();
  assert.equal(
    parseQueueTicket({ ...MINE, admissionExpiresAt: iso })?.admissionExpiresAt,
    OPENS_AT,
  );
  assert.equal(parseQueueTicket({ ticket: 5 }), undefined);
  assert.equal(parseQueueTicket({ ticket: "t", number: 1.5 }), undefined);
});
