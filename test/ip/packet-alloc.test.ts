/**
 * Packet memory: payload copied with room in front (a segment that spans two send-buffer
 * chunks) becomes the packet itself, built around it once; everything else gets a packet
 * of its own. Either way the bytes on the wire are the same.
 */
import { describe, expect, it } from "vitest";
import { Host } from "../../src/host/host.js";
import { claimFront, HEADROOM, withHeadroom } from "../../src/ip/packet-alloc.js";
import { SimRng } from "../../src/sim/rng.js";
import { parseIpAddress, type IpAddress } from "../../src/wire/address.js";
import { parseIpv4 } from "../../src/wire/ipv4.js";
import { parseIpv6 } from "../../src/wire/ipv6.js";
import { parseTcp } from "../../src/wire/tcp.js";
import { pattern } from "./helpers.js";

describe("withHeadroom / claimFront", () => {
  it("hands out the front of a headroom copy once, and never of other arrays", () => {
    const p = withHeadroom(100);
    p.set(pattern(100));
    const packet = claimFront(p, 52)!;
    expect(packet.length).toBe(152);
    expect(packet.buffer).toBe(p.buffer);
    expect(Array.from(packet.subarray(52))).toEqual(Array.from(pattern(100)));
    expect(claimFront(p, 52)).toBeUndefined(); // a packet handed out is never written again
    expect(claimFront(withHeadroom(10), HEADROOM + 1)).toBeUndefined();
    const superseded = withHeadroom(10);
    withHeadroom(10);
    expect(claimFront(superseded, 52)).toBeUndefined(); // only the latest copy: it is sent at once
    const plain = new Uint8Array(HEADROOM + 100).subarray(HEADROOM);
    expect(claimFront(plain, 52)).toBeUndefined();
  });
});

/** Two hosts wired back to back; returns every packet from the client and the bytes the server read. */
function transfer(clientAddr: IpAddress, serverAddr: IpAddress, writes: Uint8Array[]): { packets: Uint8Array[]; received: number[] } {
  const toServer: Uint8Array[] = [];
  const toClient: Uint8Array[] = [];
  const rng = new SimRng(5);
  const client = new Host({ name: "c", address: clientAddr, rng: rng.fork("c"), transmit: (p) => toServer.push(p) });
  const server = new Host({ name: "s", address: serverAddr, rng: rng.fork("s"), transmit: (p) => toClient.push(p) });
  const packets: Uint8Array[] = [];
  const received: number[] = [];
  const listener = server.tcp.listen(80);
  const c = client.tcp.connect({ localAddr: clientAddr, remoteAddr: serverAddr, remotePort: 80 });
  let now = 0;
  let s: ReturnType<typeof listener.accept>;
  // Queued at once (during the handshake): the segments are cut across the writes.
  for (const w of writes) expect(c.send(w)).toBe(w.length);
  for (let round = 0; round < 2000 && (round < 5 || toServer.length > 0 || toClient.length > 0); round++) {
    now += 1;
    for (const p of toServer.splice(0)) {
      packets.push(p);
      server.receive(now, p);
    }
    for (const p of toClient.splice(0)) client.receive(now, p);
    s ??= listener.accept();
    for (let d = s?.read(); d !== undefined && d.length > 0; d = s!.read()) received.push(...d);
    client.poll(now);
    server.poll(now);
  }
  return { packets, received };
}

describe("a segment across two application writes", () => {
  for (const [family, clientText, serverText] of [
    ["IPv4", "10.0.0.1", "10.0.0.2"],
    ["IPv6", "fd00::1", "fd00::2"],
  ] as const) {
    it(`is sent as the packet its copy was made with, checksums right (${family})`, () => {
      const client = parseIpAddress(clientText)!;
      const server = parseIpAddress(serverText)!;
      // Separate arrays of 1000 bytes: most 1448-byte segments span two of them.
      const writes = Array.from({ length: 12 }, (_, i) => pattern(1000, i));
      const { packets, received } = transfer(client, server, writes);
      const all: number[] = [];
      for (const w of writes) all.push(...w);
      expect(received).toEqual(all);
      let inPlace = 0;
      let data = 0;
      for (const p of packets) {
        const ip = family === "IPv4" ? parseIpv4(p, { verifyChecksum: true }) : parseIpv6(p);
        if (!ip.ok) throw new Error(`bad IP packet: ${ip.reason}`);
        const tcp = parseTcp(ip.value.payload, { src: client, dst: server });
        expect(tcp.ok).toBe(true); // the checksum over the packet built in place holds
        if (tcp.ok && tcp.value.payload.length > 0) data++;
        // Built around the payload copy: the packet lies in the copies' slab, not in the one
        // IP output carves the Host's own packets from (the SYN's; these few fit in one).
        if (p.buffer !== packets[0]!.buffer) inPlace++;
      }
      expect(data).toBeGreaterThan(5);
      expect(inPlace).toBeGreaterThan(data / 2);
    });
  }
});
