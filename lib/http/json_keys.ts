/** Finds a key given twice in one object of a JSON text, which `JSON.parse` silently lets win. */

/**
 * The first key that one object of a JSON text gives more than once. Two spellings of one key
 * (`"a"` and `"\u0061"`) are the same key, as `JSON.parse` sees them.
 *
 * @param text Text that `JSON.parse` accepts; anything else gives no reliable answer.
 * @returns The key, or undefined when every object's keys are distinct.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * assert.equal(duplicateKeyOf('{"action":"add","action":"remove"}'), "action");
 * assert.equal(duplicateKeyOf('{"a":1,"\\u0061":2}'), "a");
 * assert.equal(duplicateKeyOf('{"a":{"a":1},"b":["a","a"]}'), undefined);
 * ```
 */
export function duplicateKeyOf(text: string): string | undefined {
  // One entry per open object (its keys so far) or array (null); the text is valid JSON, so
  // strings, brackets and commas are all that need telling apart.
  const open: (Set<string> | null)[] = [];
  let keyNext = false;
  for (let at = 0; at < text.length; at++) {
    const char = text[at];
    if (char === '"') {
      const end = endOfString(text, at);
      const keys = open.at(-1);
      if (keyNext && keys) {
        const key: string = JSON.parse(text.slice(at, end + 1));
        if (keys.has(key)) return key;
        keys.add(key);
        keyNext = false;
      }
      at = end;
    } else if (char === "{") {
      open.push(new Set());
      keyNext = true;
    } else if (char === "[") {
      open.push(null);
    } else if (char === "}" || char === "]") {
      open.pop();
    } else if (char === ",") {
      keyNext = open.at(-1) instanceof Set;
    }
  }
  return undefined;
}

/** The index of the quote that closes the string opened at `start`. */
function endOfString(text: string, start: number): number {
  let at = start + 1;
  while (text[at] !== '"') at += text[at] === "\\" ? 2 : 1;
  return at;
}
