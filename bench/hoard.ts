/**
 * The hoard: 1,000 honest shoppers from 100 addresses (one add each, of a session of its own, at
 * a random moment of the drop's first second: `--spread`) and one script from one address with
 * 1,000 sessions (50 adds in flight from the first moment) race for a 10-unit product. Prints the
 * share of units the script got and the honest shoppers' p99 answer time, per pass and in all.
 *
 * Flags after `--` go to the server as they are, so one script measures every limit on or off,
 * and `--main` runs another checkout's main.ts (today's main has no per-address limit):
 *
 *     deno run -A bench/hoard.ts                                   # the defaults' limits
 *     deno run -A bench/hoard.ts -- --add-rate 0 --max-connections-per-client 0
 *     git worktree add /work/h-before 87ae08a
 *     deno run -A bench/hoard.ts --main /work/h-before/main.ts
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { DEMO_PRODUCT } from "../lib/server/demo_catalog.ts";
import {
  type AddressedAnswer,
  loopbackAddress,
  postCartFrom,
} from "../tests/support/from_address.ts";
import { spawnListening } from "../tests/support/server.ts";
import { percentile } from "./siege.ts";

const separator = Deno.args.indexOf("--");
const ownArgs = separator === -1 ? Deno.args : Deno.args.slice(0, separator);
const serverFlags = separator === -1 ? [] : Deno.args.slice(separator + 1);
const { values } = parseArgs({
  args: ownArgs,
  options: {
    main: { type: "string", default: join(import.meta.dirname!, "..", "main.ts") },
    passes: { type: "string", default: "3" },
    units: { type: "string", default: "10" },
    honest: { type: "string", default: "1000" },
    addresses: { type: "string", default: "100" },
    "script-sessions": { type: "string", default: "1000" },
    "script-concurrency": { type: "string", default: "50" },
    spread: { type: "string", default: "1000" },
  },
});
const [PASSES, UNITS, HONEST, ADDRESSES, SCRIPT_SESSIONS, SCRIPT_CONCURRENCY, SPREAD_MS] = [
  values.passes,
  values.units,
  values.honest,
  values.addresses,
  values["script-sessions"],
  values["script-concurrency"],
  values.spread,
].map(Number);
if (
  ![PASSES, UNITS, HONEST, ADDRESSES, SCRIPT_SESSIONS, SCRIPT_CONCURRENCY].every((n) =>
    Number.isSafeInteger(n) && n > 0
  ) || ADDRESSES > 250 || !(SPREAD_MS >= 0)
) {
  console.error(
    "usage: hoard.ts [--main FILE] [--passes N] [--units N] [--honest N] [--addresses 1..250]" +
      " [--script-sessions N] [--script-concurrency N] [--spread MS] [-- server flags]",
  );
  Deno.exit(2);
}
const PRODUCT = DEMO_PRODUCT.id;
/** The script's address: past every honest one. */
const SCRIPT_ADDRESS = loopbackAddress(ADDRESSES);

/** What one race found. */
interface Race {
  scriptUnits: number;
  honestUnits: number;
  honestP99: number;
  scriptStatuses: Map<number, number>;
}

async function race(): Promise<Race> {
  await using server = await spawnListening(values.main, [
    "--port",
    "0",
    "--data",
    ":memory:",
    "--inventory",
    String(UNITS),
    ...serverFlags,
  ]);
  const honestTimes: number[] = [];
  let honestUnits = 0;
  const honest = Array.from({ length: HONEST }, (_, i) => async () => {
    // People click within a moment of the drop, not all in the same millisecond as a script.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * SPREAD_MS));
    const sent = performance.now();
    const answer = await postCartFrom(
      loopbackAddress(i % ADDRESSES),
      server.url,
      "add",
      PRODUCT,
      crypto.randomUUID(),
    );
    honestTimes.push(performance.now() - sent);
    if (answer.status === 200) honestUnits++;
  });
  let next = 0;
  let scriptUnits = 0;
  const scriptStatuses = new Map<number, number>();
  const script = Array.from({ length: SCRIPT_CONCURRENCY }, () => async () => {
    while (next++ < SCRIPT_SESSIONS) {
      const answer: AddressedAnswer = await postCartFrom(
        SCRIPT_ADDRESS,
        server.url,
        "add",
        PRODUCT,
        crypto.randomUUID(),
      );
      scriptStatuses.set(answer.status, (scriptStatuses.get(answer.status) ?? 0) + 1);
      if (answer.status === 200) scriptUnits++;
    }
  });
  await Promise.all([...honest, ...script].map((start) => start()));
  return {
    scriptUnits,
    honestUnits,
    honestP99: percentile(Float64Array.from(honestTimes).sort(), 0.99),
    scriptStatuses,
  };
}

const flagsText = serverFlags.length === 0 ? "(defaults)" : serverFlags.join(" ");
console.log(`main: ${values.main}; server flags: ${flagsText}`);
console.log("| pass | script's units | honest units | honest p99 | script's answers |");
console.log("| --- | --- | --- | --- | --- |");
const races: Race[] = [];
for (let pass = 1; pass <= PASSES; pass++) {
  const found = await race();
  races.push(found);
  const answers = [...found.scriptStatuses].sort().map(([status, n]) => `${n}× ${status}`);
  console.log(
    `| ${pass} | ${found.scriptUnits}/${UNITS} | ${found.honestUnits} | ` +
      `${found.honestP99.toFixed(0)} ms | ${answers.join(", ")} |`,
  );
}
const script = races.reduce((sum, found) => sum + found.scriptUnits, 0);
const p99s = races.map((found) => found.honestP99).sort((a, b) => a - b);
console.log(
  `script's share: ${(100 * script / (UNITS * PASSES)).toFixed(0)} % of the units; ` +
    `honest p99 median ${p99s[Math.floor(p99s.length / 2)].toFixed(0)} ms`,
);
