/**
 * The services' socket (src/node/services/live.ts) over a stand-in connection: close() is
 * close(2), not shutdown(2): the connection is given up (orphaned) once every byte written
 * is in TCP's buffer, so the stack bounds its FIN_WAIT_2 and the resends of its FIN.
 */
import { describe, expect, it } from "vitest";
import type { Connection } from "../../src/tcp/connection.js";
import { LiveSocket, type LiveStack } from "../../src/node/services/live.js";

/** A connection that takes `room` bytes and records what the socket asked of it. */
function standIn(room: number): { conn: Connection; calls: string[]; grow(n: number): void } {
  const calls: string[] = [];
  const fake = {
    state: "ESTABLISHED",
    canSend: true,
    peerFinished: false,
    readable: 0,
    read: () => new Uint8Array(0),
    isClosed: () => false,
    send(data: Uint8Array): number {
      const n = Math.min(room, data.length);
      room -= n;
      if (n > 0) calls.push(`send ${n}`);
      return n;
    },
    shutdown: () => calls.push("shutdown"),
    close: () => calls.push("close"),
    onWake: undefined as (() => void) | undefined,
  };
  return { conn: fake as unknown as Connection, calls, grow: (n) => (room += n) };
}
const stack = { kick: () => {} } as unknown as LiveStack;

describe("LiveSocket.close()", () => {
  it("closes at once when nothing waits to be sent", () => {
    const { conn, calls } = standIn(100);
    const socket = new LiveSocket(stack, conn);
    socket.write(new Uint8Array(10));
    socket.close();
    expect(calls).toEqual(["send 10", "close"]);
  });

  it("closes (orphans) only after the writes TCP's buffer could not take yet; it used to close at once and drop them", () => {
    const { conn, calls, grow } = standIn(100);
    const socket = new LiveSocket(stack, conn);
    socket.write(new Uint8Array(300));
    socket.close();
    expect(calls).toEqual(["send 100"]);
    expect(() => socket.write(new Uint8Array(1))).toThrow("write after end()");
    grow(500);
    socket.update();
    expect(calls).toEqual(["send 100", "send 200", "close"]);
    expect(socket.bytesWritten).toBe(300);
  });

  it("after end() has sent the FIN, close() still gives the connection up; end() alone never does", () => {
    const { conn, calls } = standIn(100);
    const socket = new LiveSocket(stack, conn);
    socket.end();
    expect(calls).toEqual(["shutdown"]);
    socket.close();
    socket.close();
    expect(calls).toEqual(["shutdown", "close"]);
  });
});
