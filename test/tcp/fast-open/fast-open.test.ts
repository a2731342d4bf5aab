/**
 * TCP Fast Open (RFC 7413) end to end in the simulator and segment by segment: the option
 * on the wire, the server's child with the SYN's data, the client's cache and its fallback
 * when the SYN's data is not acknowledged.
 */
import { describe, expect, it } from "vitest";
import { FastOpenCache } from "../../../src/tcp/fast-open/cache.js";
import { makeCookie, parseKey } from "../../../src/tcp/fast-open/cookie.js";
import { IpAddress } from "../../../src/wire/address.js";
import { seqAdd } from "../../../src/wire/seq.js";
import { ACK, emitTcp, headerLength, parseTcp, SYN, type TcpSegment } from "../../../src/wire/tcp.js";
import { bytes, Harness, LOCAL_ADDR, LOCAL_PORT, REMOTE_ADDR, REMOTE_PORT, REMOTE_SEQ, text } from "../harness.js";
import { CLIENT_ADDR, pair, SERVER_ADDR } from "../fixtures.js";

const KEY = "a0bf63f7-ed803d81-cd641d30-cebc4a90";
const cookieFor = (client: number, server: number) => makeCookie(parseKey(KEY), IpAddress.v4(client), IpAddress.v4(server));

function roundTrip(seg: TcpSegment): TcpSegment {
  const buf = new Uint8Array(headerLength(seg.options) + seg.payload.length).fill(0xa5);
  emitTcp(seg, buf, 0, null);
  const r = parseTcp(buf, null);
  if (!r.ok) throw new Error(r.reason);
  return r.value;
}

describe("the Fast Open option on the wire", () => {
  const base: TcpSegment = { srcPort: 1, dstPort: 2, seq: 0 as never, ack: 0 as never, flags: SYN, window: 0, urgentPointer: 0, options: {}, payload: new Uint8Array(0) };

  it("kind 34: a request is 2 bytes padded with two NOPs; an 8-byte cookie needs none", () => {
    const req = { ...base, options: { mss: 1460, fastOpen: { cookie: new Uint8Array(0), exp: false } } };
    expect(headerLength(req.options)).toBe(20 + 4 + 4);
    const buf = new Uint8Array(28).fill(0xa5);
    emitTcp(req, buf, 0, null);
    expect([...buf.subarray(24, 28)]).toEqual([34, 2, 1, 1]);
    const cookie = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(roundTrip({ ...base, options: { fastOpen: { cookie, exp: false } } }).options.fastOpen).toEqual({ cookie, exp: false });
    expect(headerLength({ fastOpen: { cookie, exp: false } })).toBe(20 + 12);
  });

  it("kind 254 with magic 0xF989 is the experimental form; another magic is not Fast Open", () => {
    const cookie = Uint8Array.from([0xab, 0xcd, 0x12, 0x34]);
    const seg = { ...base, options: { fastOpen: { cookie, exp: true } } };
    const buf = new Uint8Array(headerLength(seg.options));
    emitTcp(seg, buf, 0, null);
    expect([...buf.subarray(20, 28)]).toEqual([254, 8, 0xf9, 0x89, 0xab, 0xcd, 0x12, 0x34]);
    expect(roundTrip(seg).options.fastOpen).toEqual({ cookie, exp: true });
    buf[23] = 0x88; // another experiment's magic
    const r = parseTcp(buf, null);
    expect(r.ok && r.value.options.fastOpen).toBe(undefined);
  });
});

