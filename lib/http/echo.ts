/** `GET /echo`: the demo's WebSocket echo, for checking that WebSockets reach the server. */

/**
 * Upgrades to a WebSocket that greets with `connected!` and sends back every message it gets.
 *
 * @param request A request with `Upgrade: websocket`.
 * @returns The 101 response.
 */
export function echoSocket(request: Request): Response {
  const { socket, response } = Deno.upgradeWebSocket(request);
  socket.onopen = () => socket.send("connected!");
  socket.onmessage = (event) => socket.send(event.data);
  return response;
}
