/**
 * The narration renderer on small hand-made event streams: arrows and their fates, state
 * cells, notes, the knowledge line, focus summaries, collapsing and colour.
 */
import { IpAddress } from "../../src/wire/address.js";
import { describe, expect, it } from "vitest";
import type { FourTuple, TraceEvent } from "../../src/trace/events.js";
import { narrate } from "../../src/trace/narrate/index.js";
import { ansiStyle } from "../../src/trace/style.js";
import { seq } from "../../src/wire/seq.js";
import { ACK, SYN, type TcpSegment } from "../../src/wire/tcp.js";

const C = IpAddress.v4(0x0a000001);
const S = IpAddress.v4(0x0a000002);
const hosts = [
  { name: "client", address: C },
  { name: "server", address: S },
];
const cTuple: FourTuple = { localAddr: C, localPort: 40000, remoteAddr: S, remotePort: 80 };
const sTuple: FourTuple = { localAddr: S, localPort: 80, remoteAddr: C, remotePort: 40000 };

function seg(flags: number, s: number, a: number, extra: Partial<TcpSegment> = {}): TcpSegment {
  return { srcPort: 0, dstPort: 0, seq: seq(s), ack: seq(a), flags, window: 65535, urgentPointer: 0, options: {}, payload: new Uint8Array(0), ...extra };
}
const out = (time: number, host: string, segment: TcpSegment, retransmit = false): TraceEvent => ({ type: "segment-out", time, host, tuple: host === "client" ? cTuple : sTuple, segment, retransmit });
const into = (time: number, host: string, segment: TcpSegment): TraceEvent => ({ type: "segment-in", time, host, tuple: host === "client" ? cTuple : sTuple, segment });
const state = (time: number, host: string, from: string, to: string): TraceEvent => ({ type: "state", time, host, tuple: host === "client" ? cTuple : sTuple, from: from as "CLOSED", to: to as "CLOSED", cause: "test" });

const syn = seg(SYN, 100, 0, { options: { mss: 1460 } });
const synAck = seg(SYN | ACK, 500, 101);
const handshake: TraceEvent[] = [
  { type: "app", time: 0, host: "server", call: "listen(80)" },
  state(0, "client", "CLOSED", "SYN_SENT"),
  out(0, "client", syn),
  into(10, "server", syn),
  state(10, "server", "LISTEN", "SYN_RCVD"),
  out(10, "server", synAck),
  into(20, "client", synAck),
  state(20, "client", "SYN_SENT", "ESTABLISHED"),
  out(20, "client", seg(ACK, 101, 501, { window: 502 })),
  into(30, "server", seg(ACK, 101, 501, { window: 502 })),
  state(30, "server", "SYN_RCVD", "ESTABLISHED"),
];

const body = (lines: string[]) => lines.slice(lines.indexOf("") + 2);

