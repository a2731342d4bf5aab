/**
 * The batched UDP socket's bytes without a socket: struct mmsghdr / iovec / sockaddr /
 * cmsg packing at their Linux x86-64 offsets (golden bytes over a 0xa5-filled buffer, so
 * a field left unset shows), the UDP_GRO cmsg parse, GRO splitting, and how datagrams are
 * grouped into UDP_SEGMENT sends.
 */
import { describe, expect, it } from "vitest";
import {
  CMSG_SPACE_INT,
  decodeSockaddr,
  encodeSockaddr,
  MAX_GSO_SEGMENTS,
  MAX_UDP_PAYLOAD,
  MMSGHDR_SIZE,
  parseGroSize,
  planSendGroups,
  readReceived,
  SOL_UDP,
  splitGro,
  UDP_GRO,
  UDP_SEGMENT,
  writeIovec,
  writeMsghdr,
  writeSegmentCmsg,
} from "../../src/node/mmsg.js";

const BASE = 0x7f00_1234_0000n;

function arena(size: number): { bytes: Uint8Array; view: DataView } {
  const bytes = new Uint8Array(size).fill(0xa5);
  return { bytes, view: new DataView(bytes.buffer) };
}

const u64 = (v: DataView, at: number): bigint => v.getBigUint64(at, true);

describe("struct mmsghdr packing", () => {
  it("puts every msghdr field at its offset, pointers as base + offset", () => {
    const { bytes, view } = arena(256);
    writeMsghdr(view, BASE, { msg: 64, name: 128, nameLen: 16, iov: 160, iovCount: 1, control: 192, controlLen: 24 });
    expect(u64(view, 64)).toBe(BASE + 128n); // msg_name
    expect(view.getUint32(72, true)).toBe(16); // msg_namelen
    expect(view.getUint32(76, true)).toBe(0); // padding
    expect(u64(view, 80)).toBe(BASE + 160n); // msg_iov
    expect(u64(view, 88)).toBe(1n); // msg_iovlen
    expect(u64(view, 96)).toBe(BASE + 192n); // msg_control
    expect(u64(view, 104)).toBe(24n); // msg_controllen
    expect(view.getInt32(112, true)).toBe(0); // msg_flags
    expect(view.getUint32(120, true)).toBe(0); // msg_len
    // Nothing outside the 64-byte slot was touched (bytes 124..127 are tail padding).
    expect(bytes.subarray(0, 64).every((b) => b === 0xa5)).toBe(true);
    expect(bytes.subarray(124, 256).every((b) => b === 0xa5)).toBe(true);
    expect(MMSGHDR_SIZE).toBe(64);
  });

  it("writes null pointers when there is no name or control", () => {
    const { view } = arena(64);
    writeMsghdr(view, BASE, { msg: 0, name: 0, nameLen: 0, iov: 0, iovCount: 1, control: 0, controlLen: 0 });
    expect(u64(view, 0)).toBe(0n);
    expect(u64(view, 32)).toBe(0n);
    expect(u64(view, 40)).toBe(0n);
  });

  it("packs an iovec as base + offset and a length", () => {
    const { view } = arena(32);
    writeIovec(view, 16, BASE, 4096, 1400);
    expect(u64(view, 16)).toBe(BASE + 4096n);
    expect(u64(view, 24)).toBe(1400n);
  });

  it("reads msg_len, msg_flags and msg_controllen back", () => {
    const { view } = arena(64);
    writeMsghdr(view, BASE, { msg: 0, name: 0, nameLen: 0, iov: 0, iovCount: 1, control: 8, controlLen: 48 });
    view.setUint32(56, 3500, true);
    view.setInt32(48, 0x20, true);
    view.setBigUint64(40, 24n, true);
    expect(readReceived(view, 0)).toEqual({ length: 3500, flags: 0x20, controlLen: 24 });
  });
});

