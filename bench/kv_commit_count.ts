/**
 * Counts the Deno KV commits of the process it is preloaded into, and prints the counts on SIGUSR2.
 *
 *     deno run --preload bench/kv_commit_count.ts -A main.ts --data x.kv
 *     kill -USR2 PID    # prints "kv commits: C mutations: M checks: K waited: W ms between: B ms"
 *
 * It wraps Deno KV's own methods, so the server under it runs unchanged: `lib/` counts nothing for
 * a bench. Deno opens its SQLite with no batch timeout, so each commit here is one SQLite
 * transaction of its own (denokv's `SqliteConfig { batch_timeout: None }` in Deno's `ext/kv`).
 */

let commits = 0;
let mutations = 0;
let checks = 0;
/** Time from each commit's call until its promise settled, summed: how long JS waited on KV. */
let waitedMs = 0;
/**
 * Time from a commit settling until the next one is called, when none other was in flight,
 * summed: what JS does between commits. Pauses over `IDLE_MS` are idle, not counted.
 */
let betweenMs = 0;
const IDLE_MS = 50;
let inFlight = 0;
let lastSettled: number | undefined;

type Method = (this: unknown, ...args: never[]) => unknown;

/** Replaces a method of a prototype by one that counts its calls, then does what it did. */
function counting(prototype: object, name: string, count: (args: unknown[]) => void): void {
  const original = Reflect.get(prototype, name) as Method;
  Object.defineProperty(prototype, name, {
    configurable: true,
    writable: true,
    value: function (this: unknown, ...args: never[]) {
      count(args);
      return original.apply(this, args);
    },
  });
}

const atomic = Deno.AtomicOperation.prototype;
for (const name of ["set", "delete", "sum", "min", "max"]) {
  counting(atomic, name, () => mutations++);
}
counting(atomic, "mutate", (args) => mutations += args.length);
counting(atomic, "check", (args) => checks += args.length);
counting(atomic, "commit", () => commits++);
// `Deno.Kv`'s own set and delete write in place, one commit of one mutation each.
for (const name of ["set", "delete"]) {
  counting(Deno.Kv.prototype, name, () => {
    commits++;
    mutations++;
  });
}
for (const [prototype, name] of [[atomic, "commit"], [Deno.Kv.prototype, "set"]] as const) {
  const original = Reflect.get(prototype, name) as (...args: unknown[]) => Promise<unknown>;
  Object.defineProperty(prototype, name, {
    configurable: true,
    writable: true,
    value: function (this: unknown, ...args: unknown[]) {
      const started = performance.now();
      if (inFlight === 0 && lastSettled !== undefined && started - lastSettled < IDLE_MS) {
        betweenMs += started - lastSettled;
      }
      inFlight++;
      const done = () => {
        lastSettled = performance.now();
        inFlight--;
        waitedMs += lastSettled - started;
      };
      return original.apply(this, args).finally(done);
    },
  });
}

Deno.addSignalListener("SIGUSR2", () => {
  console.error(
    `kv commits: ${commits} mutations: ${mutations} checks: ${checks} ` +
      `waited: ${waitedMs.toFixed(1)} ms between: ${betweenMs.toFixed(1)} ms`,
  );
});
