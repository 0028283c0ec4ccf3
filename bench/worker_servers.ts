/** Starts the servers under test in a Worker: their own thread, while the bench drives clients. */

/** Our server and the baseline, both listening in one Worker. */
export interface WorkerServers {
  /** Our server's URL. */
  readonly ours: URL;
  /** The bare-bones baseline's URL. */
  readonly bare: URL;
  /** Stops both servers and ends the Worker. */
  stop(): Promise<void>;
}

/**
 * Spawns the Worker and waits until both servers listen.
 *
 * @returns Their URLs and a way to stop them.
 */
export async function startWorkerServers(): Promise<WorkerServers> {
  const worker = new Worker(new URL("./server_worker.ts", import.meta.url), { type: "module" });
  const { promise, resolve, reject } = Promise.withResolvers<{ ours: string; bare: string }>();
  worker.onmessage = (event) => resolve(event.data);
  worker.onerror = (event) => reject(new Error(`server worker failed: ${event.message}`));
  const urls = await promise;
  return {
    ours: new URL(urls.ours),
    bare: new URL(urls.bare),
    async stop() {
      const stopped = Promise.withResolvers<void>();
      worker.onmessage = () => stopped.resolve();
      worker.postMessage("stop");
      await stopped.promise;
      worker.terminate();
    },
  };
}
