// Solves the queue's join challenge (ALTCHA's SHA-256 proof of work) in the page with Web Crypto.
// @ts-check

/**
 * @typedef {object} AltchaChallenge
 * @property {string} algorithm Always "SHA-256".
 * @property {string} challenge The hex SHA-256 to find.
 * @property {number} maxnumber The highest number to try.
 * @property {string} salt What each number's decimal text is appended to before hashing.
 * @property {string} signature The server's signature, sent back with the solution.
 */

/**
 * Digests started together: Web Crypto answers each digest in a later task, and awaiting them one
 * at a time made about half the tries a second in Chromium (bench/README.md).
 */
export const DIGESTS_AT_ONCE = 32;

/**
 * The longest the search runs before handing the page a turn. Chromium runs the digests' answers
 * before any timer, so a search that never yields holds every timer back until it ends. A time,
 * not a count of tries: a slow phone tries several times fewer a second than a laptop.
 */
export const TURN_MS = 10;

const encoder = new TextEncoder();

/**
 * Finds the number whose SHA-256 of `salt + number` is the challenge, trying 0, 1, 2, … up to
 * `maxnumber`, and yielding to the event loop every {@linkcode TURN_MS} ms.
 *
 * @param {AltchaChallenge} challenge The challenge, as `GET /queue/challenge` answers it.
 * @param {{ signal?: AbortSignal }} [options] A signal that stops the search.
 * @returns {Promise<number | null>} The number, or null when none up to `maxnumber` matches or
 * the signal aborted.
 * @throws {TypeError} When the challenge is not a SHA-256 one, or the page has no Web Crypto
 * (it needs a secure context: HTTPS, or http://localhost).
 */
export async function solveChallenge(challenge, options = {}) {
  if (challenge.algorithm !== "SHA-256" || !/^[0-9a-f]{64}$/.test(challenge.challenge)) {
    throw new TypeError(`Not a SHA-256 challenge: ${challenge.algorithm}`);
  }
  if (!Number.isSafeInteger(challenge.maxnumber) || challenge.maxnumber < 0) {
    throw new TypeError(`Not a number of tries: ${challenge.maxnumber}`);
  }
  if (globalThis.crypto?.subtle === undefined) {
    throw new TypeError("Web Crypto is missing: the page is not in a secure context");
  }
  const target = bytesOfHex(challenge.challenge);
  const { maxnumber, salt } = challenge;
  let turnStarted = performance.now();
  for (let start = 0; start <= maxnumber; start += DIGESTS_AT_ONCE) {
    if (options.signal?.aborted) return null;
    const end = Math.min(start + DIGESTS_AT_ONCE - 1, maxnumber);
    /** @type {Promise<ArrayBuffer>[]} */
    const digests = [];
    for (let number = start; number <= end; number++) {
      digests.push(crypto.subtle.digest("SHA-256", encoder.encode(salt + number)));
    }
    const found = (await Promise.all(digests)).findIndex((digest) => sameBytes(digest, target));
    if (found !== -1) return start + found;
    if (performance.now() - turnStarted >= TURN_MS) {
      await nextTask();
      turnStarted = performance.now();
    }
  }
  return null;
}

/**
 * The `altcha` field to post with a join: base64 of the JSON the ALTCHA widget posts.
 *
 * @param {AltchaChallenge} challenge The challenge solved.
 * @param {number} number The number found.
 * @returns {string} The payload.
 */
export function altchaPayload(challenge, number) {
  const { algorithm, signature, salt } = challenge;
  return btoa(
    JSON.stringify({ algorithm, challenge: challenge.challenge, number, salt, signature }),
  );
}

/**
 * @param {string} hex Lowercase hex of whole bytes.
 * @returns {Uint8Array} The bytes.
 */
function bytesOfHex(hex) {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

/**
 * @param {ArrayBuffer} digest A digest.
 * @param {Uint8Array} target The digest sought.
 * @returns {boolean} Whether they are the same bytes.
 */
function sameBytes(digest, target) {
  const bytes = new Uint8Array(digest);
  for (let i = 0; i < target.length; i++) if (bytes[i] !== target[i]) return false;
  return true;
}

/**
 * Waits for a timer's task: input, rendering and the page's own timers queued meanwhile run
 * first. (A posted message or `scheduler.yield()` came back before the page's timers did.) The
 * timer is set from a digest's answer, not from a timer, so browsers do not stretch it to 4 ms.
 *
 * @returns {Promise<void>} Settled in a task of its own.
 */
function nextTask() {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
