/**
 * packetdrill's three IP flavours in the drill: the flavour table, run_all.py's name rule,
 * the mapped addresses, inbound and outbound packets of both IP versions, and whole runs
 * in each flavour (the families are told apart by what the wire carries: MSS and errors).
 */
import { describe, expect, it } from "vitest";
import type { TcpPacketSpec } from "../../src/drill/ast.js";
import { DrillSyntaxError } from "../../src/drill/errors.js";
import { flavour, IP_VERSIONS, isIpVersion, runsAs, socketAddress, wireAddress, type IpVersion } from "../../src/drill/family.js";
import { buildInbound, decodeOutbound, NumberMap } from "../../src/drill/packet.js";
import { parseScript } from "../../src/drill/parser.js";
import { runDrill } from "../../src/drill/runner.js";
import { parseIpAddress, type IpAddress } from "../../src/wire/address.js";
import { internetChecksum, pseudoHeaderSumFor } from "../../src/wire/checksum.js";
import { parseIpv4 } from "../../src/wire/ipv4.js";
import { parseIpv6 } from "../../src/wire/ipv6.js";

const ip = (text: string): IpAddress => parseIpAddress(text)!;
const pos = { file: "t.pkt", line: 1, column: 1 };

function packetSpec(line: string): TcpPacketSpec {
  const action = parseScript(line, "t.pkt").events[0]!.action;
  if (action.type !== "tcp") throw new Error("not a TCP line");
  return action;
}

describe("the flavour table", () => {
  it("gives each flavour its socket and wire families, addresses, MTU and defines", () => {
    expect(flavour("ipv4")).toMatchObject({ socketFamily: 4, wireFamily: 4, mtu: 1500 });
    expect(flavour("ipv4-mapped-ipv6")).toMatchObject({ socketFamily: 6, wireFamily: 4, mtu: 1500 });
    expect(flavour("ipv6")).toMatchObject({ socketFamily: 6, wireFamily: 6, mtu: 1520 });
    expect(flavour("ipv4").local.toString()).toBe("192.168.0.1");
    expect(flavour("ipv4-mapped-ipv6").remote.toString()).toBe("192.0.2.1");
    expect(flavour("ipv6").local.equals(ip("fd3d:a0b:17d6::1"))).toBe(true);
    expect(flavour("ipv6").remote.equals(ip("fd3d:fa7b:d17d::1"))).toBe(true);
    expect(flavour("ipv6").gateway.family).toBe(6);
    expect(flavour("ipv4").defines.get("CMSG_LEVEL_IP")).toBe("SOL_IP");
    expect(flavour("ipv4-mapped-ipv6").defines.get("CMSG_LEVEL_IP")).toBe("SOL_IPV6");
    expect(flavour("ipv6").defines.get("TFO_COOKIE")).toBe("c1d1e9742a47a9bc");
    expect(flavour("ipv6").defines.has("CODE")).toBe(false);
  });

  it("knows the three names and nothing else", () => {
    expect(IP_VERSIONS).toEqual(["ipv4", "ipv4-mapped-ipv6", "ipv6"]);
    expect(isIpVersion("ipv4-mapped-ipv6")).toBe(true);
    expect(isIpVersion("ipv5")).toBe(false);
    expect(isIpVersion(undefined)).toBe(false);
  });

  it("runs *v6.pkt only as ipv6 and *v4.pkt only over IPv4, as run_all.py does", () => {
    const runs = (file: string) => IP_VERSIONS.filter((v) => runsAs(file, v));
    expect(runs("mtu_probe/basic-v6.pkt")).toEqual(["ipv6"]);
    expect(runs("x/syn-data-ipv6.pkt")).toEqual(["ipv6"]);
    expect(runs("mtu_probe/basic-v4.pkt")).toEqual(["ipv4", "ipv4-mapped-ipv6"]);
    expect(runs("close/close-last-ack.pkt")).toEqual([...IP_VERSIONS]);
  });

  it("names an IPv4 peer as ::ffff:a.b.c.d to an AF_INET6 socket, and maps it back for the wire", () => {
    const v4 = ip("192.0.2.1");
    expect(socketAddress(4, v4).equals(v4)).toBe(true);
    const mapped = socketAddress(6, v4);
    expect(mapped.family).toBe(6);
    expect(mapped.toString()).toBe("::ffff:192.0.2.1");
    expect(wireAddress(mapped).equals(v4)).toBe(true);
    const v6 = ip("fd00::2");
    expect(socketAddress(6, v6).equals(v6)).toBe(true);
    expect(wireAddress(v6).equals(v6)).toBe(true);
  });
});

