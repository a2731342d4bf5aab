/**
 * One DNS exchange over TCP, for an answer that came back truncated over UDP (RFC 1035
 * 4.2.1: TC set, "the resolver should retry over TCP"; RFC 7766 5). Over TCP each message
 * is preceded by its length in two bytes (RFC 1035 4.2.2). Sans-IO: the caller opens the
 * connection on its stack; this drives it from the connection's wake-ups.
 */
import type { Connection } from "../tcp/connection.js";
import { concatBytes, readU16, writeU16 } from "../wire/bytes.js";

/** RFC 1035 4.2.2 caps a message at 65,535 bytes by its two-byte length. */
const LENGTH_PREFIX = 2;

/**
 * Sends `query` on `conn` once it is established and hands the first whole message that
 * comes back to `done` (or the failure: the connection's error, or EOF before a whole
 * message). Returns a function that gives up and closes the connection.
 */
export function exchangeOverTcp(conn: Connection, query: Uint8Array, kick: () => void, done: (result: Uint8Array | Error) => void): () => void {
  let sent = false;
  let finished = false;
  const parts: Uint8Array[] = [];
  let received = 0;
  const framed = new Uint8Array(LENGTH_PREFIX + query.length);
  writeU16(framed, 0, query.length);
  framed.set(query, LENGTH_PREFIX);
  let unsent = framed;
  const finish = (result: Uint8Array | Error): void => {
    if (finished) return;
    finished = true;
    conn.onWake = undefined;
    conn.close();
    kick();
    done(result);
  };
  conn.onWake = () => {
    if (finished) return;
    if (conn.error !== undefined) return finish(conn.error);
    if (conn.state === "SYN_SENT") return;
    if (!sent && unsent.length > 0) {
      unsent = unsent.subarray(conn.send(unsent));
      sent = unsent.length === 0;
      kick();
    }
    for (let chunk = conn.read(); chunk.length > 0; chunk = conn.read()) {
      parts.push(chunk);
      received += chunk.length;
    }
    if (received >= LENGTH_PREFIX) {
      const all = concatBytes(parts);
      const length = readU16(all, 0);
      if (all.length >= LENGTH_PREFIX + length) return finish(all.slice(LENGTH_PREFIX, LENGTH_PREFIX + length));
    }
    if (conn.peerFinished || conn.isClosed()) finish(new Error("the server closed the connection before a whole answer"));
  };
  return () => {
    if (finished) return;
    finished = true;
    conn.onWake = undefined;
    conn.close();
    kick();
  };
}
