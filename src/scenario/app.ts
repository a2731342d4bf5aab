/**
 * The application side of one scripted connection: writes wait here until the send
 * buffer takes them, and (unless told to stop) everything received is read at once, as a
 * program looping on read() would. Wakes from the engine drive it.
 */
import type { Connection } from "../tcp/connection.js";

/** Received text is kept up to this many bytes (expectations compare it); the count is kept always. */
const KEEP_TEXT = 1 << 20;

export class AppConnection {
  private readonly pending: Array<{ data: Uint8Array; urgent: boolean }> = [];
  /** Urgent bytes taken out of band, as a program's SIGURG handler would at once (latin-1). */
  oob = "";
  reading = true;
  receivedBytes = 0;
  eof = false;
  private readonly kept: Uint8Array[] = [];
  private keptBytes = 0;

  constructor(
    readonly label: string,
    readonly host: string,
    readonly conn: Connection,
    /** Index of the trace event list at the moment this connection got its name. */
    readonly eventIndex: number,
    private readonly onError: (message: string, code: string) => void,
  ) {
    conn.onWake = () => this.pump();
  }

  write(bytes: Uint8Array, urgent = false): void {
    this.pending.push({ data: bytes, urgent });
    this.pump();
  }

  /** Moves queued writes into the send buffer and reads what arrived. */
  pump(): void {
    while (this.pending.length > 0 && this.conn.canSend) {
      const chunk = this.pending[0]!;
      // MSG_OOB marks the end of what the write queued: only its last piece carries it.
      const n = this.conn.send(chunk.data, { oob: chunk.urgent });
      if (n === chunk.data.length) this.pending.shift();
      else {
        this.pending[0] = { data: chunk.data.subarray(n), urgent: chunk.urgent };
        break;
      }
    }
    if (this.pending.length > 0 && !this.conn.canSend && this.conn.state !== "SYN_SENT" && this.conn.state !== "SYN_RCVD") {
      this.onError(`${this.pending.reduce((n, c) => n + c.data.length, 0)} bytes could not be sent in ${this.conn.state}`, "EPIPE");
      this.pending.length = 0;
    }
    if (this.conn.urgentIn.oobReady) {
      const got = this.conn.readOob();
      if ("byte" in got) this.oob += String.fromCharCode(got.byte);
    }
    if (this.reading) this.drain();
  }

  private drain(): void {
    for (;;) {
      const data = this.conn.read();
      if (data.length === 0) break;
      this.receivedBytes += data.length;
      if (this.keptBytes < KEEP_TEXT) {
        this.kept.push(data.slice());
        this.keptBytes += data.length;
      }
    }
    if (this.conn.peerFinished && this.conn.readable === 0) this.eof = true;
  }

  get text(): string {
    const all = new Uint8Array(this.keptBytes);
    let at = 0;
    for (const c of this.kept) {
      all.set(c, at);
      at += c.length;
    }
    return new TextDecoder().decode(all);
  }
}
