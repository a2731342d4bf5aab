/**
 * One connection of a live stack (model/live-feed.ts) as a Session, so the playground's
 * views draw it as they draw a simulated run.
 *
 * Only the stack traces: the other end (the kernel behind a TUN device, the peer of a UDP
 * tunnel) is seen through the packets that reach the stack and leave it. Its column in the
 * diagram is drawn from those: each segment the stack received is shown sent by the peer at
 * the moment it arrived, and each segment the stack sent as arriving at the peer at the
 * moment it left (the link between them is a device or a socket, not a path with a delay).
 * The peer's state machine, windows and timers are not drawn: nothing reports them.
 * Times are shifted so the connection's first event is at 0.
 */
import type { ConnectionInfo } from "../../../src/tcp/connection-info.js";
import type { FourTuple, TraceEvent } from "../../../src/trace/events.js";
import { parseIpv4 } from "../../../src/wire/ipv4.js";
import { parseIpv6 } from "../../../src/wire/ipv6.js";
import { parseTcp, type TcpSegment } from "../../../src/wire/tcp.js";
import type { AddressKey } from "../../../src/wire/address.js";
import { connectionKey, type LiveLog } from "./live-feed.js";
import { buildSession, type PacketRecord, type Session, type Snapshot } from "./session.js";

export interface LiveSession extends Session {
  /** Hosts drawn from what the stack saw, whose own state is not traced. */
  untraced: ReadonlySet<string>;
  /** Wall-clock-free stack time of the connection's first event (times in the session are relative to it). */
  origin: number;
}

const mirror = (t: FourTuple): FourTuple => ({ localAddr: t.remoteAddr, localPort: t.remotePort, remoteAddr: t.localAddr, remotePort: t.localPort });

function segKey(s: TcpSegment, src: number, dst: number): string {
  return `${src}>${dst} ${s.seq >>> 0} ${s.ack >>> 0} ${s.flags} ${s.payload.length}`;
}

/** The TCP segment in an IPv4 or IPv6 packet (no extension headers), or undefined. */
function tcpOf(packet: Uint8Array): TcpSegment | undefined {
  const version = packet[0]! >> 4;
  let payload: Uint8Array | undefined;
  if (version === 4) {
    const ip = parseIpv4(packet, { verifyChecksum: false });
    if (ip.ok && ip.value.header.protocol === 6 && ip.value.header.fragmentOffset === 0) payload = ip.value.payload;
  } else if (version === 6) {
    const ip = parseIpv6(packet);
    if (ip.ok && ip.value.header.nextHeader === 6) payload = ip.value.payload;
  }
  if (payload === undefined) return undefined;
  const seg = parseTcp(payload, null);
  return seg.ok ? seg.value : undefined;
}

