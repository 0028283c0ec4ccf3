/** One connection to Redis that never queues while offline, times commands out, and tells its health. */
import { createClient, ErrorReply } from "@redis/client";
import { systemClock } from "../time/clock.ts";
import { DeadlineQueue } from "../time/deadline_queue.ts";
import { StoreHealth, StoreUnavailableError } from "../inventory/store_port.ts";
import { LIBRARY_SOURCE } from "./redis_library.ts";
import { redactedUrl } from "./redis_url.ts";

/** How long a command may take before the store answers that Redis cannot be reached. */
export const COMMAND_TIMEOUT_MS = 1_000;

/** The longest wait between two reconnect attempts (the waits double up to it, with jitter). */
const MAX_RECONNECT_DELAY_MS = 2_000;

/** How late a command's deadline may fire before it counts as this process's delay, in ms. */
const BUSY_LATENESS_MS = 50;

/** How many times a command waits again because its deadline fired late. */
const BUSY_WAITS = 5;

/** While Redis does not answer, a PING this often tells when it does again. */
const PROBE_INTERVAL_MS = 500;

/** Attempts a first connection gets before the start gives up. */
const FIRST_CONNECT_ATTEMPTS = 3;

type Client = ReturnType<typeof createRedisClient>;

/** What a connection tells its owner. */
export interface ConnectionEvents {
  /** Writes a line to the log. */
  log(line: string): void;
  /** Redis answers again after it did not: what was missed must be read again. */
  recovered(): void;
}

/**
 * A Redis connection for commands: no offline queue (a command while disconnected fails at once),
 * a {@linkcode COMMAND_TIMEOUT_MS} deadline on every command, and reconnects that back off. Every
 * failure to reach Redis becomes a {@linkcode StoreUnavailableError}; answers Redis gives (errors
 * included) pass.
 *
 * The client's own timeout covers only the wait before a command is written, so a Redis that
 * stops answering on an open socket (frozen, or a network that drops packets) would hold every
 * command forever: the deadline here answers in time instead, and until a PING comes back every
 * command fails at once, so nothing piles up behind the silent socket.
 */
export class RedisConnection {
  readonly #client: Client;
  readonly #events: ConnectionEvents;
  #health: StoreHealth;
  /** The deadlines of the commands in flight: one timer for them all, not one a command. */
  readonly #deadlines = new DeadlineQueue(COMMAND_TIMEOUT_MS, systemClock, { lingering: true });
  #probe: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #wasReady = false;

  readonly #probes: boolean;

