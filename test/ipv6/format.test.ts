import { describe, expect, it } from "vitest";
import { formatEndpoint, connectionKey } from "../../src/trace/format.js";
import { eventJson, tupleJson } from "../../src/trace/jsonl.js";
import { tupleKey } from "../../src/tcp/layer.js";
import { parseIpAddress } from "../../src/wire/address.js";
import type { FourTuple } from "../../src/trace/events.js";

const ip = (t: string) => parseIpAddress(t)!;

describe("addresses in traces, both families", () => {
  it("writes IPv6 endpoints in brackets (RFC 5952 section 6), IPv4 ones as before", () => {
    expect(formatEndpoint(ip("fd00::2"), 80)).toBe("[fd00::2]:80");
    expect(formatEndpoint(ip("10.0.0.2"), 80)).toBe("10.0.0.2:80");
    expect(formatEndpoint(ip("::ffff:10.0.0.2"), 80)).toBe("[::ffff:10.0.0.2]:80");
  });

  it("puts addresses of either family in JSON lines as text", () => {
    const t6: FourTuple = { localAddr: ip("fd00::1"), localPort: 40000, remoteAddr: ip("fd00::2"), remotePort: 80 };
    expect(tupleJson(t6)).toEqual({ localAddr: "fd00::1", localPort: 40000, remoteAddr: "fd00::2", remotePort: 80 });
    const e = eventJson({ type: "icmp-out", time: 1, host: "h", dst: ip("2001:db8::1"), icmpType: 1, code: 4 });
    expect(e["dst"]).toBe("2001:db8::1");
    const f = eventJson({ type: "fragment-out", time: 1, host: "h", src: ip("10.0.0.1"), dst: ip("10.0.0.2"), protocol: 17, id: 1, offset: 0, length: 8, more: true });
    expect([f["src"], f["dst"]]).toEqual(["10.0.0.1", "10.0.0.2"]);
  });

  it("keys a connection by value, so equal addresses built apart give one key", () => {
    const a: FourTuple = { localAddr: ip("fd00::1"), localPort: 1, remoteAddr: ip("fd00::2"), remotePort: 2 };
    const b: FourTuple = { localAddr: ip("fd00:0::1"), localPort: 1, remoteAddr: ip("fd00::0:2"), remotePort: 2 };
    expect(tupleKey(a)).toBe(tupleKey(b));
    expect(connectionKey("h", a)).toBe(connectionKey("h", b));
    const v4: FourTuple = { localAddr: ip("10.0.0.1"), localPort: 1, remoteAddr: ip("10.0.0.2"), remotePort: 2 };
    const mapped: FourTuple = { localAddr: ip("::ffff:10.0.0.1"), localPort: 1, remoteAddr: ip("::ffff:10.0.0.2"), remotePort: 2 };
    expect(tupleKey(v4)).toBe("10.0.0.1:1>10.0.0.2:2");
    expect(tupleKey(v4)).not.toBe(tupleKey(mapped));
  });
});
