/** `POST /cart` from C keep-alive clients for a while: requests per second and latency percentiles. */
import { withoutSeparator } from "../lib/server/config.ts";
import { parseArgs } from "node:util";
import { CartChanger } from "./cart_changer.ts";

const USAGE = `Usage: deno run --allow-net bench/siege.ts [options]

  --url URL        the server, on loopback only       (default http://127.0.0.1:8000)
  -c N             concurrent keep-alive clients      (default 10, as siege -c10)
  --seconds S      how long to send                   (default 10)
  --pid PID        the server process: also print its CPU time per request, a figure that
                   other work on the machine disturbs less than requests per second

Each client is one shopper adding and removing its unit, so every request is a change;
the server needs --inventory of at least C, and --max-holds-per-client 0 (they share one address).`;

/**
 * CPU time a process has used so far (user + system), from /proc/PID/stat.
 *
 * @param pid The process.
 * @returns Milliseconds, in steps of 10.
 */
export function cpuMs(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticksPerMs = 100 / 1000; // USER_HZ is 100 on Linux.
  return (Number(fields[11]) + Number(fields[12])) / ticksPerMs;
}

/**
 * A percentile of sorted times (nearest rank, no interpolation).
 *
 * @param sorted The times, ascending.
 * @param p The fraction, e.g. 0.99.
 * @returns The time at that rank.
 */
export function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: withoutSeparator(Deno.args),
    options: {
      url: { type: "string", default: "http://127.0.0.1:8000" },
      c: { type: "string", short: "c", default: "10" },
      seconds: { type: "string", default: "10" },
      pid: { type: "string" },
      help: { type: "boolean" },
    },
  });
  const url = new URL(values.url);
  const clients = Number(values.c);
  const seconds = Number(values.seconds);
  if (
    values.help || !["127.0.0.1", "localhost", "[::1]"].includes(url.hostname) ||
    !Number.isSafeInteger(clients) || clients < 1 || !(seconds > 0 && seconds <= 600)
  ) {
    console.log(USAGE);
    Deno.exit(values.help ? 0 : 2);
  }
  const pid = values.pid === undefined ? undefined : Number(values.pid);
  const changers = await Promise.all(Array.from({ length: clients }, () => CartChanger.open(url)));
  const times: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const until = performance.now() + seconds * 1000;
  const started = performance.now();
  const cpuBefore = pid === undefined ? 0 : cpuMs(pid);
  await Promise.all(changers.map(async (changer) => {
    while (performance.now() < until) {
      const sent = performance.now();
      try {
        await changer.change();
        times.push(performance.now() - sent);
      } catch (error) {
        errors++;
        firstError ??= String(error);
        break;
      }
    }
  }));
  const elapsed = (performance.now() - started) / 1000;
  const cpu = pid === undefined ? undefined : (cpuMs(pid) - cpuBefore) / times.length * 1000;
  await Promise.all(changers.map((changer) => changer.release().catch(() => {})));
  changers.forEach((changer) => changer.close());
  const sorted = Float64Array.from(times).sort();
  const ms = (value: number) => `${value.toFixed(2)} ms`;
  console.log(`POST /cart, ${clients} keep-alive clients, ${elapsed.toFixed(1)} s, ${url.href}`);
  console.log(
    "| requests/s | p50 | p99 | max | requests | errors | server CPU per request |\n" +
      "| --- | --- | --- | --- | --- | --- | --- |",
  );
  console.log(
    `| ${Math.round(times.length / elapsed)} | ${ms(percentile(sorted, 0.5))} | ` +
      `${ms(percentile(sorted, 0.99))} | ${ms(sorted.at(-1) ?? 0)} | ${times.length} | ` +
      `${errors}${firstError ? ` (${firstError})` : ""} | ` +
      `${cpu === undefined ? "-" : `${cpu.toFixed(1)} µs`} |`,
  );
  if (errors > 0) Deno.exit(1);
}
