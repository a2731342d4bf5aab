/**
 * The echo service (RFC 862): every byte received is sent back. Reading pauses while the
 * echoed bytes wait for send space, so a client that never reads sees its own window
 * close instead of this process buffering without bound. The peer's FIN is echoed too
 * (half-close), once everything before it went back.
 */
import type { Listener } from "../../tcp/listener.js";
import type { LiveSocket, LiveStack } from "./live.js";

export function echoService(stack: LiveStack, port: number): Listener {
  return stack.listen(port, (socket: LiveSocket) => {
    socket.onData = (chunk) => {
      if (!socket.write(chunk)) socket.pause();
    };
    socket.onDrain = () => socket.resume();
    socket.onEnd = () => socket.end();
  });
}