  private constructor(client: Client, events: ConnectionEvents, probes: boolean) {
    this.#client = client;
    this.#events = events;
    this.#probes = probes;
    this.#health = { reachable: true, lastError: null, since: Date.now() };
    client.on("error", (error: Error) => this.#down(error));
    client.on("ready", () => {
      this.#wasReady = true;
      this.#up();
    });
  }

  /**
   * Connects, and loads the function library.
   *
   * @param url A `redis://` or `rediss://` URL.
   * @param events Where to log, and whom to tell of a recovery.
   * @returns The connection.
   * @throws {StoreUnavailableError} When Redis cannot be reached after a few attempts.
   */
  static async open(url: string, events: ConnectionEvents): Promise<RedisConnection> {
    const client = createRedisClient(url);
    const connection = new RedisConnection(client, events, true);
    await connection.#connect(`Redis at ${redactedUrl(url)}`);
    return connection;
  }

  /**
   * Opens a second connection to the same Redis, for a subscription (it sends no commands of its
   * own, so only its socket's events tell its health).
   *
   * @param events Where to log, and whom to tell of a recovery.
   * @returns The connection.
   * @throws {StoreUnavailableError} When Redis cannot be reached.
   */
  async duplicate(events: ConnectionEvents): Promise<RedisConnection> {
    const connection = new RedisConnection(this.#client.duplicate(), events, false);
    await connection.#connect("Redis (subscription)");
    return connection;
  }

  /** Whether Redis answered the last command, and the last failure. */
  get health(): StoreHealth {
    return this.#health;
  }

  /**
   * Sends one command.
   *
   * @param args The command and its arguments.
   * @returns Redis's reply.
   * @throws {StoreUnavailableError} When Redis cannot be reached or does not answer in time.
   * @throws {Error} An error Redis answered with.
   */
  async send(args: string[]): Promise<unknown> {
    if (!this.#health.reachable) {
      throw new StoreUnavailableError(`Redis cannot be reached: ${this.#health.lastError}`);
    }
    return await this.#sendInTime(args);
  }

  /**
   * Calls a function of the library, loading the library again when Redis lost it (a Redis
   * started afresh, or a failover to a replica that never had it).
   *
   * @param name The function's name.
   * @param keys Its keys.
   * @param args Its arguments.
   * @returns Its reply.
   * @throws {StoreUnavailableError} When Redis cannot be reached or does not answer in time.
   */
  async call(name: string, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const command = ["FCALL", name, String(keys.length), ...keys, ...args];
    try {
      return await this.send(command);
    } catch (error) {
      if (!(error instanceof ErrorReply) || !/function not found/i.test(error.message)) throw error;
      await this.loadLibrary();
      return await this.send(command);
    }
  }

  /**
   * Loads (or replaces) the function library.
   *
   * @throws {StoreUnavailableError} When Redis cannot be reached.
   */
  async loadLibrary(): Promise<void> {
    await this.send(["FUNCTION", "LOAD", "REPLACE", LIBRARY_SOURCE]);
  }

  /**
   * Subscribes to a channel; the client subscribes again by itself after a reconnect.
   *
   * @param channel The channel.
   * @param listener Called with each message.
   */
  async subscribe(channel: string, listener: (message: string) => void): Promise<void> {
    await this.#client.subscribe(channel, listener);
  }

  /** Closes the connection, after the commands in flight (or at once when Redis is gone). */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#probe);
    this.#deadlines.close();
    if (!this.#client.isReady) {
      this.#client.destroy();
      return;
    }
    try {
      await this.#client.close();
    } catch {
      this.#client.destroy();
    }
  }

  async #sendInTime(args: string[]): Promise<unknown> {
    const { promise: late, reject } = Promise.withResolvers<never>();
    // A deadline that fires late finds this process was busy (its event loop blocked, or the
    // machine's cores taken): what Redis answered meanwhile, and even the command itself, may
    // still wait in the sockets for the loop. That is no sign of Redis: wait again, a few times.
    let dueAt = performance.now() + COMMAND_TIMEOUT_MS;
    let waitsLeft = BUSY_WAITS;
    const onDeadline = () => {
      const now = performance.now();
      if (now - dueAt > BUSY_LATENESS_MS && waitsLeft-- > 0) {
        dueAt = now + COMMAND_TIMEOUT_MS;
        this.#deadlines.add(onDeadline);
      } else reject(new Error(`Redis did not answer within ${COMMAND_TIMEOUT_MS} ms`));
    };
    this.#deadlines.add(onDeadline);
    try {
      return await Promise.race([this.#client.sendCommand(args), late]);
    } catch (error) {
      if (error instanceof ErrorReply) throw error;
      this.#down(error);
      throw new StoreUnavailableError(`Redis cannot be reached: ${messageOf(error)}`, {
        cause: error,
      });
    } finally {
      this.#deadlines.delete(onDeadline);
    }
  }

  /** Pings until Redis answers, then tells of the recovery. */
  #probeSoon(): void {
    if (!this.#probes || this.#probe !== undefined || this.#closed) return;
    this.#probe = setTimeout(async () => {
      try {
        await this.#sendInTime(["PING"]);
        this.#probe = undefined;
        this.#up();
      } catch {
        this.#probe = undefined;
        if (!this.#health.reachable) this.#probeSoon();
      }
    }, PROBE_INTERVAL_MS);
  }

  async #connect(what: string): Promise<void> {
    try {
      await this.#client.connect();
    } catch (error) {
      this.#client.destroy();
      throw new StoreUnavailableError(`${what} cannot be reached: ${messageOf(error)}`, {
        cause: error,
      });
    }
  }

  #down(error: unknown): void {
    this.#probeSoon();
    const text = messageOf(error);
    // Before the first connection, the start tells the failure in its own line.
    if (this.#health.reachable && this.#wasReady) {
      this.#events.log(`Redis cannot be reached: ${text}`);
    }
    this.#health = {
      reachable: false,
      lastError: text,
      since: this.#health.reachable ? Date.now() : this.#health.since,
    };
  }

  #up(): void {
    if (this.#health.reachable) return;
    this.#health = { reachable: true, lastError: this.#health.lastError, since: Date.now() };
    this.#events.log("Redis answers again");
    this.#events.recovered();
  }
}

function createRedisClient(url: string) {
  let connected = false;
  const client = createClient({
    url,
    disableOfflineQueue: true,
    commandOptions: { timeout: COMMAND_TIMEOUT_MS },
    socket: {
      connectTimeout: COMMAND_TIMEOUT_MS,
      reconnectStrategy: (retries: number, cause: Error) => {
        if (!connected && retries >= FIRST_CONNECT_ATTEMPTS) return cause;
        const ceiling = Math.min(MAX_RECONNECT_DELAY_MS, 50 * 2 ** retries);
        return Math.round(ceiling / 2 + Math.random() * ceiling / 2);
      },
    },
  });
  client.on("ready", () => connected = true);
  return client;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message || error.name : String(error);
}