describe("narration", () => {
  it("draws the handshake with the documents' names and each side's state on every row", () => {
    const lines = narrate(handshake, { hosts });
    expect(lines[0]).toBe("initial sequence numbers: x = 100 (client), y = 500 (server); --absolute shows raw numbers");
    const rows = body(lines);
    expect(rows[0]).toMatch(/^0\.000s {3}CLOSED +listen\(80\) +\[LISTEN\]$/);
    expect(rows[1]).toMatch(/^0\.000s  \[SYN_SENT\] +test +LISTEN$/);
    expect(rows[2]).toMatch(/^0\.000s   SYN_SENT +-- SYN seq=x win=65535 mss=1460 -+> +LISTEN$/);
    expect(rows[3]).toMatch(/\[SYN_RCVD\]$/);
    expect(rows[4]).toMatch(/SYN_SENT +<-+ SYN,ACK seq=y ack=x\+1 win=65535 -- +SYN_RCVD$/);
    expect(rows[5]).toMatch(/^0\.020s  \[ESTABLISHED\] +SYN_RCVD$/);
    expect(rows[6]).toContain("-- ACK seq=x+1 ack=y+1 win=502 --");
    expect(rows[7]).toMatch(/\[ESTABLISHED\]$/);
    expect(rows).toHaveLength(8);
  });

  it("prints raw numbers with seq: absolute", () => {
    const rows = body(narrate(handshake, { hosts, seq: "absolute" }));
    expect(rows.join("\n")).toContain("SYN,ACK seq=500 ack=101");
  });

  it("ends a lost segment mid-way with an X and says why", () => {
    const events: TraceEvent[] = [out(0, "client", syn), { type: "link", time: 0, link: "client->server", action: "drop", reason: "loss", bytes: 44 }];
    const row = body(narrate(events, { hosts }))[0]!;
    expect(row).toMatch(/-- SYN seq=x win=65535 mss=1460 -+X {2}lost \(loss\) +CLOSED$/);
    expect(row).not.toContain(">");
  });

  it("marks a segment corrupted on the way and the receiver's silent drop", () => {
    const events: TraceEvent[] = [
      out(0, "client", syn),
      { type: "link", time: 0, link: "client->server", action: "corrupt", reason: "bit-flip", bytes: 44 },
      { type: "drop", time: 10, host: "server", reason: "bad-checksum", detail: "TCP: bad-checksum" },
    ];
    const rows = body(narrate(events, { hosts, explain: true }));
    expect(rows[0]).toContain("(corrupted)");
    expect(rows[1]).toMatch(/X dropped: bad-checksum +CLOSED$/);
    expect(rows[2]).toContain("why: The checksum does not match");
  });

  it("explains each step and what each side now knows (S35)", () => {
    const text = narrate(handshake, { hosts, explain: true }).join("\n");
    expect(text).toContain("why: server got a SYN: client wants to connect and can send.");
    expect(text).toContain("[server knows client: sends yes, receives ?, finished ? | client knows server: sends ?, receives ?, finished ?]");
    expect(text).toContain("[client knows server: sends yes, receives yes, finished ? | server knows client: sends yes, receives ?, finished ?]");
    expect(text).toContain("now both sides know both can send and receive");
  });

  it("summarises traffic outside the focus instead of drawing it", () => {
    const attacker = { localAddr: IpAddress.v4(0xc6120001), localPort: 1234, remoteAddr: S, remotePort: 80 };
    const events: TraceEvent[] = [
      ...Array.from({ length: 5 }, (_, i): TraceEvent => ({ type: "segment-out", time: i, host: "attacker", tuple: attacker, segment: syn, retransmit: false })),
      { type: "drop", time: 4, host: "server", reason: "syn-queue-full", tuple: { localAddr: S, localPort: 80, remoteAddr: IpAddress.v4(0xc6120001), remotePort: 1234 }, segment: syn },
      ...handshake.slice(1),
    ];
    const text = narrate(events, { hosts, focus: ["client", "server"] }).join("\n");
    // The summary wraps at the diagram's width; read it as one line.
    const flat = text.replace(/\n\s+/g, " ");
    expect(flat).toContain("... meanwhile 0.000s to 0.004s: attacker sent SYN x5; server dropped (syn-queue-full) x1");
    // Only the client's SYN is drawn; the attacker's five are counted.
    expect(text.match(/-- SYN seq=/g)).toHaveLength(1);
  });

  it("collapses long runs of the same thing", () => {
    const events: TraceEvent[] = Array.from({ length: 30 }, (_, i) => out(i * 100, "client", seg(ACK, 101, 501)));
    const rows = body(narrate(events, { hosts }));
    expect(rows).toHaveLength(3);
    expect(rows[1]).toContain("... the row above repeats 28 more times, 0.100s to 2.800s ...");
    expect(body(narrate(events, { hosts, collapse: false }))).toHaveLength(30);
  });

  it("uses colour only with the ANSI style", () => {
    expect(narrate(handshake, { hosts }).join("")).not.toContain("\x1b[");
    const coloured = narrate(handshake, { hosts, style: ansiStyle }).join("\n");
    expect(coloured).toContain("\x1b[1;32m[SYN_RCVD]\x1b[0m");
    expect(coloured.replace(/\x1b\[[0-9;]*m/g, "")).toBe(narrate(handshake, { hosts }).join("\n"));
  });
});