describe("Fast Open server", () => {
  const server = (extra: object = {}) => {
    const h = new Harness({ fastOpen: 0x2, fastOpenKey: KEY, ...extra });
    const listener = h.host.tcp.listen(LOCAL_PORT);
    listener.fastOpenQueueLimit = 16;
    return { h, listener };
  };

  it("answers a cookie request with Linux's cookie and an ordinary handshake", () => {
    const { h, listener } = server();
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: 1460, fastOpen: { cookie: new Uint8Array(0), exp: false } }, payload: "ignored" });
    const [synAck] = h.takeSent();
    expect(synAck!.ack).toBe(seqAdd(REMOTE_SEQ, 1)); // the data was not taken
    expect(synAck!.options.fastOpen).toEqual({ cookie: cookieFor(REMOTE_ADDR, LOCAL_ADDR), exp: false });
    expect(listener.acceptQueue).toHaveLength(0);
  });

  it("a valid cookie makes a child with the data, acknowledged by the SYN-ACK and accepted at once", () => {
    const { h, listener } = server();
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: 1460, fastOpen: { cookie: cookieFor(REMOTE_ADDR, LOCAL_ADDR), exp: true } }, payload: "GET /" });
    h.expectSent([{ flags: SYN | ACK, seq: h.host.tcp.allConnections()[0]!.iss, ack: seqAdd(REMOTE_SEQ, 6) }]);
    const child = listener.accept()!;
    expect(child.state).toBe("SYN_RCVD");
    expect(text(child.read())).toBe("GET /");
    expect(child.inspect().state).toBe("SYN_RCVD");
    expect(listener.fastOpenQueued).toBe(1);
    // The child answers before the handshake completes (Linux tcp_passive_fastopen).
    child.send(bytes("200 OK"));
    h.settle();
    h.expectSent([{ flags: ACK | 0x08, seq: seqAdd(child.iss, 1), ack: seqAdd(REMOTE_SEQ, 6), payload: "200 OK" }]);
    h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 6), ack: seqAdd(child.iss, 7) });
    expect(child.state).toBe("ESTABLISHED");
    expect(listener.fastOpenQueued).toBe(0);
  });

  it("before its SYN-ACK is acknowledged the child sends a whole initial window: the SYN is no data in flight", () => {
    const { h, listener } = server();
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { mss: 1000, fastOpen: { cookie: cookieFor(REMOTE_ADDR, LOCAL_ADDR), exp: false } }, payload: "GET /" });
    h.takeSent();
    const child = listener.accept()!;
    child.send(new Uint8Array(20_000));
    h.settle();
    // Linux's child counts only its data (the SYN-ACK is the request socket's): 10 x 1,000 bytes.
    expect(h.takeSent().reduce((n, s) => n + s.payload.length, 0)).toBe(10_000);
  });

  it("an invalid cookie: data ignored, the valid cookie in the SYN-ACK", () => {
    const { h, listener } = server();
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { fastOpen: { cookie: new Uint8Array(8), exp: false } }, payload: "data" });
    const [synAck] = h.takeSent();
    expect(synAck!.ack).toBe(seqAdd(REMOTE_SEQ, 1));
    expect(synAck!.options.fastOpen?.cookie).toEqual(cookieFor(REMOTE_ADDR, LOCAL_ADDR));
    expect(listener.acceptQueue).toHaveLength(0);
  });

  it("a full Fast Open queue or a listener without Fast Open means an ordinary handshake", () => {
    const { h, listener } = server();
    listener.fastOpenQueueLimit = 0;
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { fastOpen: { cookie: cookieFor(REMOTE_ADDR, LOCAL_ADDR), exp: false } }, payload: "data" });
    const [synAck] = h.takeSent();
    expect(synAck!.ack).toBe(seqAdd(REMOTE_SEQ, 1));
    expect(synAck!.options.fastOpen).toBeUndefined();
  });

  it("a cookie of the backup key is accepted and the SYN-ACK brings the primary's (key rotation)", () => {
    const primary = "a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4";
    const { h, listener } = server({ fastOpenKey: `${primary},${KEY}` });
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { fastOpen: { cookie: cookieFor(REMOTE_ADDR, LOCAL_ADDR), exp: false } }, payload: "rotated" });
    const [synAck] = h.takeSent();
    expect(synAck!.ack).toBe(seqAdd(REMOTE_SEQ, 8));
    expect(synAck!.options.fastOpen?.cookie).toEqual(makeCookie(parseKey(primary), IpAddress.v4(REMOTE_ADDR), IpAddress.v4(LOCAL_ADDR)));
    expect(text(listener.accept()!.read())).toBe("rotated");
  });

  it("with TFO_SERVER_COOKIE_NOT_REQD (0x200) data without any option is taken", () => {
    const { h, listener } = server({ fastOpen: 0x202 });
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, payload: "no option" });
    const [synAck] = h.takeSent();
    expect(synAck!.ack).toBe(seqAdd(REMOTE_SEQ, 10));
    expect(synAck!.options.fastOpen).toBeUndefined();
    expect(text(listener.accept()!.read())).toBe("no option");
  });

  it("no child while the accept queue is full: the SYN's data waits for an ordinary handshake", () => {
    const h = new Harness({ fastOpen: 0x2, fastOpenKey: KEY });
    const listener = h.host.tcp.listen(LOCAL_PORT, 1);
    listener.fastOpenQueueLimit = 16;
    const cookie = cookieFor(REMOTE_ADDR, LOCAL_ADDR);
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { fastOpen: { cookie, exp: false } }, payload: "one" });
    expect(listener.acceptQueue).toHaveLength(1);
    h.takeSent();
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { fastOpen: { cookie, exp: false } }, payload: "two" }, { addr: REMOTE_ADDR, port: REMOTE_PORT + 1 });
    const [synAck] = h.takeSent();
    expect(synAck!.ack).toBe(seqAdd(REMOTE_SEQ, 1));
    expect(listener.acceptQueue).toHaveLength(1);
  });

  it("a RST before accept leaves the child to be accepted with its data and ECONNRESET", () => {
    const { h, listener } = server();
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, options: { fastOpen: { cookie: cookieFor(REMOTE_ADDR, LOCAL_ADDR), exp: false } }, payload: "hello" });
    h.takeSent();
    h.deliver({ flags: 0x04 | ACK, seq: seqAdd(REMOTE_SEQ, 6) });
    const child = listener.accept()!;
    expect(child.state).toBe("CLOSED");
    expect(text(child.read())).toBe("hello");
    expect(child.error?.code).toBe("ECONNRESET");
  });
});

