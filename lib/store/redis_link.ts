/**
 * A Redis store's two connections (commands, and the change channel), its health, and the check
 * that Redis still holds the shop's data after a reconnect.
 */
import { type StoreHealth, StoreUnavailableError } from "../inventory/store_port.ts";
import { newEpoch } from "./memory_store.ts";
import { RedisConnection } from "./redis_connection.ts";
import type { RedisKeys } from "./redis_keys.ts";
import type { FunctionReply } from "./redis_state.ts";

/** What a link tells its store. */
export interface LinkEvents {
  /** Writes a line to the log. */
  readonly log: (line: string) => void;
  /** Called with each message of the change channel. */
  readonly heard: (message: string) => void;
  /** Called after a reconnect, once the epoch is checked: what this process missed must be read. */
  readonly recovered: () => Promise<void>;
}

/**
 * The connections of one process to the shop's data in Redis. A Redis that comes back without the
 * shop's data (a new epoch, or none) is refused from then on: its data is not this shop's.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RedisKeys } from "./redis_keys.ts";
 * const events = { log: () => {}, heard: () => {}, recovered: () => Promise.resolve() };
 * const link = new RedisLink("redis://127.0.0.1:6379", new RedisKeys("inv"), events);
 * assert.throws(() => link.health(), { message: "The Redis store is not connected" });
 * ```
 */
export class RedisLink {
  readonly #url: string;
  readonly #keys: RedisKeys;
  readonly #events: LinkEvents;
  #commands: RedisConnection | undefined;
  #subscription: RedisConnection | undefined;
  #epoch = "";
  #lostData: string | null = null;

  /**
   * Creates the link, not yet connected.
   *
   * @param url A `redis://` or `rediss://` URL.
   * @param keys The shop's key names.
   * @param events The log, the change channel's listener, and what to do after a reconnect.
   */
  constructor(url: string, keys: RedisKeys, events: LinkEvents) {
    this.#url = url;
    this.#keys = keys;
    this.#events = events;
  }

  /**
   * Connects, loads the library and subscribes to the change channel.
   *
   * @throws {StoreUnavailableError} When Redis cannot be reached.
   */
  async connect(): Promise<void> {
    const { log, heard, recovered } = this.#events;
    const reconnected = () => void this.#checkEpoch().then(recovered).catch(() => {});
    this.#commands = await RedisConnection.open(this.#url, { log, recovered: reconnected });
    try {
      await this.#commands.loadLibrary();
      this.#subscription = await this.#commands.duplicate({
        log: () => {},
        recovered: reconnected,
      });
      await this.#subscription.subscribe(this.#keys.changes, heard);
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /**
   * Tells whether Redis answers (both connections), and the last failure.
   *
   * @returns The health.
   */
  health(): StoreHealth {
    const commands = this.#connection().health;
    if (this.#lostData !== null) {
      return { reachable: false, lastError: this.#lostData, since: commands.since };
    }
    const subscription = this.#subscription?.health;
    return subscription?.reachable === false ? subscription : commands;
  }

  /**
   * Reads the shop's epoch, setting one when Redis holds no shop yet.
   *
   * @returns The epoch.
   */
  async loadEpoch(): Promise<string> {
    await this.send(["SET", this.#keys.epoch, newEpoch(), "NX"]);
    this.#epoch = String(await this.send(["GET", this.#keys.epoch]));
    return this.#epoch;
  }

  /**
   * Sends one plain command.
   *
   * @param args The command and its arguments.
   * @returns Redis's reply.
   */
  send(args: string[]): Promise<unknown> {
    return this.#connection().send(args);
  }

  /**
   * Calls a library function on a product's keys, with the change channel as its first argument.
   *
   * @param name The function.
   * @param product The product's id.
   * @param args Its other arguments.
   * @returns Its reply.
   * @throws {StoreUnavailableError} When Redis cannot be reached or lost the shop's data.
   */
  async call(name: string, product: string, args: string[]): Promise<FunctionReply> {
    if (this.#lostData !== null) throw new StoreUnavailableError(this.#lostData);
    const keys = this.#keys.product(product);
    return await this.#connection().call(
      name,
      [keys.record, keys.holds, keys.expiry, keys.sales],
      [this.#keys.changes, ...args],
    ) as FunctionReply;
  }

  /**
   * Calls a function of a drop's line on the product's keys and the line's, with the change
   * channel and the queue's as its first two arguments.
   *
   * @param name The function.
   * @param product The product's id.
   * @param args Its other arguments.
   * @returns Its reply.
   * @throws {StoreUnavailableError} When Redis cannot be reached or lost the shop's data.
   */
  async callLine(name: string, product: string, args: readonly string[]): Promise<unknown[]> {
    if (this.#lostData !== null) throw new StoreUnavailableError(this.#lostData);
    const keys = this.#keys.product(product);
    const line = this.#keys.line(product);
    return await this.#connection().call(
      name,
      [
        keys.record,
        keys.holds,
        keys.expiry,
        keys.sales,
        line.line,
        line.tickets,
        line.ids,
        line.window,
        line.admissions,
        line.clients,
        line.windowMacs,
      ],
      [this.#keys.changes, this.#keys.queueChanges, ...args],
    ) as unknown[];
  }

  /**
   * Subscribes to one more channel on the subscription's connection (subscribed again by the
   * client after a reconnect).
   *
   * @param channel The channel.
   * @param listener Called with each message.
   */
  async listen(channel: string, listener: (message: string) => void): Promise<void> {
    if (this.#subscription === undefined) throw new Error("The Redis store is not connected");
    await this.#subscription.subscribe(channel, listener);
  }

  /**
   * Calls a library function on other keys.
   *
   * @param name The function.
   * @param keys Its keys.
   * @param args Its arguments.
   * @returns Its reply.
   */
  callOn(name: string, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    return this.#connection().call(name, keys, args);
  }

  /** Closes both connections after the commands in flight. */
  async close(): Promise<void> {
    await Promise.all([this.#subscription?.close(), this.#commands?.close()]);
  }

  #connection(): RedisConnection {
    if (this.#commands === undefined) throw new Error("The Redis store is not connected");
    return this.#commands;
  }

  /** After a reconnect: a Redis that lost the shop's data has a new epoch, or none. */
  async #checkEpoch(): Promise<void> {
    if (this.#epoch === "" || this.#lostData !== null) return;
    const epoch = await this.send(["GET", this.#keys.epoch]);
    if (epoch === this.#epoch) return;
    this.#lostData = `Redis lost the shop's data (epoch ${this.#epoch} is now ${epoch}): ` +
      "restart this process";
    this.#events.log(this.#lostData);
  }
}
