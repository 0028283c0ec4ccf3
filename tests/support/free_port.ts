/** Finds a port that nothing listens on, for a program a test starts. */

/**
 * Finds a port nothing listens on now, on 127.0.0.1.
 *
 * @returns The port.
 */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}
