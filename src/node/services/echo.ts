/**
 * The echo service (RFC 862): every byte received is sent back. Reading pauses while the
 * echoed bytes wait for send space, so a client that never reads sees its own window
 * close instead of this process buffering without bound. The peer's FIN is echoed too
 * once everything before it went back, and the connection is closed (as close(2) would).
 */
import type { Listener } from "../../tcp/listener.js";
import type { LiveSocket, LiveStack } from "./live.js";

export function echoService(stack: LiveStack, port: number): Listener {
  return stack.listen(port, (socket: LiveSocket) => {
    socket.onData = (chunk) => {
      if (!socket.write(chunk)) socket.pause();
    };
    socket.onDrain = () => socket.resume();
    // The peer is done and everything it sent was read: close (orphan, as a kernel server
    // closing its socket would), so an unanswered FIN is resent as few times as Linux does.
    socket.onEnd = () => socket.close();
  });
}
