/**
 * Segment-level test harness in the style of smoltcp's socket tests: one synack host,
 * a scripted peer, virtual time. `deliver` hands the host one segment from the peer;
 * `expectSent` asserts the exact segments that came out, and that nothing else did.
 */
import { IpAddress } from "../../src/wire/address.js";
import { expect } from "vitest";
import { Host } from "../../src/host/host.js";
import type { GsoInfo } from "../../src/endpoint.js";
import { splitGso } from "../../src/wire/gso-split.js";
import { SimRng } from "../../src/sim/index.js";
import type { Connection, ConnectionInfo } from "../../src/tcp/connection.js";
import type { TcpState, TraceSink } from "../../src/trace/events.js";
import type { TcpConfig } from "../../src/tcp/config.js";
import type { Listener } from "../../src/tcp/listener.js";
import { emitIpv4Header, IPV4_MIN_HEADER, parseIpv4, parseIpv4Address, PROTO_TCP } from "../../src/wire/ipv4.js";
import { seq, seqAdd, type Seq } from "../../src/wire/seq.js";
import { ACK, emitTcp, flagNames, headerLength, parseTcp, SYN, type TcpOptions, type TcpSegment } from "../../src/wire/tcp.js";

export const LOCAL_ADDR = parseIpv4Address("192.168.1.1")!;
export const REMOTE_ADDR = parseIpv4Address("192.168.1.2")!;
export const LOCAL_PORT = 80;
export const REMOTE_PORT = 49500;
export const REMOTE_SEQ = seq(1_000_000);

export interface SegSpec {
  flags: number;
  seq: Seq;
  ack?: Seq;
  window?: number;
  payload?: Uint8Array | string;
  options?: TcpOptions;
  /** The IP ECN codepoint (RFC 3168: 0 not-ECT, 2 ECT(0), 1 ECT(1), 3 CE) of a delivered segment. */
  ecn?: number;
  /** The urgent pointer of a delivered segment (set URG in `flags` too). */
  urg?: number;
}

export class Harness {
  readonly host: Host;
  now = 0;
  private out: TcpSegment[] = [];
  /** The IP ECN codepoint of each segment in `out`, in order. */
  private outEcn: number[] = [];

  /**
   * Every IP packet as it left, with its GSO size when the host sent a super-packet (only
   * with `gsoMaxSize`); `takeSent` sees super-packets cut into their segments (splitGso).
   */
  readonly packets: Array<{ packet: Uint8Array; gso: GsoInfo | undefined }> = [];

  constructor(tcp: Partial<TcpConfig> = {}, mtu = 1500, trace?: TraceSink, gsoMaxSize = 0) {
    this.host = new Host({
      name: "local",
      address: LOCAL_ADDR,
      rng: new SimRng(42),
      mtu,
      gsoMaxSize,
      transmit: (packet, gso) => {
        this.packets.push({ packet, gso });
        for (const piece of gso !== undefined ? splitGso(packet, gso.size) : [packet]) {
          const ip = parseIpv4(piece);
          if (!ip.ok) throw new Error(`host sent a bad IPv4 packet: ${ip.reason}`);
          const tcp = parseTcp(ip.value.payload, { src: ip.value.header.src, dst: ip.value.header.dst });
          if (!tcp.ok) throw new Error(`host sent a bad TCP segment: ${tcp.reason}`);
          this.out.push(tcp.value);
          this.outEcn.push(ip.value.header.tos & 3);
        }
      },
      tcp: { windowScaling: false, timestamps: false, sack: false, ...tcp },
      ...(trace !== undefined ? { trace } : {}),
    });
    this.host.tcp.setClock(() => this.now);
  }

  /** Hands the host one segment from the peer, then lets it run at the same instant. */
  deliver(spec: SegSpec, from: { addr: number; port: number; toPort?: number } = { addr: REMOTE_ADDR, port: REMOTE_PORT }): void {
    const payload = typeof spec.payload === "string" ? new TextEncoder().encode(spec.payload) : (spec.payload ?? new Uint8Array(0));
    const seg: TcpSegment = {
      srcPort: from.port,
      dstPort: from.toPort ?? LOCAL_PORT,
      seq: spec.seq,
      ack: spec.ack ?? (0 as Seq),
      flags: spec.flags,
      window: spec.window ?? 65535,
      urgentPointer: spec.urg ?? 0,
      options: spec.options ?? {},
      payload,
    };
    const tcpLen = headerLength(seg.options) + payload.length;
    const pkt = new Uint8Array(IPV4_MIN_HEADER + tcpLen);
    emitIpv4Header({ src: from.addr, dst: LOCAL_ADDR, protocol: PROTO_TCP, payloadLength: tcpLen, tos: spec.ecn ?? 0 }, pkt, 0);
    emitTcp(seg, pkt, IPV4_MIN_HEADER, { src: from.addr, dst: LOCAL_ADDR });
    this.host.receive(this.now, pkt);
    this.settle();
  }

