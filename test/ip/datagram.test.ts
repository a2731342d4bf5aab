/** InboundDatagram for IPv4: the addresses are right whatever came before (a few are shared between packets). */
import { describe, expect, it } from "vitest";
import { v4Datagram } from "../../src/ip/datagram.js";
import { IpAddress } from "../../src/wire/address.js";
import { parseIpv4 } from "../../src/wire/ipv4.js";
import { rawPacket } from "./helpers.js";

describe("v4Datagram", () => {
  it("gives each packet its own source and destination across alternating flows", () => {
    const addrs = [0x0a000001, 0x0a000002, 0xc0a80001, 0xffffffff, 0x0a000001];
    for (let i = 0; i < 40; i++) {
      const src = addrs[i % addrs.length]!;
      const dst = addrs[(i * 3 + 1) % addrs.length]!;
      const ip = parseIpv4(rawPacket({ src, dst, protocol: 17 }, new Uint8Array(8)));
      if (!ip.ok) throw new Error(ip.reason);
      const d = v4Datagram(ip.value.header, ip.value.payload, new Uint8Array(0));
      expect(d.src.equals(IpAddress.v4(src))).toBe(true);
      expect(d.dst.equals(IpAddress.v4(dst))).toBe(true);
      expect(d.src.w3).toBe(src >>> 0);
    }
  });
});
