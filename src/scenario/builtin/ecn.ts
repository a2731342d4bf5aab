/**
 * Built-in scenario about Explicit Congestion Notification (RFC 3168): a queue that marks
 * instead of dropping, and TCP reducing its window without losing a segment.
 */
import type { ScenarioSpec } from "../model.js";
import { OPEN, SERVER } from "./common.js";

export const ecn: ScenarioSpec = {
  name: "ecn",
  title: "ECN: a full queue marks CE instead of dropping, and the sender slows down without a loss",
  description:
    "The client asks for ECN on its SYN (ECE and CWR, as tcp_ecn=1); the server, like Linux by default (tcp_ecn=2), agrees with ECE on its SYN-ACK. Data then carries ECT(0). The client's first window of ten segments arrives at a 10 Mbit/s bottleneck whose queue management marks packets CE once more than 4 are waiting (and would drop packets that are not ECN-capable). The server sees CE and sets ECE on its ACKs; the client reduces its window once for that window of data (the CWR state, with PRR), sets CWR on its next new segment, and the server stops echoing. Nothing is lost or resent (RFC 3168 section 6.1).",
  behaviours: ["S14", "S15"],
  hosts: [{ name: "client", address: "10.0.0.1", tcp: { ecn: 1 } }, { ...SERVER, tcp: { receiveBufferSize: 16_384 } }],
  links: [
    { from: "client", to: "server", delay: 10, rate: 10_000_000, aqm: { markAbove: 4 } },
    { from: "server", to: "client", delay: 10 },
  ],
  script: [...OPEN, { at: 100, do: "send", host: "client", bytes: 30_000 }],
  expect: [
    { expect: "ecn", host: "server", action: "negotiated", equals: 1 },
    { expect: "ecn", host: "client", action: "negotiated", equals: 1 },
    { expect: "segment", from: "client", hasFlags: "SYN,ECE,CWR", nth: 1, at: 0 },
    { expect: "segment", from: "server", hasFlags: "SYN,ACK,ECE", lacksFlags: "CWR", nth: 1 },
    { expect: "ecn", host: "server", action: "ce-received", equals: 1 },
    { expect: "segment", from: "server", hasFlags: "ECE", lacksFlags: "SYN", nth: 1, ack: "x+10137" },
    { expect: "ecn", host: "client", action: "ece-received", equals: 1 },
    { expect: "ecn", host: "client", action: "cwr-sent", equals: 1 },
    { expect: "segment", from: "client", hasFlags: "CWR", lacksFlags: "SYN", data: true, nth: 1, seq: "x+24617" },
    { expect: "ecn", host: "server", action: "cwr-received", equals: 1 },
    { expect: "drops", link: "client->server", reason: "aqm", equals: 0 },
    { expect: "recovery", host: "client", action: "recovery", equals: 0 },
    { expect: "timer", conn: "client", timer: "rto", fired: [] },
    { expect: "received", conn: "server", bytes: 30_000 },
  ],
};