  /** Delivers raw packet bytes (for corruption tests). */
  deliverRaw(packet: Uint8Array): void {
    this.host.receive(this.now, packet);
    this.settle();
  }

  /** Runs everything due now (application calls leave their segments here). */
  settle(): void {
    for (let i = 0; i < 100 && this.host.nextDeadline() <= this.now; i++) this.host.poll(this.now);
  }

  /** Advances virtual time by `ms`, firing every timer on the way. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const d = this.host.nextDeadline();
      if (d > end) break;
      this.now = Math.max(this.now, d);
      this.host.poll(this.now);
    }
    this.now = end;
  }

  /** Advances to the next deadline only; returns the time it fired at. */
  nextTimer(): number {
    const d = this.host.nextDeadline();
    if (d === Infinity) throw new Error("no timer armed");
    this.now = Math.max(this.now, d);
    this.host.poll(this.now);
    return this.now;
  }

  /** Takes every segment sent since the last call. */
  takeSent(): TcpSegment[] {
    const s = this.out;
    this.out = [];
    this.outEcn = [];
    return s;
  }

  /** Takes every segment sent since the last call, each with its IP ECN codepoint. */
  takeSentWithEcn(): Array<{ seg: TcpSegment; ecn: number }> {
    const ecn = this.outEcn;
    return this.takeSent().map((seg, i) => ({ seg, ecn: ecn[i]! }));
  }

  /** Asserts the exact segments sent since the last check, and that nothing else was. */
  expectSent(expected: SegSpec[]): void {
    const got = this.takeSent();
    const describe = (s: { flags: number; seq: number; ack?: number | undefined; payload?: Uint8Array | string | undefined; window?: number | undefined }) =>
      `${flagNames(s.flags)} seq=${s.seq}${(s.flags & ACK) !== 0 ? ` ack=${s.ack}` : ""} len=${typeof s.payload === "string" ? s.payload.length : (s.payload?.length ?? 0)}`;
    expect(got.map(describe)).toEqual(expected.map(describe));
    expected.forEach((e, i) => {
      const g = got[i]!;
      if (e.window !== undefined) expect(g.window, `window of segment ${i}`).toBe(e.window);
      if (e.options !== undefined) expect(g.options, `options of segment ${i}`).toEqual(e.options);
      if (e.payload !== undefined) {
        const p = typeof e.payload === "string" ? new TextEncoder().encode(e.payload) : e.payload;
        expect(Array.from(g.payload)).toEqual(Array.from(p));
      }
    });
  }

  expectNothingSent(): void {
    this.expectSent([]);
  }
}

/** A listening host (port 80). */
export function listening(tcp: Partial<TcpConfig> = {}): { h: Harness; listener: Listener } {
  const h = new Harness(tcp);
  const listener = h.host.tcp.listen(LOCAL_PORT);
  return { h, listener };
}

/**
 * The half-open entries of the host (request records, or Fast Open connections) as
 * `inspect()` snapshots, oldest first: what `ss` lists in SYN-RECV.
 */
export function halfOpen(h: Harness): ConnectionInfo[] {
  return h.host.tcp.allSockets().filter((s) => s.info.state === "SYN_RCVD").map((s) => s.info);
}

/** The state of the 4-tuple from REMOTE:REMOTE_PORT (or `port`) now; CLOSED when nothing holds it. */
export function stateOf(h: Harness, port = REMOTE_PORT): TcpState {
  return h.host.tcp.allSockets((t) => t.remotePort === port)[0]?.info.state ?? "CLOSED";
}

/** A passive open in SYN_RCVD: the peer's SYN arrived and our SYN-ACK left. `half` is the entry then. */
export function synReceived(tcp: Partial<TcpConfig> = {}): { h: Harness; listener: Listener; half: ConnectionInfo; iss: Seq } {
  const { h, listener } = listening(tcp);
  h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: 1460 } });
  const half = halfOpen(h)[0]!;
  h.takeSent();
  return { h, listener, half, iss: half.iss };
}

/** An established passive connection: LOCAL ISS and REMOTE_SEQ known, nothing in flight. */
export function established(tcp: Partial<TcpConfig> = {}): { h: Harness; conn: Connection; iss: Seq; listener: Listener } {
  const { h, listener, iss } = synReceived(tcp);
  h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: seqAdd(iss, 1) });
  h.takeSent();
  const conn = listener.accept()!;
  return { h, conn, iss, listener };
}

/** An active connection in SYN_SENT: our SYN left for REMOTE:REMOTE_PORT... from LOCAL:ephemeral. */
export function synSent(tcp: Partial<TcpConfig> = {}): { h: Harness; conn: Connection; iss: Seq; sent: TcpSegment } {
  const h = new Harness(tcp);
  const conn = h.host.tcp.connect({ localAddr: IpAddress.v4(LOCAL_ADDR), localPort: LOCAL_PORT, remoteAddr: IpAddress.v4(REMOTE_ADDR), remotePort: REMOTE_PORT });
  h.settle();
  const sent = h.takeSent();
  return { h, conn, iss: conn.iss, sent: sent[0]! };
}

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);