describe("packets of both IP versions", () => {
  const at6 = { localAddr: ip("fd00::1"), remoteAddr: ip("fd00::2"), localPort: 8080, remotePort: 44444 };
  const at4 = { localAddr: ip("192.168.0.1"), remoteAddr: ip("192.0.2.1"), localPort: 8080, remotePort: 44444 };

  it("builds an inbound IPv6 packet: fixed header, Traffic Class from the marks, Hop Limit from the TTL, the IPv6 pseudo-header checksum", () => {
    const bytes = buildInbound(packetSpec("0 < [ce] P. 1:11(10) ack 5 win 100 <mss 1000,nop,nop>"), new NumberMap(), at6, pos);
    const parsed = parseIpv6(bytes);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const h = parsed.value.header;
    expect(h).toMatchObject({ nextHeader: 6, trafficClass: 3, hopLimit: 64, payloadLength: 20 + 8 + 10 });
    expect(h.src.equals(at6.remoteAddr) && h.dst.equals(at6.localAddr)).toBe(true);
    const tcp = parsed.value.payload;
    expect(internetChecksum(tcp, 0, tcp.length, pseudoHeaderSumFor(h.src, h.dst, 6, tcp.length))).toBe(0);
    // The IPv4 pseudo-header would not verify: the sum really covers the 128-bit addresses.
    expect(internetChecksum(tcp, 0, tcp.length, pseudoHeaderSumFor(ip("192.0.2.1"), ip("192.168.0.1"), 6, tcp.length))).not.toBe(0);
  });

  it("builds an inbound IPv4 packet for IPv4 addresses, as before", () => {
    const bytes = buildInbound(packetSpec("0 < . 1:1(0) ack 1 win 100"), new NumberMap(), at4, pos);
    const parsed = parseIpv4(bytes);
    expect(parsed.ok && parsed.value.header.protocol).toBe(6);
    expect(bytes.length).toBe(40);
  });

  it("decodes an IPv6 segment as the matcher sees it, family and Traffic Class included", () => {
    const bytes = buildInbound(packetSpec("0 < [ect0] S. 7:7(0) ack 1 win 300 <mss 1220>"), new NumberMap(), at6, pos);
    const seg = decodeOutbound(bytes, 42);
    expect(seg).toMatchObject({ time: 42, family: 6, tos: 2, ttl: 64, srcPort: 44444, dstPort: 8080, seq: 7, flags: 0x12, window: 300, payloadLength: 0 });
    expect("options" in seg && seg.options.map((o) => o.kind)).toEqual([2]);
    expect(decodeOutbound(buildInbound(packetSpec("0 < . 1:1(0) ack 1 win 1"), new NumberMap(), at4, pos), 0)).toMatchObject({ family: 4 });
  });

  it("refuses a segment that no packet of the family holds: a script error at its line, not a crash", () => {
    // 16-bit length fields: an IPv4 packet's total length, an IPv6 one's payload length.
    expect(buildInbound(packetSpec("0 < . 1:65496(65495) ack 1 win 1"), new NumberMap(), at4, pos).length).toBe(65535);
    expect(() => buildInbound(packetSpec("0 < . 1:65497(65496) ack 1 win 1"), new NumberMap(), at4, pos)).toThrow(
      new DrillSyntaxError("a TCP segment of 65516 bytes (65496 of data) does not fit in one IPv4 packet, which holds 65515", pos),
    );
    expect(buildInbound(packetSpec("0 < . 1:65516(65515) ack 1 win 1"), new NumberMap(), at6, pos).length).toBe(40 + 65535);
    expect(() => buildInbound(packetSpec("0 < . 1:65517(65516) ack 1 win 1"), new NumberMap(), at6, pos)).toThrow(DrillSyntaxError);
    // A length near 2^32 threw a RangeError from the typed array before.
    expect(() => buildInbound(packetSpec("0 < P. 1:4294967295(4294967294) ack 1 win 1"), new NumberMap(), at4, pos)).toThrow(DrillSyntaxError);
  });

  it("reports an IPv6 packet that is not TCP by its Next Header, and garbage as protocol -1", () => {
    const bytes = buildInbound(packetSpec("0 < . 1:1(0) ack 1 win 1"), new NumberMap(), at6, pos);
    bytes[6] = 17;
    expect(decodeOutbound(bytes, 0)).toEqual({ protocol: 17 });
    expect(decodeOutbound(new Uint8Array([0x60, 0, 0]), 0)).toEqual({ protocol: -1 });
  });
});

