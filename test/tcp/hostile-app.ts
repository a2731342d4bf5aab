/**
 * The application side of the hostile-peer properties (hostile.test.ts,
 * hostile-options.test.ts): what it may do between the peer's segments, and a reader that
 * checks every byte it reads against the peer's stream.
 */
import { expect } from "vitest";
import type { Connection } from "../../src/tcp/connection.js";
import type { Harness } from "./harness.js";

export type AppAction = { kind: "send"; len: number } | { kind: "read" } | { kind: "advance"; ms: number } | { kind: "shutdown" } | { kind: "close" };

/** Byte i of the peer's stream: whatever the application reads can be checked. */
export const streamByte = (i: number): number => (i * 7) & 0xff;

export class CheckedApp {
  private readSoFar = 0;

  constructor(
    private readonly h: Harness,
    private readonly conn: Connection,
  ) {}

  /** Does `a`; a send after the application's shutdown must fail with EPIPE. */
  perform(a: AppAction): void {
    const { h, conn } = this;
    switch (a.kind) {
      case "send":
        if (conn.canSend) conn.send(new Uint8Array(a.len));
        else expect(() => conn.send(new Uint8Array(1))).toThrow(expect.objectContaining({ code: "EPIPE" }));
        h.settle();
        break;
      case "read": {
        // Byte by byte, in order. A peer's URG may take a byte out of band (not SO_OOBINLINE),
        // and an ordinary read then skips it: consecutive stream bytes always differ, so a
        // skipped byte shows as the next one.
        for (const b of conn.read()) {
          if (b !== streamByte(this.readSoFar) && b === streamByte(this.readSoFar + 1)) this.readSoFar++;
          expect(b).toBe(streamByte(this.readSoFar));
          this.readSoFar++;
        }
        break;
      }
      case "advance":
        h.advance(a.ms);
        break;
      case "shutdown":
        conn.shutdown();
        h.settle();
        break;
      case "close":
        conn.close();
        h.settle();
        break;
    }
  }
}
