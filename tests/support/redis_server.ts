/** Debian's redis-server on a free port in a private folder, for the tests of the fleet. */
import { freePort } from "./free_port.ts";
import { programMissing } from "./missing_program.ts";

/** Where Debian's `redis-server` package puts the binary (`apt-get install -y redis-server`). */
export const REDIS_SERVER_PATH = "/usr/bin/redis-server";

/** True when redis-server is not installed: the Redis tests are then skipped, and say so loudly. */
export const redisMissing: boolean = programMissing({
  path: REDIS_SERVER_PATH,
  tests: "REDIS TESTS",
  install: "apt-get install -y redis-server",
  files: "tests/redis_*",
});

/** How long redis-server gets to start accepting connections. */
const START_TIMEOUT_MS = 10_000;

/** A redis-server a test started; it keeps its port and folder across restarts. */
export interface RunningRedis extends AsyncDisposable {
  /** Its URL, e.g. `redis://127.0.0.1:41234`. */
  readonly url: string;
  /** Its port on 127.0.0.1. */
  readonly port: number;
  /** Its folder (the append-only file lives here). */
  readonly dir: string;
  /** The process now running. */
  readonly process: Deno.ChildProcess;
  /**
   * Sends the process a signal (SIGKILL to crash it, SIGSTOP and SIGCONT to freeze it).
   *
   * @param signal The signal.
   * @returns Once a killed process has exited; at once for other signals.
   */
  signal(signal: Deno.Signal): Promise<void>;
  /** Starts redis-server again on the same port and folder, after it was killed. */
  restart(): Promise<void>;
  /** Everything it printed so far. */
  output(): string;
}

/**
 * Starts redis-server on a free port of 127.0.0.1, with no RDB snapshots and an append-only file
 * synced on every write (`appendfsync always`), and waits until it accepts connections.
 *
 * @param extraArgs More `--name value` settings for redis-server.
 * @returns The running server; disposing it kills it and removes its folder.
 * @throws {Error} When it exits before accepting, or is not ready within 10 s.
 */
export async function startRedis(extraArgs: string[] = []): Promise<RunningRedis> {
  const dir = await Deno.makeTempDir({ prefix: "redis_test_" });
  const port = freePort();
  const args = [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--appendonly",
    "yes",
    "--appendfsync",
    "always",
    "--maxmemory-policy",
    "noeviction",
    ...extraArgs,
  ];
  let text = "";
  let current: { process: Deno.ChildProcess; status: Promise<Deno.CommandStatus> };
  const launch = async () => {
    const process = new Deno.Command(REDIS_SERVER_PATH, {
      args,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const { promise: ready, resolve } = Promise.withResolvers<void>();
    const from = text.length;
    const decoder = new TextDecoder();
    const collect = async (stream: ReadableStream<Uint8Array>) => {
      for await (const chunk of stream) {
        text += decoder.decode(chunk, { stream: true });
        if (text.includes("Ready to accept connections", from)) resolve();
      }
    };
    const status = Promise.all([collect(process.stdout), collect(process.stderr)])
      .then(() => process.status);
    current = { process, status };
    const timeout = Promise.withResolvers<never>();
    const timer = setTimeout(
      () => timeout.reject(new Error(`redis-server not ready within 10 s:\n${text}`)),
      START_TIMEOUT_MS,
    );
    try {
      await Promise.race([
        ready,
        timeout.promise,
        status.then((s) => {
          throw new Error(`redis-server exited with ${s.code} before accepting:\n${text}`);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  };
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    get process() {
      return current.process;
    },
    async signal(signal) {
      current.process.kill(signal);
      if (signal === "SIGKILL") await current.status;
    },
    restart: launch,
    output: () => text,
    async [Symbol.asyncDispose]() {
      try {
        current.process.kill("SIGCONT");
        current.process.kill("SIGKILL");
      } catch {
        // Already exited.
      }
      await current.status;
      await Deno.remove(dir, { recursive: true });
    },
  };
}
