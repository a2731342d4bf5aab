/**
 * A tiny application for simulator tests: sends a byte stream, reads everything, and
 * half-closes when its stream is sent. Driven entirely by the connection's wake-ups.
 */
import type { Connection } from "../../src/tcp/connection.js";

export class StreamApp {
  private sent = 0;
  private readonly received: Uint8Array[] = [];
  receivedBytes = 0;
  eof = false;
  closedAt: number | undefined;

  constructor(
    readonly conn: Connection,
    private readonly outgoing: Uint8Array,
    private readonly opts: { closeAfterSend?: boolean; read?: boolean; closeOnEof?: boolean } = {},
  ) {
    conn.onWake = () => this.pump();
    this.pump();
  }

  pump(): void {
    const c = this.conn;
    if (this.opts.read !== false) {
      for (;;) {
        const d = c.read();
        if (d.length === 0) break;
        this.received.push(d.slice());
        this.receivedBytes += d.length;
      }
      if (c.peerFinished && c.readable === 0) this.eof = true;
    }
    if (c.canSend && this.sent < this.outgoing.length) {
      this.sent += c.send(this.outgoing.subarray(this.sent));
    }
    if (this.sent === this.outgoing.length && this.opts.closeAfterSend !== false && c.canSend) c.shutdown();
    // Done both ways: give the socket up, as an application's close() would.
    if (this.opts.closeOnEof === true && this.eof && !c.canSend && !c.orphaned) c.close();
  }

  get sentBytes(): number {
    return this.sent;
  }

  data(): Uint8Array {
    const out = new Uint8Array(this.receivedBytes);
    let o = 0;
    for (const d of this.received) {
      out.set(d, o);
      o += d.length;
    }
    return out;
  }
}

export function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