describe("sockaddr", () => {
  it("encodes sockaddr_in with the port in network order", () => {
    const { bytes } = arena(32);
    expect(encodeSockaddr({ host: "127.0.0.1", port: 0x1b59 }, bytes, 0)).toBe(16);
    expect([...bytes.subarray(0, 16)]).toEqual([2, 0, 0x1b, 0x59, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(decodeSockaddr(bytes, 0)).toEqual({ host: "127.0.0.1", port: 7001 });
  });

  it("encodes sockaddr_in6 with flowinfo and scope zero", () => {
    const { bytes } = arena(32);
    expect(encodeSockaddr({ host: "fd00::1:2", port: 443 }, bytes, 0)).toBe(28);
    expect([...bytes.subarray(0, 8)]).toEqual([10, 0, 1, 0xbb, 0, 0, 0, 0]);
    expect([...bytes.subarray(8, 24)]).toEqual([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2]);
    expect([...bytes.subarray(24, 28)]).toEqual([0, 0, 0, 0]);
    expect(decodeSockaddr(bytes, 0)).toEqual({ host: "fd00::1:2", port: 443 });
  });

  it("refuses names (the kernel takes numbers) and unknown families", () => {
    const { bytes } = arena(32);
    expect(() => encodeSockaddr({ host: "localhost", port: 1 }, bytes, 0)).toThrow(TypeError);
    bytes.fill(0);
    bytes[0] = 1; // AF_UNIX
    expect(decodeSockaddr(bytes, 0)).toBeUndefined();
  });
});

describe("control messages", () => {
  it("writes UDP_SEGMENT as CMSG_LEN(2) with the u16 segment size", () => {
    const { bytes, view } = arena(40);
    expect(writeSegmentCmsg(view, 8, 1428)).toBe(CMSG_SPACE_INT);
    expect(u64(view, 8)).toBe(18n);
    expect(view.getInt32(16, true)).toBe(SOL_UDP);
    expect(view.getInt32(20, true)).toBe(UDP_SEGMENT);
    expect(view.getUint16(24, true)).toBe(1428);
    expect(bytes.subarray(26, 32).every((b) => b === 0)).toBe(true);
    expect(bytes.subarray(32).every((b) => b === 0xa5)).toBe(true);
  });

  it("finds the UDP_GRO size (an int), also behind another cmsg", () => {
    const { view } = arena(64);
    // An unrelated cmsg first: SOL_IP / IP_TOS, CMSG_LEN(1) = 17, padded to 24.
    view.setBigUint64(0, 17n, true);
    view.setInt32(8, 0, true);
    view.setInt32(12, 1, true);
    view.setBigUint64(24, 20n, true);
    view.setInt32(32, SOL_UDP, true);
    view.setInt32(36, UDP_GRO, true);
    view.setInt32(40, 1400, true);
    expect(parseGroSize(view, 0, 48)).toBe(1400);
    expect(parseGroSize(view, 24, 24)).toBe(1400);
  });

  it("reads no size from an empty, foreign or malformed control area", () => {
    const { view } = arena(64);
    expect(parseGroSize(view, 0, 0)).toBe(0);
    view.setBigUint64(0, 20n, true);
    view.setInt32(8, 0, true);
    view.setInt32(12, 1, true);
    expect(parseGroSize(view, 0, 24)).toBe(0);
    view.setBigUint64(0, 200n, true); // cmsg_len past the area
    view.setInt32(8, SOL_UDP, true);
    view.setInt32(12, UDP_GRO, true);
    expect(parseGroSize(view, 0, 24)).toBe(0);
    view.setBigUint64(0, 4n, true); // shorter than a header: would loop forever if trusted
    expect(parseGroSize(view, 0, 24)).toBe(0);
  });
});

describe("GRO splitting", () => {
  const data = Uint8Array.from({ length: 3500 }, (_, i) => i & 0xff);

  it("cuts a coalesced read every gso_size bytes, the last piece shorter", () => {
    const parts = splitGro(data, 1000);
    expect(parts.map((p) => p.length)).toEqual([1000, 1000, 1000, 500]);
    expect(parts[3]![0]).toBe(3000 & 0xff);
    expect(parts.every((p) => p.buffer === data.buffer)).toBe(true);
  });

  it("keeps a read whole without a size, or with one not smaller than the read", () => {
    expect(splitGro(data, 0)).toEqual([data]);
    expect(splitGro(data, 3500)).toEqual([data]);
    expect(splitGro(data, 65535)).toEqual([data]);
  });

  it("cuts evenly when the read is an exact multiple", () => {
    expect(splitGro(data.subarray(0, 3000), 1000).map((p) => p.length)).toEqual([1000, 1000, 1000]);
  });
});

describe("grouping datagrams into UDP_SEGMENT sends", () => {
  const sizes = (groups: ReturnType<typeof planSendGroups>) => groups.map((g) => [g.start, g.count, g.segment]);

  it("takes a run of equal sizes with one shorter datagram at its end", () => {
    expect(sizes(planSendGroups([1400, 1400, 1400, 300, 1400]))).toEqual([
      [0, 4, 1400],
      [4, 1, 1400],
    ]);
  });

  it("starts a new group at a larger datagram, and after a shorter one", () => {
    expect(sizes(planSendGroups([52, 1400, 1400, 52, 52, 52]))).toEqual([
      [0, 1, 52],
      [1, 3, 1400],
      [4, 2, 52],
    ]);
  });

  it("stops at the segment limit and at the payload limit", () => {
    const many = Array.from({ length: MAX_GSO_SEGMENTS + 5 }, () => 100);
    expect(sizes(planSendGroups(many))).toEqual([
      [0, MAX_GSO_SEGMENTS, 100],
      [MAX_GSO_SEGMENTS, 5, 100],
    ]);
    const big = Array.from({ length: 10 }, () => 9000);
    const groups = planSendGroups(big);
    expect(groups.map((g) => g.count)).toEqual([7, 3]);
    for (const g of groups) expect(g.count * g.segment).toBeLessThanOrEqual(MAX_UDP_PAYLOAD);
  });

  it("sends an empty datagram alone and covers every datagram exactly once", () => {
    const input = [0, 500, 500, 0, 700, 100, 100];
    const groups = planSendGroups(input);
    expect(groups.find((g) => g.start === 0)!.count).toBe(1);
    expect(groups.reduce((n, g) => n + g.count, 0)).toBe(input.length);
    groups.forEach((g, i) => expect(g.start).toBe(i === 0 ? 0 : groups[i - 1]!.start + groups[i - 1]!.count));
  });
});