/** A passive open whose SYN-ACK must announce `mss`: the wire family shows in it over a 1500-byte link. */
function handshake(mss: number, head = ""): string {
  return `${head}--mtu=1500
\`sysctl -q net.ipv4.tcp_timestamps=0\`
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 32000 <mss 1400>
+0 > S. 0:0(0) ack 1 <mss ${mss}>
+0 < . 1:1(0) ack 1 win 32000
+0 accept(3, ..., ...) = 4
`;
}

describe("runs in each flavour", () => {
  const expectedMss: Record<IpVersion, number> = { ipv4: 1460, "ipv4-mapped-ipv6": 1460, ipv6: 1440 };
  for (const v of IP_VERSIONS) {
    it(`${v}: the SYN-ACK's MSS is the link's less ${v === "ipv6" ? "40 + 20" : "20 + 20"} header bytes`, () => {
      expect(runDrill(handshake(expectedMss[v]), "h.pkt", { ipVersion: v })).toMatchObject({ status: "pass" });
      const wrong = runDrill(handshake(expectedMss[v] === 1460 ? 1440 : 1460), "h.pkt", { ipVersion: v });
      expect(wrong).toMatchObject({ status: "fail", reason: `option 1: expected mss ${expectedMss[v] === 1460 ? 1440 : 1460}, got mss ${expectedMss[v]}` });
    });
  }

  it("a negative byte count: read() and write() fail with EINVAL, recv() and send() with EFAULT, as Linux's", () => {
    const calls = `+0 read(4, ..., -1) = -1 EINVAL
+0 write(4, ..., -1) = -1 EINVAL
+0 recv(4, ..., -5, 0) = -1 EFAULT
+0 send(4, ..., -5, 0) = -1 EFAULT
`;
    // The read was an uncaught exception of the engine's read(), the write blocked forever.
    expect(runDrill(handshake(1460) + calls, "n.pkt")).toMatchObject({ status: "pass" });
  });

  it("a script's own --ip_version must match the run's", () => {
    expect(runDrill(handshake(1440, "--ip_version=ipv6\n"), "h.pkt", { ipVersion: "ipv6" })).toMatchObject({ status: "pass" });
    expect(runDrill(handshake(1440, "--ip_version=ipv6\n"), "h.pkt")).toMatchObject({ status: "unsupported", line: 1, reason: "--ip_version=ipv6 in an ipv4 run (run it with --ip-version ipv6)" });
    expect(() => runDrill(handshake(1440, "--ip_version=ipv7\n"), "h.pkt")).toThrow(DrillSyntaxError);
  });

  it("a script named *v6.pkt is not run over IPv4, one named *v4.pkt not over IPv6", () => {
    expect(runDrill(handshake(1460), "h-v6.pkt", { ipVersion: "ipv4-mapped-ipv6" })).toMatchObject({ status: "unsupported", reason: expect.stringMatching(/^not run as ipv4-mapped-ipv6/) });
    expect(runDrill(handshake(1440), "h-v4.pkt", { ipVersion: "ipv6" })).toMatchObject({ status: "unsupported", reason: expect.stringMatching(/^not run as ipv6/) });
    expect(runDrill(handshake(1440), "h-v6.pkt", { ipVersion: "ipv6" })).toMatchObject({ status: "pass" });
  });

  it("--local_ip and --remote_ip of the run's family are used; of the other family the run's own stand", () => {
    expect(runDrill(handshake(1440, "--local_ip=fd00::1\n--remote_ip=2001:db8::2\n"), "h.pkt", { ipVersion: "ipv6" })).toMatchObject({ status: "pass" });
    expect(runDrill(handshake(1440, "--local_ip=192.168.0.2\n--remote_ip=10.0.0.2\n"), "h.pkt", { ipVersion: "ipv6" })).toMatchObject({ status: "pass" });
    expect(() => runDrill(handshake(1460, "--gateway_ip=not-an-address\n"), "h.pkt")).toThrow(DrillSyntaxError);
  });

  it("an IPv6 route's advmss reaches the IPv6 run's peer; in an IPv4 run it is unsupported", () => {
    const script = handshake(1000).replace("+0 bind", "+0 `ip -6 route change fd3d:fa7b:d17d::1 dev tun0 advmss 1000`\n+0 bind");
    expect(runDrill(script, "h.pkt", { ipVersion: "ipv6" })).toMatchObject({ status: "pass" });
    expect(runDrill(script, "h.pkt", { ipVersion: "ipv4" })).toMatchObject({ status: "unsupported", reason: "an IPv6 route in an ipv4 run" });
  });

  it("an IPv6 script pinning only --local_ip talks to packetdrill's default remote 2001:db8::1, as packetdrill run alone", () => {
    // The route names packetdrill's default remote: its advmss applies only if the peer is that address.
    const routed = (head: string) => handshake(1000, head).replace("+0 bind", "+0 `ip -6 route change 2001:DB8::1 dev tun0 advmss 1000`\n+0 bind");
    expect(runDrill(routed("--local_ip=fd::1\n"), "h.pkt", { ipVersion: "ipv6" })).toMatchObject({ status: "pass" });
    // Both addresses pinned: the script's remote stands, so the route to 2001:db8::1 misses it.
    expect(runDrill(routed("--local_ip=fd::1\n--remote_ip=fd00:7::20\n"), "h.pkt", { ipVersion: "ipv6" })).toMatchObject({ status: "fail", reason: expect.stringMatching(/mss 1000, got mss 1440/) });
  });

  it("sockets are AF_INET in the ipv4 run and AF_INET6 in the other two", () => {
    const named = (domain: string) => handshake(1460).replace("socket(...,", `socket(${domain},`);
    expect(runDrill(named("AF_INET"), "h.pkt", { ipVersion: "ipv4" })).toMatchObject({ status: "pass" });
    expect(runDrill(named("AF_INET6"), "h.pkt", { ipVersion: "ipv4-mapped-ipv6" })).toMatchObject({ status: "pass" });
    expect(runDrill(named("AF_INET6"), "h.pkt", { ipVersion: "ipv4" })).toMatchObject({ status: "unsupported", reason: "an AF_INET6 socket in a run whose sockets are AF_INET" });
    expect(runDrill(named("AF_INET"), "h.pkt", { ipVersion: "ipv6" })).toMatchObject({ status: "unsupported", reason: "an AF_INET socket in a run whose sockets are AF_INET6" });
  });

  it("a connect() in each flavour reaches the peer over the flavour's wire family", () => {
    const script = `--mtu=1500
\`sysctl -q net.ipv4.tcp_timestamps=0\`
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
+0 > S 0:0(0) <mss MSS,nop,nop,sackOK,nop,wscale 7>
+.01 < R. 0:0(0) ack 1 win 0
+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4]) = 0
`;
    for (const v of IP_VERSIONS) {
      const r = runDrill(script.replace("MSS", String(v === "ipv6" ? 1440 : 1460)), "c.pkt", { ipVersion: v });
      expect(r, `${v}: ${r.reason ?? ""}`).toMatchObject({ status: "pass" });
    }
  });
});

describe("a second listener on the script's port", () => {
  it("is refused with EADDRINUSE at bind() while the first listens, as Linux does, instead of crashing the runner", () => {
    const script = `0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 4
+0 setsockopt(4, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
+0 bind(4, ..., ...) = -1 EADDRINUSE (Address already in use)
+0 listen(4, 1) = -1 EADDRINUSE (Address already in use)
+0 close(3) = 0
+0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 5
+0 bind(5, ..., ...) = 0
+0 listen(5, 1) = 0
`;
    for (const ipVersion of IP_VERSIONS) expect(runDrill(script, "l.pkt", { ipVersion })).toMatchObject({ status: "pass" });
  });
});
