/** Debian's nginx running docs/nginx.conf in front of test servers, on a free port, always stopped. */
import { join } from "node:path";
import { freePort } from "./free_port.ts";
import { programMissing } from "./missing_program.ts";

/** Where Debian's `nginx` package puts the binary (`apt-get install -y nginx`). */
export const NGINX_PATH = "/usr/sbin/nginx";

/** The deployment config of docs/operations.md (Behind nginx), which the tests run as it is. */
export const NGINX_CONF = join(import.meta.dirname!, "..", "..", "docs", "nginx.conf");

/** True when nginx is not installed: its tests are then skipped, and say so loudly. */
export const nginxMissing: boolean = programMissing({
  path: NGINX_PATH,
  tests: "NGINX TESTS",
  install: "apt-get install -y nginx",
  files: "tests/nginx_test.ts",
});

/** How long nginx gets to start listening, and to stop. */
const NGINX_TIMEOUT_MS = 10_000;

/** Where the test puts what the config names: a port, the upstream servers, a private folder. */
interface Placement {
  /** The port to listen on, on 127.0.0.1. */
  port: number;
  /** Each test server's `host:port`. */
  upstreams: readonly string[];
  /** The folder for the pid file, logs and temporary files. */
  dir: string;
}

/** An nginx in front of test servers. */
export interface RunningNginx extends AsyncDisposable {
  /** Its URL, e.g. `http://127.0.0.1:41234/`. */
  readonly url: string;
  /** The origin a browser on its page sends, e.g. `http://127.0.0.1:41234`. */
  readonly origin: string;
  /** Its error log so far. */
  errorLog(): Promise<string>;
}

/**
 * Starts nginx on docs/nginx.conf in front of one server or several (its `upstream` block lists
 * them), and waits until it accepts connections.
 *
 * Everything nginx writes (pid, logs, temporary files) goes to a new temporary folder, removed on
 * dispose. When started as root, nginx runs its workers as the config's `user` (www-data), so the
 * folder is made readable to them.
 *
 * @param upstreams The server's URL, or each server's.
 * @returns The running nginx; disposing it stops nginx (SIGTERM) and waits for it to exit.
 * @throws {Error} When nginx exits before listening, or is not listening within 10 s; the error
 * holds its error log.
 */
export async function startNginx(upstreams: string | readonly string[]): Promise<RunningNginx> {
  const dir = await Deno.makeTempDir({ prefix: "nginx_test_" });
  await Deno.chmod(dir, 0o755);
  const port = freePort();
  const conf = join(dir, "nginx.conf");
  const errorLog = join(dir, "error.log");
  await Deno.writeTextFile(
    conf,
    placeNginxConf(await Deno.readTextFile(NGINX_CONF), {
      port,
      upstreams: [upstreams].flat().map((url) => new URL(url).host),
      dir,
    }),
  );
  const process = new Deno.Command(NGINX_PATH, {
    args: ["-p", dir, "-c", conf, "-e", errorLog, "-g", "daemon off;"],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const drained = (async () => {
    for await (const chunk of process.stderr.pipeThrough(new TextDecoderStream())) stderr += chunk;
  })();
  const status = drained.then(() => process.status);
  const readLog = () => Deno.readTextFile(errorLog).catch(() => "");
  const stop = async () => {
    try {
      process.kill("SIGTERM");
    } catch {
      // Already exited.
    }
    const timer = setTimeout(() => process.kill("SIGKILL"), NGINX_TIMEOUT_MS);
    await status;
    clearTimeout(timer);
    await Deno.remove(dir, { recursive: true });
  };
  try {
    await waitUntilAccepting(port, status);
  } catch (error) {
    const log = await readLog();
    await stop();
    throw new Error(`nginx did not start: ${(error as Error).message}\n${stderr}${log}`);
  }
  const url = `http://127.0.0.1:${port}/`;
  return {
    url,
    origin: new URL(url).origin,
    errorLog: readLog,
    [Symbol.asyncDispose]: stop,
  };
}

/**
 * Rewrites docs/nginx.conf for a test: its `listen 8080;`, its `server 127.0.0.1:8000;` (one line
 * per upstream) and its /run, /var/log/nginx and /var/lib/nginx paths.
 *
 * @throws {Error} When one of them is missing or is there twice, or a file of nginx's stays
 * outside the folder: the config changed and the test would not run what docs/operations.md shows.
 */
function placeNginxConf(text: string, placement: Placement): string {
  const { port, upstreams, dir } = placement;
  let conf = text;
  const directives: [RegExp, (match: string, indent: string) => string][] = [
    [/^(\s*)listen 8080;/m, (_, indent) => `${indent}listen 127.0.0.1:${port};`],
    [
      /^([ \t]*)server 127\.0\.0\.1:8000;/m,
      (_, indent) => upstreams.map((host) => `${indent}server ${host};`).join("\n"),
    ],
  ];
  for (const [pattern, replacement] of directives) {
    const global = new RegExp(pattern.source, "gm");
    const count = conf.match(global)?.length ?? 0;
    if (count !== 1) throw new Error(`docs/nginx.conf has ${count} lines matching ${pattern}`);
    conf = conf.replace(pattern, replacement);
  }
  for (const folder of ["/run/", "/var/log/nginx/", "/var/lib/nginx/"]) {
    conf = conf.replaceAll(folder, `${dir}/`);
  }
  const files = conf.matchAll(/^\s*(pid|error_log|access_log|\w+_temp_path)\s+([^\s;]+)/gm);
  for (const [, directive, path] of files) {
    if (!path.startsWith(`${dir}/`)) {
      throw new Error(
        `docs/nginx.conf: ${directive} ${path} is not under /run, /var/log or /var/lib`,
      );
    }
  }
  return conf;
}

/**
 * Connects until nginx accepts, backing off from 5 ms to 100 ms, for at most 10 s.
 *
 * @throws {Error} When nginx exits first, or the time is up.
 */
async function waitUntilAccepting(
  port: number,
  exited: Promise<Deno.CommandStatus>,
): Promise<void> {
  const deadline = Date.now() + NGINX_TIMEOUT_MS;
  const exit = exited.then((status) => `nginx exited with ${status.code}`);
  for (let delay = 5; Date.now() < deadline; delay = Math.min(delay * 2, 100)) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch (error) {
      if (!(error instanceof Deno.errors.ConnectionRefused)) throw error;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const waited = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), delay);
    });
    const exitedMeanwhile = await Promise.race([exit, waited]);
    clearTimeout(timer);
    if (exitedMeanwhile !== undefined) throw new Error(exitedMeanwhile);
  }
  throw new Error(`nothing accepted on port ${port} within ${NGINX_TIMEOUT_MS} ms`);
}
