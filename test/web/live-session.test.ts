/**
 * The live view's page-side model without a browser or a TUN device: the server's events
 * of a simulated handshake go through the real stream (LiveFeed -> SSE frames), the page's
 * LiveLog reads them back, and liveSession turns the server's connection into a Session
 * whose peer column is drawn from what the server saw.
 */
import { describe, expect, it } from "vitest";
import type { LiveHello } from "../../src/trace/live-protocol.js";
import { LiveLog } from "../../web/playground/model/live-feed.js";
import { liveSession } from "../../web/playground/model/live-session.js";
import { feedOf } from "./live-frames.js";

const hello = (last: number): string => JSON.stringify({ kind: "hello", host: "server", addresses: ["10.0.0.2"], peerName: "kernel", link: "sim", history: { first: 1, last, maxMessages: 1000, maxBytes: 1e6, dropped: 0 } } satisfies LiveHello);

describe("LiveLog and liveSession", () => {
  it("the server's side of a handshake: the peer's segments drawn from what arrived, its state not traced", async () => {
    const frames = await feedOf("handshake");
    const log = new LiveLog();
    log.add(hello(frames.length), "");
    for (const f of frames) expect(log.add(f.data, f.id)).toBe(true);
    // A reconnect's history overlaps: ids already seen change nothing.
    for (const f of frames) expect(log.add(f.data, f.id)).toBe(false);
    expect(log.rejected).toBe(0);
    const conns = log.connections();
    expect(conns.map((c) => c.state)).toEqual(["ESTABLISHED"]);
    const s = liveSession(log, conns[0]!.key)!;
    // The side that sent the first SYN is on the left.
    expect(s.columns.map((c) => c.name)).toEqual(["kernel", "server"]);
    expect([...s.untraced]).toEqual(["kernel"]);
    expect(s.segments.map((r) => `${r.from}>${r.to} ${r.label.split(" ")[0]} ${r.fate}`)).toEqual(["kernel>server SYN delivered", "server>kernel SYN,ACK delivered", "kernel>server ACK delivered"]);
    expect(s.segments[0]!.reason).toBe("sent by the kernel (not traced: its reason is not known here)");
    expect(s.segments[1]!.reason).toBe("SYN,ACK answering the SYN");
    // Each segment is tied to its real packet (the hex view, Wireshark's flags), the SYN too, although its packet was stamped before the connection's first event.
    expect(s.segments.map((r) => r.bytes?.length)).toEqual([60, 60, 52]);
    expect(s.segments.every((r) => r.verdict !== undefined)).toBe(true);
    // Times start at the connection's first event and never go back.
    expect(s.events[0]!.time).toBe(0);
    expect(s.events.every((e, i) => i === 0 || e.time >= s.events[i - 1]!.time)).toBe(true);
    // The snapshots became the server's TCB at each moment.
    expect(s.snapshots.map((x) => x.hosts["server"]!.conns[0]!.state)).toEqual(["SYN_RCVD", "ESTABLISHED"]);
  });

  it("a server that restarted (its ids begin again) replaces what the page held", async () => {
    const frames = await feedOf("handshake");
    const log = new LiveLog();
    log.add(hello(frames.length), "");
    for (const f of frames) log.add(f.data, f.id);
    expect(log.events.length).toBeGreaterThan(0);
    log.add(hello(2), "");
    expect(log.events).toHaveLength(0);
    expect(log.connections()).toEqual([]);
    log.add(frames[0]!.data, "1");
    expect(log.messages).toBe(frames.length + 1);
  });

  it("counts what it cannot read instead of throwing, and keeps at most its cap", () => {
    const log = new LiveLog(10);
    expect(log.add("{not json", "1")).toBe(false);
    expect(log.add(JSON.stringify({ kind: "event", event: { type: "segment-in", time: 1 } }), "2")).toBe(false);
    expect(log.add(JSON.stringify({ kind: "mystery" }), "3")).toBe(false);
    expect(log.rejected).toBe(3);
    // Found by test/web/live-feed-fuzz.test.ts: each of these threw before.
    expect(log.add("null", "4")).toBe(false);
    expect(log.add(JSON.stringify({ kind: "packet", time: 1, dir: "in", base64: "!" }), "5")).toBe(false);
    const segment = { srcPort: 1, dstPort: 2, seq: 0, ack: 0, window: 0, urgentPointer: 0, payloadLength: 2 ** 32 + 1, flags: "SYN", options: {} };
    const tuple = { localAddr: "10.0.0.1", localPort: 1, remoteAddr: "10.0.0.2", remotePort: 2 };
    expect(log.add(JSON.stringify({ kind: "event", event: { type: "segment-in", time: 1, host: "server", tuple, segment } }), "6")).toBe(false);
    expect(log.rejected).toBe(6);
    expect(log.add(JSON.stringify({ kind: "snapshot", time: 1, host: "server", listeners: [], conns: [null, 5] }), "7")).toBe(true);
    expect(log.snapshots.at(-1)!.conns).toEqual([]);
    for (let i = 0; i < 100; i++) log.add(JSON.stringify({ kind: "event", event: { type: "app", time: i, host: "server", call: "x" } }), String(10 + i));
    expect(log.events.length).toBeLessThanOrEqual(11);
    expect(log.events[log.events.length - 1]!.time).toBe(99);
  });
});
