// The page's rules without the DOM: which state to show, and how long to wait before reconnecting.

/**
 * @typedef {object} CartState
 * @property {number} inventoryCount Units still free to add.
 * @property {number} version Rises by one on every change of the cart.
 */

/** The first reconnect waits up to this long, in ms: a wider window spreads a crowd's retries. */
export const BACKOFF_BASE_MS = 2_000;
/** No reconnect waits longer than this, in ms. */
export const BACKOFF_CAP_MS = 30_000;

/**
 * How long to wait before reconnect attempt number `attempt` (0 for the first).
 *
 * Exponential backoff with full jitter: a random delay between 0 and `base · 2^attempt` (capped).
 * When a server restarts, every open page loses its connection in the same instant; the jitter
 * spreads their returns over the whole window instead of one burst.
 *
 * @param {number} attempt Failed attempts since the connection last worked.
 * @param {() => number} random A source of numbers in [0, 1), `Math.random` by default.
 * @returns {number} The delay in whole ms.
 *
 * @example
 * ```ts
 * console.log(backoffDelay(3, () => 0.5)); // 8000
 * ```
 */
export function backoffDelay(attempt, random = Math.random) {
  const window = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt);
  return Math.floor(random() * window);
}

/**
 * Reads a cart state from a parsed message, ignoring anything else the server may send.
 *
 * @param {unknown} value A parsed JSON value.
 * @returns {CartState | undefined} The state, or undefined when the value is not one.
 *
 * @example
 * ```ts
 * console.log(parseState({ inventoryCount: 3, version: 7 })); // { inventoryCount: 3, version: 7 }
 * ```
 */
export function parseState(value) {
  if (typeof value !== "object" || value === null) return undefined;
  const { inventoryCount, version } = /** @type {Record<string, unknown>} */ (value);
  if (!isWholeNumber(inventoryCount) || !isWholeNumber(version)) return undefined;
  return { inventoryCount, version };
}

/**
 * @param {unknown} value
 * @returns {value is number}
 */
function isWholeNumber(value) {
  return Number.isSafeInteger(value) && /** @type {number} */ (value) >= 0;
}

/**
 * The state the page shows: never one older than it has shown from the same server.
 *
 * Messages reach the page by several roads (a push transport, a poll answered late, the answer
 * to the shopper's own click), so an older state can arrive after a newer one; it is ignored.
 * One case needs care: a server that restarts without durable storage counts versions from zero
 * again, and its news would look old forever. So an older version is checked with a fresh read
 * (`readNow`, asked after the suspicious message arrived): only when that read is also older
 * than what the page shows has the server's history restarted, and the page follows it. The same
 * version with another count can only come from a restarted server, and is shown at once.
 */
export class LiveState {
  /** @type {CartState} */
  #state;
  /** @type {(state: CartState) => void} */
  #onChange;
  /** @type {() => Promise<CartState>} */
  #readNow;
  #checking = false;
  /** @type {CartState | undefined} The newest older state that arrived during a check. */
  #olderDuringCheck;

  /**
   * @param {CartState} initial The state the server rendered into the page.
   * @param {(state: CartState) => void} onChange Called with each state the page should show.
   * @param {() => Promise<CartState>} readNow Reads the server's state as it is now; it may
   * reject when the server cannot be reached.
   */
  constructor(initial, onChange, readNow) {
    this.#state = initial;
    this.#onChange = onChange;
    this.#readNow = readNow;
  }

  /** @returns {CartState} The state shown now. */
  get current() {
    return this.#state;
  }

  /**
   * Offers a state from any source; it is shown when it is newer than the one shown, and an
   * older one starts a check for a restarted server.
   *
   * @param {CartState} state A state the server sent.
   * @returns {void}
   */
  offer(state) {
    if (state.version > this.#state.version) {
      this.#show(state);
    } else if (state.version === this.#state.version) {
      // One server never gives one version two counts: this one restarted and has come back
      // to the same version number by another road.
      if (state.inventoryCount !== this.#state.inventoryCount) this.#show(state);
    } else if (this.#checking) {
      if (state.version > (this.#olderDuringCheck?.version ?? -1)) this.#olderDuringCheck = state;
    } else {
      this.#checkForRestart();
    }
  }

  async #checkForRestart() {
    this.#checking = true;
    const shownVersion = this.#state.version;
    let fresh;
    try {
      fresh = await this.#readNow();
    } catch {
      fresh = undefined;
    }
    const during = this.#olderDuringCheck;
    this.#checking = false;
    this.#olderDuringCheck = undefined;
    if (fresh === undefined) return;
    if (fresh.version < shownVersion && this.#state.version === shownVersion) {
      // A read made after we had `shownVersion` is older than it: the server restarted. What
      // arrived during the check came from the restarted server too, and may be newer.
      this.#show(during !== undefined && during.version > fresh.version ? during : fresh);
    } else if (fresh.version >= this.#state.version) {
      this.offer(fresh);
    }
  }

  /** @param {CartState} state */
  #show(state) {
    this.#state = state;
    this.#onChange(state);
  }
}
