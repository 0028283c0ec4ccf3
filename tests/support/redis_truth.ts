/** Reads what Redis itself holds of a product, and sends Redis commands behind the servers' backs. */
import { createClient } from "@redis/client";
import { RedisKeys } from "../../lib/store/redis_keys.ts";

/** A product as Redis holds it. */
export interface StoredTruth {
  /** Units left to hold: total − held. */
  readonly inventoryCount: number;
  /** Its version. */
  readonly version: number;
  /** Units sold. */
  readonly sold: number;
  /** Sessions holding a unit. */
  readonly holders: readonly string[];
  /** Session → the order that bought its (latest) unit. */
  readonly sales: ReadonlyMap<string, string>;
}

/**
 * Reads a product's record, holds and sales straight from Redis (the store's default prefix).
 *
 * @param url The Redis URL.
 * @param product The product's id.
 * @returns What Redis holds.
 */
export async function readStoredTruth(url: string, product: string): Promise<StoredTruth> {
  const client = createClient({ url });
  await client.connect();
  try {
    const keys = new RedisKeys("inv").product(product);
    const [total, version, sold] = await client.hmGet(keys.record, ["total", "version", "sold"]);
    const holders = await client.hKeys(keys.holds);
    const sales = await client.hGetAll(keys.sales);
    return {
      inventoryCount: Math.max(0, Number(total) - holders.length),
      version: Number(version),
      sold: Number(sold),
      holders,
      // A sale is stored as `count|orderId` (lib/store/redis_product_lua.ts).
      sales: new Map(
        Object.entries(sales).map(([session, sale]) => [session, sale.replace(/^\d+\|/, "")]),
      ),
    };
  } finally {
    client.destroy();
  }
}

/**
 * Sends one command to Redis on a connection of its own, as an operator would with redis-cli.
 *
 * @param url The Redis URL.
 * @param args The command and its arguments.
 * @returns Redis's reply.
 */
export async function sendToRedis(url: string, args: string[]): Promise<unknown> {
  const client = createClient({ url });
  await client.connect();
  try {
    return await client.sendCommand(args);
  } finally {
    client.destroy();
  }
}
