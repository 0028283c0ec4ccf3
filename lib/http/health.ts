/** `GET /healthz` and `GET /readyz`: liveness and readiness, with the store's health. */
import type { Inventory } from "../inventory/inventory.ts";
import { jsonResponse } from "./http_error.ts";

/** The store as /healthz, /readyz and the admin feed report it. */
export interface StoreReport {
  /** `memory`, `kv` or `redis`. */
  readonly kind: string;
  /** Whether its last command was answered. */
  readonly reachable: boolean;
  /** What failed last, if anything. */
  readonly lastError: string | null;
}

/**
 * The store's kind and health.
 *
 * @param inventory The inventory, for its store.
 * @returns `{kind, reachable, lastError}`.
 */
export function storeReport(inventory: Inventory): StoreReport {
  const { reachable, lastError } = inventory.storeHealth();
  return { kind: inventory.storeKind, reachable, lastError };
}

/**
 * Answers `GET /healthz`: the process is alive, whatever the store's state (restarting it would
 * not bring the store back).
 *
 * @param inventory The inventory, for its store's health.
 * @returns 200 `{"status": "ok", "store": {"kind", "reachable", "lastError"}}`.
 */
export function healthResponse(inventory: Inventory): Response {
  return jsonResponse({ status: "ok", store: storeReport(inventory) });
}

/**
 * Answers `GET /readyz`: whether to send this process requests, so that a balancer stops sending
 * writes it would refuse while the store cannot be reached.
 *
 * @param inventory The inventory, for its store's health.
 * @returns 200 `{"status": "ready", "store": {...}}` while the store answers, else 503
 *   `{"error": "the inventory store cannot be reached", "store": {...}}`.
 */
export function readinessResponse(inventory: Inventory): Response {
  const store = storeReport(inventory);
  return store.reachable
    ? jsonResponse({ status: "ready", store })
    : jsonResponse({ error: "the inventory store cannot be reached", store }, { status: 503 });
}
