/** The admin API of a drop's waiting room: its admit rate, and pausing and resuming its admissions. */
import type { Inventory } from "../inventory/inventory.ts";
import type { Drops } from "../queue/drops.ts";
import { HttpError, jsonResponse } from "../http/http_error.ts";
import { parseJsonBody, type RequestBody } from "../http/request_body.ts";

/** The most shoppers a second an owner may admit. */
export const MAX_OWNER_ADMIT_RATE = 10_000;

const CONTROL_FIELDS: ReadonlySet<string> = new Set(["admitRate", "paused"]);

/** What the owner asks of a drop. */
export interface QueueControls {
  /** Shoppers admitted a second; null goes back to the server's `--admit-rate`. */
  readonly admitRate?: number | null;
  /** Whether admissions pause (those given stay). */
  readonly paused?: boolean;
}

/**
 * Reads a body of `POST /admin/products/:id/queue`.
 *
 * @param body The body (JSON): `{"admitRate"?: 1..10000 | null, "paused"?: boolean}`.
 * @returns The controls given.
 * @throws {HttpError} 400 for an unknown field or a bad value, naming it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const json = (text: string) => ({ mediaType: "application/json", text });
 * assert.deepEqual(queueControlsOf(json('{"admitRate": 5, "paused": true}')), {
 *   admitRate: 5,
 *   paused: true,
 * });
 * assert.throws(() => queueControlsOf(json('{"admitRate": 0}')), /admitRate/);
 * assert.throws(() => queueControlsOf(json('{"rate": 5}')), /Unknown field "rate"/);
 * ```
 */
export function queueControlsOf(body: RequestBody): QueueControls {
  const value = parseJsonBody(body.text);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new HttpError(400, "Body must be a JSON object");
  }
  const fields = value as Record<string, unknown>;
  const unknown = Object.keys(fields).find((key) => !CONTROL_FIELDS.has(key));
  if (unknown !== undefined) throw new HttpError(400, `Unknown field ${JSON.stringify(unknown)}`);
  const { admitRate, paused } = fields;
  if (
    admitRate !== undefined && admitRate !== null &&
    (!Number.isInteger(admitRate) || (admitRate as number) < 1 ||
      (admitRate as number) > MAX_OWNER_ADMIT_RATE)
  ) {
    throw new HttpError(
      400,
      `Field "admitRate" must be a whole number from 1 to ${MAX_OWNER_ADMIT_RATE}, or null for the server's, got ${
        JSON.stringify(admitRate)
      }`,
    );
  }
  if (paused !== undefined && typeof paused !== "boolean") {
    throw new HttpError(400, `Field "paused" must be true or false, got ${JSON.stringify(paused)}`);
  }
  return {
    ...(admitRate === undefined ? {} : { admitRate: admitRate as number | null }),
    ...(paused === undefined ? {} : { paused }),
  };
}

/**
 * Handles `POST /admin/products/:id/queue`: sets a drop's admit rate, pauses or resumes it.
 *
 * @param inventory The inventory.
 * @param drops The drops.
 * @param id The product's id, from the URL.
 * @param body The body (JSON).
 * @returns 200 with the drop's status, as `/queue/status` sends it.
 * @throws {HttpError} 400 for a bad field, 404 for an unknown product, 409 for one without a drop.
 */
export async function queueControlResponse(
  inventory: Inventory,
  drops: Drops,
  id: string,
  body: RequestBody,
): Promise<Response> {
  const controls = queueControlsOf(body);
  const record = inventory.get(id);
  if (record === undefined) throw new HttpError(404, `No product "${id}"`);
  const status = await drops.control(id, controls);
  if (status === undefined) {
    throw new HttpError(409, `Product "${id}" has no drop: give it an opensAt first`);
  }
  return jsonResponse(status);
}
