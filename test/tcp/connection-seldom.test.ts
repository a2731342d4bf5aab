/**
 * The seldom-set fields of a connection (src/tcp/connection-seldom.ts) read their defaults
 * with no holder made, keep what is written, and give the holder back only once every
 * field is at its default again.
 */
import { describe, expect, it } from "vitest";
import { ConnectionSeldom } from "../../src/tcp/connection-seldom.js";
import { TcpError } from "../../src/tcp/errors.js";

class Probe extends ConnectionSeldom {
  get holds(): boolean {
    return (this as unknown as { seldom: unknown }).seldom !== undefined;
  }
  settle(): void {
    this.settleSeldom();
  }
}

describe("ConnectionSeldom", () => {
  it("reads defaults without a holder, and writing a default makes none", () => {
    const p = new Probe();
    expect([p.error, p.softError, p.ka, p.fastOpen, p.timeWaitRecord, p.urgentInPart, p.urgentOutPart]).toEqual([undefined, undefined, undefined, undefined, undefined, undefined, undefined]);
    expect(p.persistSince).toBe(0);
    expect([p.synSentAt, p.retransmits, p.advmss, p.initcwnd]).toEqual([0, 0, 0, 0]);
    p.error = undefined;
    p.retransmits = 0;
    p.persistSince = 0;
    p.synSentAt = 0;
    expect(p.holds).toBe(false);
  });

  it("keeps what is written and lets the holder go once all is default again", () => {
    const p = new Probe();
    p.synSentAt = 1234.5;
    p.softError = "EHOSTUNREACH";
    expect(p.synSentAt).toBe(1234.5);
    p.synSentAt = 0;
    p.settle();
    expect(p.holds).toBe(true); // softError still set
    expect(p.softError).toBe("EHOSTUNREACH");
    p.softError = undefined;
    p.retransmits++;
    p.settle();
    expect(p.retransmits).toBe(1);
    p.retransmits = 0;
    p.settle();
    expect(p.holds).toBe(false);
    const e = new TcpError("ECONNRESET", "reset");
    p.error = e;
    p.settle();
    expect(p.error).toBe(e);
  });
});