export function liveSession(log: LiveLog, key: string): LiveSession | undefined {
  const hello = log.hello;
  const conn = log.connections().find((c) => c.key === key);
  if (hello === undefined || conn === undefined) return undefined;
  const me = hello.host;
  const peer = hello.peerName;
  const tuple = conn.tuple;
  const mine = (e: TraceEvent): boolean => {
    if (e.type === "queue") return e.host === me && e.port === tuple.localPort;
    return "tuple" in e && e.tuple !== undefined && connectionKey(e.tuple) === key;
  };
  const picked = log.events.filter(mine);
  if (picked.length === 0) return undefined;
  const origin = picked[0]!.time;
  // The views need times in event order; a live stack stamps some events (a timer armed
  // while a packet was processed) with the time the processing began: drawn no earlier
  // than the event before them.
  const at = (t: number): number => Math.max(0, t - origin);
  let latest = 0;
  const inOrder = (t: number): number => (latest = Math.max(latest, at(t)));

  // The stack's events, with the peer's side of each segment added next to it.
  const events: TraceEvent[] = [];
  const outIndex = new Map<string, number[]>();
  const note = (k: string, i: number): void => {
    const list = outIndex.get(k) ?? [];
    list.push(i);
    outIndex.set(k, list);
  };
  for (const e of picked) {
    const time = inOrder(e.time);
    if (e.type === "segment-in") {
      note(segKey(e.segment, e.tuple.remotePort, e.tuple.localPort), events.length);
      events.push({ type: "segment-out", time, host: peer, tuple: mirror(e.tuple), segment: e.segment, retransmit: false });
      events.push({ ...e, time });
    } else if (e.type === "segment-out") {
      note(segKey(e.segment, e.tuple.localPort, e.tuple.remotePort), events.length);
      events.push({ ...e, time });
      events.push({ type: "segment-in", time, host: peer, tuple: mirror(e.tuple), segment: e.segment });
    } else events.push({ ...e, time });
  }

  // The packets of this connection as they crossed the link, each tied to its segment-out.
  const packets: PacketRecord[] = [];
  const first = picked[0]!.time;
  const last = picked[picked.length - 1]!.time;
  for (const p of log.packets) {
    // A packet is stamped when the link hands it over, before the engine's event for it:
    // on a loaded machine milliseconds before. A second either side is plenty.
    if (p.time < first - 1000 || p.time > last + 1000) continue;
    const seg = tcpOf(p.bytes);
    if (seg === undefined) continue;
    const portsMatch = p.dir === "out" ? seg.srcPort === tuple.localPort && seg.dstPort === tuple.remotePort : seg.srcPort === tuple.remotePort && seg.dstPort === tuple.localPort;
    if (!portsMatch) continue;
    const list = outIndex.get(segKey(seg, seg.srcPort, seg.dstPort));
    const rec: PacketRecord = { time: at(p.time), from: p.dir === "out" ? me : peer, to: p.dir === "out" ? peer : me, bytes: p.bytes };
    const index = list?.shift();
    if (index !== undefined) rec.segment = index;
    packets.push(rec);
  }

  const snapshots: Snapshot[] = [];
  for (const s of log.snapshots) {
    const info: ConnectionInfo | undefined = s.conns.find((c) => connectionKey(c.tuple) === key);
    if (info === undefined || s.host !== me) continue;
    snapshots.push({ time: at(s.time), hosts: { [me]: { listeners: s.listeners.filter((l) => l.port === tuple.localPort), conns: [info] } } });
  }

  // The end that sent the first SYN is drawn on the left, as a client usually is.
  const firstSeg = events.find((e) => e.type === "segment-out");
  const peerFirst = firstSeg !== undefined && firstSeg.host === peer;
  const columns = [
    { name: me, address: tuple.localAddr },
    { name: peer, address: tuple.remoteAddr },
  ];
  if (peerFirst) columns.reverse();
  const focusAddr = new Set<AddressKey>([tuple.localAddr.key, tuple.remoteAddr.key]);
  const session = buildSession({
    spec: {
      name: `live-${tuple.remoteAddr.toString().replace(/[:.]/g, "-")}-${tuple.remotePort}-${tuple.localPort}`,
      title: `live: ${peer} ${conn.key.split(">")[1]} ⇄ ${me} ${conn.key.split(">")[0]}`,
      description: `A connection of the running stack on ${hello.link}, as its trace events arrive. Only ${me} is traced: the ${peer}'s segments are drawn as they reached ${me}, and its state is not shown.`,
      hosts: [
        { name: me, address: tuple.localAddr.toString() },
        { name: peer, address: tuple.remoteAddr.toString() },
      ],
      script: [],
    },
    seed: 0,
    events,
    columns,
    packets,
    snapshots,
    focus: new Set([me, peer]),
    focusAddr,
  });
  // The peer's segments: nothing says why it sent them, and the wire's verdict has no stack reason to differ from.
  for (const r of session.segments) {
    if (r.from !== peer) continue;
    r.reason = `sent by the ${peer} (not traced: its reason is not known here)`;
    delete r.cause;
    if (r.verdict !== undefined) delete r.verdict.disagreement;
  }
  return Object.assign(session, { untraced: new Set([peer]), origin });
}
