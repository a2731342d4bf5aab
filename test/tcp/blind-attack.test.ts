/**
 * RFC 5961 in the simulator: an off-path attacker who knows the 4-tuple (but not the
 * sequence numbers) sprays RSTs, SYNs and data with guessed in-window sequence numbers
 * at the server during a transfer. The connection must neither die nor take in a byte of
 * the attacker's data.
 */
import { IpAddress } from "../../src/wire/address.js";
import { describe, expect, it } from "vitest";
import type { Endpoint, Transmit } from "../../src/endpoint.js";
import type { SimRng } from "../../src/sim/index.js";
import type { Connection } from "../../src/tcp/connection.js";
import { emitIpv4Header, IPV4_MIN_HEADER, parseIpv4Address, PROTO_TCP } from "../../src/wire/ipv4.js";
import { seq, seqAdd } from "../../src/wire/seq.js";
import { ACK, emitTcp, headerLength, PSH, RST, SYN, type TcpSegment } from "../../src/wire/tcp.js";
import { equalBytes, pattern, StreamApp } from "./app.js";
import { CLIENT_ADDR, pair, SERVER_ADDR } from "./fixtures.js";

const ATTACKER = parseIpv4Address("10.0.0.66")!;

type Kind = "rst" | "syn" | "data";

/** Spoofs segments "from the client" to the server, guessing sequence numbers near the window. */
class BlindAttacker implements Endpoint {
  sent = 0;
  private next = 0;
  /** The attacker's (very good) guess of where the client's sequence numbers are: +- 64 KiB. */
  target: { port: number; around: number } | undefined;
  constructor(
    private readonly transmit: Transmit,
    private readonly rng: SimRng,
    private readonly kind: Kind,
  ) {}
  receive(): void {}
  poll(now: number): void {
    if (this.target === undefined) return;
    while (this.next <= now) {
      const guess = seqAdd(seq(this.target.around), this.rng.int(-65536, 65536));
      const payload = this.kind === "data" ? new TextEncoder().encode("EVIL") : new Uint8Array(0);
      const flags = this.kind === "rst" ? RST : this.kind === "syn" ? SYN : ACK | PSH;
      const seg: TcpSegment = {
        srcPort: this.target.port, dstPort: 80, seq: guess, ack: seq(this.rng.nextU32()), flags,
        window: 65535, urgentPointer: 0, options: {}, payload,
      };
      const len = headerLength(seg.options) + payload.length;
      const pkt = new Uint8Array(IPV4_MIN_HEADER + len);
      emitIpv4Header({ src: CLIENT_ADDR, dst: SERVER_ADDR, protocol: PROTO_TCP, payloadLength: len }, pkt, 0);
      emitTcp(seg, pkt, IPV4_MIN_HEADER, { src: CLIENT_ADDR, dst: SERVER_ADDR });
      this.transmit(pkt);
      this.sent++;
      this.next += 2; // 500 guesses per second
    }
  }
  nextDeadline(): number {
    return this.target === undefined ? Infinity : this.next;
  }
}

describe("blind in-window attacks (RFC 5961)", () => {
  for (const kind of ["rst", "syn", "data"] as const) {
    it(`spoofed ${kind.toUpperCase()} segments with guessed sequence numbers neither reset nor corrupt a transfer`, () => {
      const { net, client, server } = pair({ seed: 5, link: { delay: 20 }, record: false });
      const attacker = net.addHost("attacker", ATTACKER, (t, ctx) => new BlindAttacker(t, ctx.rng, kind)).endpoint;
      net.connect("attacker", "server", { delay: 1 });
      const listener = server.tcp.listen(80);
      let sApp: StreamApp | undefined;
      listener.onConnection = () => (sApp = new StreamApp(listener.accept()!, new Uint8Array(0)));
      const conn: Connection = client.tcp.connect({ localAddr: IpAddress.v4(CLIENT_ADDR), remoteAddr: IpAddress.v4(SERVER_ADDR), remotePort: 80 });
      const up = pattern(2_000_000, 11);
      const cApp = new StreamApp(conn, up);
      net.runUntil(() => conn.state === "ESTABLISHED", 1000);
      attacker.target = { port: conn.tuple.localPort, around: conn.sndNxt };
      net.run({ until: 600_000 });
      expect(attacker.sent).toBeGreaterThan(1000);
      expect(sApp).toBeDefined();
      expect(sApp!.conn.error).toBeUndefined();
      expect(conn.error).toBeUndefined();
      expect(equalBytes(sApp!.data(), up)).toBe(true); // not a byte of "EVIL" got in
      expect(cApp.eof).toBe(true);
    });
  }
});
