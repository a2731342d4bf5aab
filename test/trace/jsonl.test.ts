import { IpAddress } from "../../src/wire/address.js";
import { describe, expect, it } from "vitest";
import type { TraceEvent } from "../../src/trace/events.js";
import { eventJson, eventJsonLine } from "../../src/trace/jsonl.js";
import { seq } from "../../src/wire/seq.js";
import { ACK, SYN } from "../../src/wire/tcp.js";

const tuple = { localAddr: IpAddress.v4(0x0a000001), localPort: 40000, remoteAddr: IpAddress.v4(0x0a000002), remotePort: 80 };

describe("JSON lines", () => {
  const out: TraceEvent = {
    type: "segment-out",
    time: 10,
    host: "client",
    tuple,
    retransmit: false,
    segment: {
      srcPort: 40000, dstPort: 80, seq: seq(0xfffffffe), ack: seq(7), flags: SYN | ACK, window: 65535, urgentPointer: 0,
      options: { mss: 1460, windowScale: 7, sackPermitted: true, timestamp: { value: 1, echo: 2 }, sackBlocks: [{ left: seq(1), right: seq(2) }] },
      payload: new Uint8Array([0xde, 0xad]),
    },
  };

  it("renders segments as plain objects with flag names, dotted addresses and a payload length", () => {
    expect(eventJson(out)).toEqual({
      type: "segment-out",
      time: 10,
      host: "client",
      retransmit: false,
      tuple: { localAddr: "10.0.0.1", localPort: 40000, remoteAddr: "10.0.0.2", remotePort: 80 },
      segment: {
        srcPort: 40000, dstPort: 80, seq: 4294967294, ack: 7, flags: "SYN,ACK", window: 65535, urgentPointer: 0,
        options: { mss: 1460, windowScale: 7, sackPermitted: true, timestamp: { value: 1, echo: 2 }, sackBlocks: [[1, 2]] },
        payloadLength: 2,
      },
    });
  });

  it("adds payload hex on request", () => {
    expect(JSON.parse(eventJsonLine(out, { payloadHex: true })).segment.payloadHex).toBe("dead");
  });

  it("is one line of valid JSON, with non-finite numbers as null", () => {
    const line = eventJsonLine({ type: "timer-armed", time: 1, host: "a", tuple, timer: "rto", at: Infinity, backoff: 0 });
    expect(line).not.toContain("\n");
    expect(JSON.parse(line)).toMatchObject({ type: "timer-armed", at: null });
  });
});
