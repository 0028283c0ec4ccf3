/** Runs Debian's `wrk` with a Lua script against a server and reads its figures and the server's CPU. */
import { cpuMs } from "./siege.ts";

/** What one wrk run measured. */
export interface WrkRun {
  /** Requests per second, as wrk printed it. */
  rps: number;
  /** Requests answered. */
  requests: number;
  /** Answers that were not 2xx or 3xx. */
  non2xx: number;
  /** wrk's median latency, in ms. */
  p50: number;
  /** wrk's 99th percentile latency, in ms. */
  p99: number;
  /** CPU time of the measured processes per request, in µs. */
  serverCpu: number;
}

/** How to run wrk. */
export interface WrkOptions {
  /** The URL to send to, on loopback. */
  url: string;
  /** The Lua script (its `request()` builds every request). */
  script: string;
  /** Keep-alive connections, all on one wrk thread (this machine's 2 cores are shared). */
  connections: number;
  /** How long to send. */
  seconds: number;
  /** The server processes whose CPU time is counted. */
  pids: number[];
  /** Arguments for the script, after `--`. */
  scriptArgs?: string[];
  /** Kills wrk when aborted. */
  signal?: AbortSignal;
}

/**
 * A latency that wrk printed in its `--latency` table, in ms.
 *
 * @param text wrk's output.
 * @param label The line's label, e.g. `99%`.
 * @returns The latency in ms.
 * @throws {Error} When wrk printed no such line.
 */
function wrkMs(text: string, label: string): number {
  const match = new RegExp(`^\\s*${label}\\s+([\\d.]+)(us|ms|s)\\s*$`, "m").exec(text);
  if (!match) throw new Error(`wrk printed no ${label} latency:\n${text}`);
  return Number(match[1]) * { us: 0.001, ms: 1, s: 1000 }[match[2] as "us" | "ms" | "s"];
}

/**
 * Runs `wrk -t1 --latency -s SCRIPT` and counts the servers' CPU time across it.
 *
 * @param options The URL, script, connections, length and the processes to count.
 * @returns Requests/s, requests, non-2xx answers, p50, p99 and CPU per request.
 * @throws {Error} When wrk fails or prints no figures.
 */
export async function runWrk(options: WrkOptions): Promise<WrkRun> {
  const cpu = () => options.pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
  const before = cpu();
  const { stdout, stderr, success } = await new Deno.Command("wrk", {
    args: [
      "-t1",
      `-c${options.connections}`,
      `-d${options.seconds}s`,
      "--latency",
      "-s",
      options.script,
      options.url,
      ...options.scriptArgs?.length ? ["--", ...options.scriptArgs] : [],
    ],
    signal: options.signal,
  }).output();
  const used = cpu() - before;
  const text = new TextDecoder().decode(stdout);
  if (!success) throw new Error(`wrk failed: ${new TextDecoder().decode(stderr)}${text}`);
  const requests = Number(/(\d+) requests in/.exec(text)?.[1]);
  if (!(requests > 0)) throw new Error(`wrk answered no requests:\n${text}`);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1]),
    requests,
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0),
    p50: wrkMs(text, "50%"),
    p99: wrkMs(text, "99%"),
    serverCpu: used / requests * 1000,
  };
}
