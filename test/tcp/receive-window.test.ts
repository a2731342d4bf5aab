/**
 * The receive window we offer grows as Linux's does (rcv_ssthresh, tcp_grow_window): from
 * the SYN's 65,535 bytes by two segments per data segment received, up to the free buffer,
 * rounded up to the window scale's granule, never shrinking.
 */
import { describe, expect, it } from "vitest";
import { ReceiveBuffer } from "../../src/tcp/receive-buffer.js";
import { ReceiveWindow } from "../../src/tcp/receive-window.js";
import { tcpInfo } from "../../src/tcp/tcp-info.js";
import type { Seq } from "../../src/wire/seq.js";
import { bytes, Harness, LOCAL_PORT, REMOTE_ADDR, REMOTE_PORT, REMOTE_SEQ } from "./harness.js";
import { ACK, SYN } from "../../src/wire/tcp.js";
import { seqAdd } from "../../src/wire/seq.js";

const MSS = 1460;
const at = (n: number): Seq => n as Seq;

describe("ReceiveWindow (rcv_ssthresh)", () => {
  const make = (capacity = 256 * 1024) => new ReceiveWindow(new ReceiveBuffer(capacity, 64), { ourMss: MSS });

  it("offers the SYN's window first, then at most that, rounded up to the granule", () => {
    const w = make();
    expect(w.offerUnscaled(at(1))).toBe(65_535);
    expect(w.ssthresh).toBe(65_535);
    expect(w.advertise(at(1), 7)).toBe(512); // 65,536 >> 7: ALIGN(65,535, 128)
    expect(w.advertise(at(1), 0)).toBe(65_535);
  });

  it("rounds the free space up to the granule from half the buffer free, down below (Linux __tcp_select_window)", () => {
    // A buffer smaller than the granule (100 bytes, 128-byte units): rounded down it would
    // offer a zero window for ever; Linux aligns it up.
    const tiny = make(100);
    tiny.offerUnscaled(at(1));
    expect(tiny.advertise(at(1), 7)).toBe(1);
    // 1,000 bytes: 600 free (400 held) round up to 640, 400 free (600 held) down to 384.
    const heldThen = (held: number) => {
      const w = make(1000);
      w.buffer.insert(at(1), at(1), new Uint8Array(held));
      return w.advertise(at(1 + held), 7);
    };
    expect(heldThen(400)).toBe(5);
    expect(heldThen(600)).toBe(3);
  });

  it("grows by max(2 x advmss, 2 x length) per segment, up to the free buffer", () => {
    const w = make(80_000);
    w.offerUnscaled(at(1));
    w.grow(100);
    expect(w.ssthresh).toBe(65_535 + 2 * MSS);
    w.grow(4_000); // a GRO-sized piece: twice its length
    expect(w.ssthresh).toBe(65_535 + 2 * MSS + 8_000);
    w.grow(MSS);
    expect(w.ssthresh).toBe(65_535 + 4 * MSS + 8_000);
    w.grow(MSS);
    expect(w.ssthresh).toBe(80_000); // the free buffer caps it
  });

  it("a window update waits for rcv_ssthresh, not for the whole free buffer", () => {
    const w = make(1 << 20);
    w.offerUnscaled(at(1));
    // 35,536 bytes still offered; the free buffer could double that, but rcv_ssthresh holds
    // the offer at 64 KiB, which does not: no update of its own (Linux tcp_cleanup_rbuf).
    expect(w.advertise(at(1), 7)).toBe(512);
    expect(w.updateWorthSending(at(30_001), 7)).toBe(false);
    // With 25,536 still offered, 64 KiB is twice that: the update goes.
    expect(w.updateWorthSending(at(40_001), 7)).toBe(true);
  });
});

describe("the window a connection offers", () => {
  it("starts at 64 KiB after the handshake and grows with the data received; TCP_INFO shows it", () => {
    const h = new Harness({ windowScaling: true });
    h.host.tcp.listen(LOCAL_PORT);
    const from = { addr: REMOTE_ADDR, port: REMOTE_PORT, toPort: LOCAL_PORT };
    h.deliver({ flags: SYN, seq: REMOTE_SEQ, ack: 0 as Seq, options: { mss: MSS, windowScale: 7 } }, from);
    const [synAck] = h.takeSent();
    expect(synAck!.window).toBe(65_535);
    h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: seqAdd(synAck!.seq, 1), window: 1000 }, from);
    const conn = [...h.host.tcp.allConnections()][0]!;
    expect(tcpInfo(conn, h.now).rcvSsthresh).toBe(65_535);
    h.deliver({ flags: ACK, seq: seqAdd(REMOTE_SEQ, 1), ack: seqAdd(synAck!.seq, 1), window: 1000, payload: bytes("x".repeat(1000)) }, from);
    h.settle();
    const [ack] = h.takeSent();
    // 65,535 + 2 x 1,460 = 68,455 bytes, rounded up to 128-byte units: 535.
    expect(ack!.window).toBe(Math.ceil((65_535 + 2 * MSS) / 128));
    expect(tcpInfo(conn, h.now).rcvSsthresh).toBe(65_535 + 2 * MSS);
  });
});
