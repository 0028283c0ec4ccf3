/** A fleet of subscribers of one transport, and the moment its last member has a given version. */
import { openSubscriber, type Subscriber, type Transport } from "../../bench/subscribers.ts";

/** Wall-clock milliseconds with sub-millisecond precision, comparable between processes. */
export function wallClock(): number {
  return performance.timeOrigin + performance.now();
}

/** How opening a fleet went. */
export interface OpenReport {
  /** Subscribers that got their first state. */
  opened: number;
  /** Subscribers that failed to open. */
  failed: number;
  /** The first failure's message, if any. */
  firstError?: string;
  /** Time from the first connect until the last first state, in ms. */
  ms: number;
}

/**
 * Holds N subscribers and tells when every one of them has reached a version.
 *
 * Arm it with the version a change will produce, then make the change: `reached` resolves at the
 * moment the last subscriber has that version or a newer one. Counting is O(1) per message.
 */
export class Fleet {
  readonly #subscribers: Subscriber[] = [];
  #target = Infinity;
  #behind = 0;
  #reached = Promise.withResolvers<number>();
  /** Updates that repeated or went back behind a version a subscriber already had. */
  duplicates = 0;
  /** Subscribers whose connection failed after they had opened. */
  lost = 0;
  /** The first lost connection's error, if any. */
  firstLoss: string | undefined;

  /** How many subscribers are open. */
  get size(): number {
    return this.#subscribers.length;
  }

  /**
   * Opens `n` subscribers, at most `concurrency` connecting at a time.
   *
   * @param base The server's URL.
   * @param transport How each one follows the cart.
   * @param n How many to open.
   * @param concurrency How many connect at once (stays under the server's listen backlog).
   * @param signal Stops opening more when aborted.
   * @returns What happened.
   */
  async open(
    base: URL,
    transport: Transport,
    n: number,
    concurrency = 256,
    signal?: AbortSignal,
  ): Promise<OpenReport> {
    const started = performance.now();
    let next = 0;
    let failed = 0;
    let firstError: string | undefined;
    const events = {
      onVersion: (from: number, to: number) => {
        if (from < this.#target && to >= this.#target && --this.#behind === 0) {
          this.#reached.resolve(wallClock());
        }
      },
      onDuplicate: () => {
        this.duplicates++;
      },
      onLost: (error: unknown) => {
        this.lost++;
        this.firstLoss ??= String(error);
      },
    };
    const worker = async () => {
      while (next < n && !signal?.aborted) {
        next++;
        try {
          this.#subscribers.push(await openSubscriber(base, transport, events));
        } catch (error) {
          failed++;
          firstError ??= String(error);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
    return {
      opened: this.#subscribers.length,
      failed,
      firstError,
      ms: performance.now() - started,
    };
  }

  /**
   * Starts waiting for every subscriber to reach `version`.
   *
   * @param version The version the next change will produce.
   */
  arm(version: number): void {
    this.#target = version;
    this.#reached = Promise.withResolvers<number>();
    this.#behind = this.behind(version);
    if (this.#behind === 0) this.#reached.resolve(wallClock());
  }

  /**
   * Resolves with the wall-clock time at which the last subscriber reached the armed version.
   *
   * @param signal Rejects the wait when aborted (a deadline).
   * @returns The time, from {@linkcode wallClock}.
   */
  reached(signal: AbortSignal): Promise<number> {
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      this.#reached.promise.then((at) => {
        signal.removeEventListener("abort", onAbort);
        resolve(at);
      });
    });
  }

  /**
   * Counts subscribers still below a version.
   *
   * @param version The version to compare with.
   * @returns How many have an older one.
   */
  behind(version: number): number {
    let behind = 0;
    for (const subscriber of this.#subscribers) {
      if (subscriber.version < version) behind++;
    }
    return behind;
  }

  /** The newest version any subscriber has, or -1 when empty. */
  newest(): number {
    let newest = -1;
    for (const subscriber of this.#subscribers) newest = Math.max(newest, subscriber.version);
    return newest;
  }

  /** Closes every subscriber. */
  close(): void {
    for (const subscriber of this.#subscribers) subscriber.close();
    this.#subscribers.length = 0;
  }
}
