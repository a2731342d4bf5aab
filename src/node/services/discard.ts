/**
 * The discard service (RFC 863): reads and throws away everything. When the peer
 * half-closes it closes the connection (FIN; the rest is the stack's, as after close(2)).
 */
import type { Listener } from "../../tcp/listener.js";
import type { LiveSocket, LiveStack } from "./live.js";

export function discardService(stack: LiveStack, port: number): Listener {
  return stack.listen(port, (socket: LiveSocket) => {
    socket.onData = () => {};
    socket.onEnd = () => socket.close();
  });
}
