/** Reading a request's cookies by name. */

/**
 * The values of a request's cookies of one name, in the order the `Cookie` header gives them.
 *
 * @param request The incoming request.
 * @param name The cookie's name.
 * @returns Each value, trimmed; none without a `Cookie` header.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const request = new Request("http://x/", { headers: { cookie: "a=1; sid=2;sid = 3 ; b" } });
 * assert.deepEqual([...cookieValues(request, "sid")], ["2", "3"]);
 * ```
 */
export function* cookieValues(request: Request, name: string): Generator<string> {
  const header = request.headers.get("cookie");
  if (header === null) return;
  for (const pair of header.split(";")) {
    const eq = pair.indexOf("=");
    if (eq >= 0 && pair.slice(0, eq).trim() === name) yield pair.slice(eq + 1).trim();
  }
}
