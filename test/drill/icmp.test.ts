/**
 * ICMP errors in drill scripts: the packets the runner builds (checked by synack's own ICMP
 * parsers) and a Fast Open client that meets "fragmentation needed" / "packet too big".
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runDrill } from "../../src/drill/runner.js";
import { buildInboundIcmp } from "../../src/drill/icmp-packet.js";
import { NumberMap } from "../../src/drill/packet.js";
import { DrillFailure, DrillUnsupportedError } from "../../src/drill/errors.js";
import type { IcmpPacketSpec } from "../../src/drill/ast.js";
import { Nstat } from "../../src/drill/nstat.js";
import type { TcpLayer } from "../../src/tcp/layer.js";
import { parseIpAddress } from "../../src/wire/address.js";
import { parseIpv4 } from "../../src/wire/ipv4.js";
import { parseIcmp, parseIcmpQuote } from "../../src/wire/icmp.js";
import { parseIpv6 } from "../../src/wire/ipv6.js";
import { parseIcmpv6, parseIcmpv6Quote } from "../../src/wire/icmpv6.js";

const pos = { file: "t.pkt", line: 1, column: 1 };
const v4 = { localAddr: parseIpAddress("192.168.0.1")!, remoteAddr: parseIpAddress("192.0.2.1")!, localPort: 40000, remotePort: 8080 };
const v6 = { localAddr: parseIpAddress("fd3d:a0b:17d6::1")!, remoteAddr: parseIpAddress("fd3d:fa7b:d17d::1")!, localPort: 40000, remotePort: 8080 };
const spec = (icmpType: string, icmpCode: string | undefined, mtu?: number, start?: number): IcmpPacketSpec => ({
  type: "icmp",
  direction: "in",
  ip: {},
  icmpType,
  icmpCode,
  mtu,
  echoed: start === undefined ? undefined : { kind: "tcp", seq: { start, end: start + 100, len: 100 } },
});
const mapWithIsn = (isn: number) => {
  const m = new NumberMap();
  m.localIsn = isn;
  return m;
};

describe("ICMP packets built from script lines", () => {
  it("IPv4: unreachable frag_needed carries the next-hop MTU and quotes synack's segment at ISN + the script's sequence number", () => {
    const bytes = buildInboundIcmp(spec("unreachable", "frag_needed", 840, 1000), mapWithIsn(0xfffffff0), v4, pos);
    const ip = parseIpv4(bytes);
    if (!ip.ok) throw new Error(ip.reason);
    expect(ip.value.header.src).toBe(v4.remoteAddr.v4Value);
    const icmp = parseIcmp(ip.value.payload);
    if (!icmp.ok || icmp.value.kind !== "dest-unreachable") throw new Error("not a destination unreachable");
    expect(icmp.value.code).toBe(4);
    expect(icmp.value.nextHopMtu).toBe(840);
    const quote = parseIcmpQuote(icmp.value.original);
    if (!quote.ok) throw new Error(quote.reason);
    expect([quote.value.src, quote.value.dst, quote.value.protocol]).toEqual([v4.localAddr.v4Value, v4.remoteAddr.v4Value, 6]);
    const t = new DataView(quote.value.transport.buffer, quote.value.transport.byteOffset);
    expect([t.getUint16(0), t.getUint16(2), t.getUint32(4)]).toEqual([40000, 8080, (0xfffffff0 + 1000) >>> 0]);
  });

  it("IPv6: packet_too_big carries the MTU; without a quoted range the quote is of the ISN", () => {
    const bytes = buildInboundIcmp(spec("packet_too_big", undefined, 1400), mapWithIsn(777), v6, pos);
    const ip = parseIpv6(bytes);
    if (!ip.ok) throw new Error(ip.reason);
    const icmp = parseIcmpv6(ip.value.payload, { src: v6.remoteAddr, dst: v6.localAddr });
    if (!icmp.ok || icmp.value.kind !== "packet-too-big") throw new Error("not a packet too big");
    expect(icmp.value.mtu).toBe(1400);
    const quote = parseIcmpv6Quote(icmp.value.original);
    if (!quote.ok) throw new Error(quote.reason);
    const t = new DataView(quote.value.transport.buffer, quote.value.transport.byteOffset);
    expect([t.getUint16(0), t.getUint16(2), t.getUint32(4)]).toEqual([40000, 8080, 777]);
  });

  it("a name the run's ICMP version lacks is the script's error; UDP quotes are unsupported", () => {
    expect(() => buildInboundIcmp(spec("unreachable", "frag_needed", 800), mapWithIsn(0), v6, pos)).toThrow(DrillFailure);
    expect(() => buildInboundIcmp(spec("packet_too_big", undefined, 800), mapWithIsn(0), v4, pos)).toThrow(DrillFailure);
    expect(() => buildInboundIcmp({ ...spec("unreachable", "port_unreachable"), echoed: { kind: "udp", len: 10 } }, mapWithIsn(0), v4, pos)).toThrow(DrillUnsupportedError);
  });
});

describe("a Fast Open SYN with data that does not fit the path", () => {
  const file = fileURLToPath(new URL("./icmp/fast-open-icmp.pkt", import.meta.url));
  const source = readFileSync(file, "utf8");
  const cases = [
    ["ipv4", "icmp unreachable frag_needed mtu 1280"],
    ["ipv4-mapped-ipv6", "icmp unreachable frag_needed mtu 1280"],
    ["ipv6", "icmp packet_too_big mtu 1300"],
  ] as const;
  for (const [ipVersion, icmp] of cases) {
    it(`is sent again at once as a plain SYN with the smaller MSS (${ipVersion})`, () => {
      const r = runDrill(source, "fast-open-icmp.pkt", { ipVersion, defines: new Map([["ICMP_TOO_BIG", icmp]]) });
      expect(r, `${r.reason ?? ""}\n${(r.details ?? []).join("\n")}`).toMatchObject({ status: "pass" });
    });
  }
});

describe("nstat in scripts", () => {
  it("`nstat | grep NAME` fails the script unless NAME went up since the last nstat", () => {
    const layer = { outOfWindowIcmps: 0 };
    const nstat = new Nstat(() => layer as unknown as TcpLayer);
    expect(nstat.run("nstat > /dev/null", pos)).toBe(true);
    expect(() => nstat.run("nstat | grep TcpExtOutOfWindowIcmps > /dev/null", pos)).toThrow(DrillFailure);
    layer.outOfWindowIcmps = 2;
    expect(nstat.run("nstat | grep TcpExtOutOfWindowIcmps > /dev/null", pos)).toBe(true);
    expect(() => nstat.run("nstat | grep TcpExtListenDrops > /dev/null", pos)).toThrow(DrillUnsupportedError);
    expect(nstat.run("sysctl -q net.ipv4.tcp_sack=1", pos)).toBe(false);
  });
});
