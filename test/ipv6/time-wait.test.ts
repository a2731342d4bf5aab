/**
 * Compact TIME_WAIT records (src/tcp/time-wait.ts) in both families: an IPv6 connection
 * gives its place to a record as an IPv4 one does, and the record answers for the
 * IPv6 4-tuple by the same rules (RFC 9293 3.10.7.4): a retransmitted FIN is re-ACKed over
 * IPv6, `allSockets()` lists the record with its IPv6 endpoints, 2MSL ends it.
 */
import { describe, expect, it } from "vitest";
import type { FaultVerdict } from "../../src/sim/link.js";
import { FAMILIES, familyPair } from "./helpers.js";

describe.each(FAMILIES)("TIME_WAIT record over IPv%i", (family) => {
  it("takes the connection's place and re-ACKs the peer's retransmitted FIN", () => {
    // Drop a's ACK of b's FIN once, so b retransmits its FIN to the record.
    let dropNext = false;
    let dropped = 0;
    const p = familyPair(family);
    p.net.setPath("a", "b", {
      delay: 10,
      filter: (): FaultVerdict => {
        if (!dropNext) return "pass";
        dropNext = false;
        dropped++;
        return "drop";
      },
    });
    const l = p.b.tcp.listen(80);
    const c = p.a.tcp.connect({ localAddr: p.A, remoteAddr: p.B, remotePort: 80 });
    p.net.runUntil(() => c.state === "ESTABLISHED", 1000);
    p.net.runFor(20);
    const s = l.accept()!;
    c.close();
    p.net.runUntil(() => c.state === "FIN_WAIT_2" && s.state === "CLOSE_WAIT", 1000);
    dropNext = true; // the next packet from a is its ACK of b's FIN
    s.close();
    p.net.runUntil(() => dropped === 1, 1000);
    p.net.runFor(1);
    const tcp = p.a.tcp;
    expect(tcp.timeWaitRecords).toBe(1);
    expect(tcp.allConnections()).not.toContain(c);
    const listed = tcp.allSockets();
    expect(listed).toHaveLength(1);
    expect(listed[0]!.connection).toBeUndefined();
    expect(listed[0]!.info.state).toBe("TIME_WAIT");
    expect(listed[0]!.info.tuple.localAddr.equals(p.A)).toBe(true);
    expect(listed[0]!.info.tuple.remoteAddr.equals(p.B)).toBe(true);
    expect(listed[0]!.info.tuple.remoteAddr.family).toBe(family);
    expect(c.state).toBe("TIME_WAIT");
    // b's retransmitted FIN reaches the record, which ACKs it: b closes without an error.
    p.net.runUntil(() => s.state === "CLOSED", 5000);
    expect(s.error).toBeUndefined();
    const reAcked = p.events.find((e) => e.type === "drop" && e.host === "a" && e.reason === "duplicate" && /retransmitted FIN in TIME_WAIT/.test(e.detail ?? ""));
    expect(reAcked).toBeDefined();
    expect(listed[0]!.info.segmentsIn).toBe(0);
    expect(tcp.allSockets()[0]!.info.segmentsIn).toBe(1);
    expect(tcp.allSockets()[0]!.info.segmentsOut).toBe(1);
    // 2MSL (60 s) after the re-ACK restarted it, the record and the 4-tuple are free.
    p.net.runFor(60_000);
    expect(tcp.timeWaitRecords).toBe(0);
    expect(tcp.allSockets()).toHaveLength(0);
    expect(c.state).toBe("CLOSED");
  });
});