describe("Fast Open client", () => {
  function client() {
    const h = new Harness({ fastOpen: 0x1 });
    const connect = () => h.host.tcp.connect({ localAddr: IpAddress.v4(LOCAL_ADDR), remoteAddr: IpAddress.v4(REMOTE_ADDR), remotePort: REMOTE_PORT, fastOpen: true });
    return { h, connect };
  }

  it("requests a cookie first, caches it with the MSS, then sends data in the SYN", () => {
    const { h, connect } = client();
    const c1 = connect();
    c1.send(bytes("first"));
    h.settle();
    const [syn1] = h.takeSent();
    expect(syn1!.payload.length).toBe(0);
    expect(syn1!.options.fastOpen).toEqual({ cookie: new Uint8Array(0), exp: false });
    const cookie = Uint8Array.from([9, 8, 7, 6, 5, 4, 3, 2]);
    h.deliver({ flags: SYN | ACK, seq: REMOTE_SEQ, ack: seqAdd(c1.iss, 1), options: { mss: 1000, fastOpen: { cookie, exp: false } } }, { addr: REMOTE_ADDR, port: REMOTE_PORT, toPort: c1.tuple.localPort });
    expect(c1.state).toBe("ESTABLISHED");
    expect(h.host.tcp.fastOpenCache.get(IpAddress.v4(REMOTE_ADDR))).toMatchObject({ cookie, mss: 1000 });
    expect(text(h.takeSent()[0]!.payload)).toBe("first"); // the data waited for the handshake

    const c2 = connect();
    c2.send(new Uint8Array(2000));
    h.settle();
    const [syn2] = h.takeSent();
    expect(syn2!.flags).toBe(SYN);
    expect(syn2!.options.fastOpen).toEqual({ cookie, exp: false });
    expect(syn2!.payload.length).toBe(1000 - 40); // the cached MSS less MAX_TCP_OPTION_SPACE
    h.deliver({ flags: SYN | ACK, seq: REMOTE_SEQ, ack: seqAdd(c2.iss, 961), options: { mss: 1000 } }, { addr: REMOTE_ADDR, port: REMOTE_PORT, toPort: c2.tuple.localPort });
    expect(c2.inspect().state).toBe("ESTABLISHED");
    expect(c2.fastOpen?.synDataAcked).toBe(true);
    const after = h.takeSent();
    expect(after[0]!.seq).toBe(seqAdd(c2.iss, 961)); // the rest follows the SYN's data
  });

  it("falls back when the SYN-ACK acknowledges only the SYN: the data is sent again", () => {
    const { h, connect } = client();
    h.host.tcp.fastOpenCache.update(IpAddress.v4(REMOTE_ADDR), 1460, { cookie: Uint8Array.from([1, 2, 3, 4]), exp: false }, 0);
    const c = connect();
    c.send(bytes("hello"));
    h.settle();
    const [syn] = h.takeSent();
    expect(text(syn!.payload)).toBe("hello");
    h.deliver({ flags: SYN | ACK, seq: REMOTE_SEQ, ack: seqAdd(c.iss, 1), options: { mss: 1460 } }, { addr: REMOTE_ADDR, port: REMOTE_PORT, toPort: c.tuple.localPort });
    h.expectSent([{ flags: ACK | 0x08, seq: seqAdd(c.iss, 1), ack: seqAdd(REMOTE_SEQ, 1), payload: "hello" }]);
    expect(c.fastOpen?.synDataAcked).toBe(false);
  });


  it("SYN data sent again is a retransmission (Linux tcp_rcv_fastopen_synack), and holds no later tail back", () => {
    const { h, connect } = client();
    h.host.tcp.fastOpenCache.update(IpAddress.v4(REMOTE_ADDR), 1460, { cookie: Uint8Array.from([1, 2, 3, 4]), exp: false }, 0);
    const c = connect();
    c.send(bytes("hello"));
    h.settle();
    h.takeSent();
    h.deliver({ flags: SYN | ACK, seq: REMOTE_SEQ, ack: seqAdd(c.iss, 1), options: { mss: 1460 } }, { addr: REMOTE_ADDR, port: REMOTE_PORT, toPort: c.tuple.localPort });
    h.takeSent();
    expect(c.inspect().retransmits).toBe(1);
    // A full segment and a 200-byte tail: "hello" was a resend, so it is not the short
    // segment in flight that Minshall's Nagle waits for (Linux updates snd_sml for new
    // data only); the tail goes at once.
    c.send(new Uint8Array(1460 + 200));
    h.settle();
    const sent = h.takeSent().map((s) => s.payload.length);
    expect(sent).toEqual([1460, 200]);
  });
  it("a retransmitted SYN is plain: no option, no data", () => {
    const { h, connect } = client();
    h.host.tcp.fastOpenCache.update(IpAddress.v4(REMOTE_ADDR), 1460, { cookie: Uint8Array.from([1, 2, 3, 4]), exp: false }, 0);
    const c = connect();
    c.send(bytes("hello"));
    h.settle();
    h.takeSent();
    h.nextTimer();
    const [again] = h.takeSent();
    expect(again!.flags).toBe(SYN);
    expect(again!.payload.length).toBe(0);
    expect(again!.options.fastOpen).toBeUndefined();
  });

  it("with TFO_CLIENT_NO_COOKIE (0x4) the first SYN carries data and no option at all", () => {
    const h = new Harness({ fastOpen: 0x5 });
    const c = h.host.tcp.connect({ localAddr: IpAddress.v4(LOCAL_ADDR), remoteAddr: IpAddress.v4(REMOTE_ADDR), remotePort: REMOTE_PORT, fastOpen: true });
    c.send(bytes("no cookie"));
    h.settle();
    const [syn] = h.takeSent();
    expect(text(syn!.payload)).toBe("no cookie");
    expect(syn!.options.fastOpen).toBeUndefined();
  });

  it("with the client bit off a fastOpen connect is an ordinary one", () => {
    const h = new Harness({ fastOpen: 0 });
    const c = h.host.tcp.connect({ localAddr: IpAddress.v4(LOCAL_ADDR), remoteAddr: IpAddress.v4(REMOTE_ADDR), remotePort: REMOTE_PORT, fastOpen: true });
    c.send(bytes("later"));
    h.settle();
    const [syn] = h.takeSent();
    expect(syn!.payload.length).toBe(0);
    expect(syn!.options.fastOpen).toBeUndefined();
    expect(c.fastOpen).toBeUndefined();
  });

  it("an unanswered request switches to the experimental form once, then back (Linux try_exp)", () => {
    const cache = new FastOpenCache();
    const server = IpAddress.v4(REMOTE_ADDR);
    cache.update(server, 1460, undefined, 1);
    expect(cache.get(server)?.exp).toBe(true);
    cache.update(server, 1460, undefined, 2);
    expect(cache.get(server)?.exp).toBe(false);
    cache.update(server, 1460, undefined, 1);
    expect(cache.get(server)?.exp).toBe(false);
    cache.update(server, 1460, { cookie: Uint8Array.from([1, 2, 3, 4]), exp: true }, 0);
    expect(cache.get(server)).toMatchObject({ exp: true, cookie: Uint8Array.from([1, 2, 3, 4]) });
  });
});

describe("Fast Open between two synack hosts", () => {
  it("the second connection's SYN carries the data and the server reads it at accept", () => {
    const { net, client, server, events } = pair({ tcp: { fastOpen: 0x3 } });
    const listener = server.tcp.listen(80);
    listener.fastOpenQueueLimit = 8;
    const open = () => client.tcp.connect({ localAddr: IpAddress.v4(CLIENT_ADDR), remoteAddr: IpAddress.v4(SERVER_ADDR), remotePort: 80, fastOpen: true });
    const c1 = open();
    net.runUntil(() => c1.state === "ESTABLISHED", 1000);
    const c2 = open();
    c2.send(bytes("GET / HTTP/1.0\r\n\r\n"));
    net.runFor(15); // one way: the SYN has arrived, no full round trip yet
    listener.accept();
    const child = listener.accept()!;
    expect(text(child.read())).toBe("GET / HTTP/1.0\r\n\r\n");
    const synWithData = events.find((e) => e.type === "segment-out" && e.host === "client" && (e.segment.flags & SYN) !== 0 && e.segment.payload.length > 0);
    expect(synWithData).toBeDefined();
    expect(events.some((e) => e.type === "fast-open" && e.action === "accepted")).toBe(true);
  });
});
