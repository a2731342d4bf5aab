/**
 * Built-in scenarios about moving data reliably (S14 - S21): segmentation, acknowledgement,
 * retransmission, windows, reordering, duplicates, corruption and keep-alive.
 */
import type { ScenarioSpec } from "../model.js";
import { CLIENT, LINK, OPEN, PAIR, SERVER } from "./common.js";

export const dataTransfer: ScenarioSpec = {
  name: "data-transfer",
  title: "10,000 bytes: segments of one MSS and cumulative ACKs",
  description: "The client writes 10,000 bytes at once. TCP cuts them into segments of at most one MSS (1460 from the SYN, less the 12 bytes of timestamp option each segment carries: 1448), the receiver acknowledges by sequence number and rebuilds the exact stream (S14, S15).",
  behaviours: ["S14", "S15", "S17"],
  hosts: PAIR,
  links: LINK,
  script: [...OPEN, { at: 100, do: "send", host: "client", bytes: 10_000 }],
  expect: [
    { expect: "received", conn: "server", bytes: 10_000 },
    { expect: "segments", from: "client", data: true, count: 7 },
    { expect: "segment", from: "client", data: true, nth: 1, at: 100, seq: "x+1", len: 1448 },
    { expect: "segment", from: "client", data: true, nth: -1, seq: "x+8689", len: 1312 },
    { expect: "segment", from: "server", flags: "ACK", nth: -1, ack: "x+10001" },
  ],
};

export const lostData: ScenarioSpec = {
  name: "lost-data",
  title: "A data segment is lost: the retransmission timer recovers it",
  description: "The second of three segments is lost. The receiver holds the third and repeats its ACK for the gap (a SACK block says it has the third); when the retransmission timeout expires the sender resends the missing segment (S16, S18). The client counts duplicate ACKs to detect loss, as the articles describe (Linux's tcp_recovery=0); with RACK, the default, see rack-loss.",
  behaviours: ["S16", "S15", "S18"],
  hosts: [{ ...CLIENT, tcp: { rack: false } }, SERVER],
  links: LINK,
  faults: [{ from: "client", to: "server", match: { data: true }, nth: [2], action: "drop" }],
  script: [...OPEN, { at: 100, do: "send", host: "client", bytes: 4344 }],
  expect: [
    { expect: "received", conn: "server", bytes: 4344 },
    { expect: "segments", from: "client", data: true, times: [100, 100, 100, 340] },
    { expect: "segment", from: "client", data: true, nth: 4, seq: "x+1449", len: 1448, retransmit: true },
    { expect: "segment", from: "server", flags: "ACK", nth: 2, at: 110, ack: "x+1449" },
    { expect: "timer", conn: "client", timer: "rto", fired: [340] },
    { expect: "segment", from: "server", flags: "ACK", nth: -1, at: 350, ack: "x+4345" },
  ],
};

export const rackLoss: ScenarioSpec = {
  name: "rack-loss",
  title: "RACK: a lost segment found a quarter RTT after a later one arrived",
  description: "The second of three segments is lost. The SACK for the third shows a segment sent no earlier than the second was delivered; once the reordering window (a quarter of the minimum RTT) passes without the second, RACK deems it lost and the sender resends it at once, instead of waiting 200 ms or more for the retransmission timeout (RFC 8985 section 6; compare lost-data).",
  behaviours: ["S16", "S18"],
  hosts: PAIR,
  links: LINK,
  faults: [{ from: "client", to: "server", match: { data: true }, nth: [2], action: "drop" }],
  script: [...OPEN, { at: 100, do: "send", host: "client", bytes: 4344 }],
  expect: [
    { expect: "received", conn: "server", bytes: 4344 },
    { expect: "timer", conn: "client", timer: "reorder", fired: [127] },
    { expect: "recovery", host: "client", action: "rack-lost", equals: 1, times: [127] },
    { expect: "segment", from: "client", data: true, nth: 4, at: 127, seq: "x+1449", len: 1448, retransmit: true },
    { expect: "timer", conn: "client", timer: "rto", fired: [] },
    { expect: "segment", from: "server", flags: "ACK", nth: -1, at: 137, ack: "x+4345" },
  ],
};

export const tailLossProbe: ScenarioSpec = {
  name: "tail-loss-probe",
  title: "Tail loss probe: the last segments are lost and nothing comes back to say so",
  description: "The last two of four segments are lost. No later segment arrives to show the gap, so there is no duplicate ACK and RACK has nothing to compare. About two round trips after the last ACK (the probe timeout, PTO) the sender resends its last segment as a probe; the probe's SACK shows the segment before it missing, RACK marks it lost and it is resent at once. Without the probe, the retransmission timeout would fire 200 ms later (RFC 8985 section 7).",
  behaviours: ["S16"],
  hosts: PAIR,
  links: LINK,
  faults: [{ from: "client", to: "server", match: { data: true }, nth: [3, 4], action: "drop" }],
  script: [...OPEN, { at: 100, do: "send", host: "client", bytes: 5792 }],
  expect: [
    { expect: "received", conn: "server", bytes: 5792 },
    { expect: "timer", conn: "client", timer: "tlp", fired: [162] },
    { expect: "recovery", host: "client", action: "tlp", equals: 1, times: [162] },
    { expect: "segment", from: "client", data: true, nth: 5, at: 162, seq: "x+4345", len: 1448, retransmit: true },
    { expect: "recovery", host: "client", action: "rack-lost", equals: 1, times: [182] },
    { expect: "segment", from: "client", data: true, nth: 6, at: 182, seq: "x+2897", len: 1448, retransmit: true },
    { expect: "timer", conn: "client", timer: "rto", fired: [] },
  ],
};

export const spuriousRetransmission: ScenarioSpec = {
  name: "spurious-retransmission",
  title: "A spurious retransmission, found out by D-SACK and undone",
  description: "The first data segment is held back 30 ms, longer than RACK's reordering window. The sender deems it lost and resends it; then the original arrives too. The receiver reports the duplicate in a D-SACK block (RFC 2883), which tells the sender the retransmission was unneeded: it restores the congestion window it had cut (RFC 3708, Linux's undo) and widens its reordering window (RFC 8985 6.2).",
  behaviours: ["S18", "S19"],
  hosts: PAIR,
  links: LINK,
  faults: [{ from: "client", to: "server", match: { data: true }, nth: [1], action: "delay", by: 30 }],
  script: [...OPEN, { at: 100, do: "send", host: "client", bytes: 4344 }],
  expect: [
    { expect: "received", conn: "server", bytes: 4344 },
    { expect: "recovery", host: "client", action: "rack-lost", equals: 1, times: [127] },
    { expect: "segment", from: "client", data: true, nth: 4, at: 127, seq: "x+1", retransmit: true },
    { expect: "drops", host: "server", reason: "duplicate", equals: 1, times: [140] },
    { expect: "recovery", host: "client", action: "dsack", equals: 1, times: [150] },
    { expect: "recovery", host: "client", action: "undo", equals: 1, times: [150] },
  ],
};

export const spuriousTimeout: ScenarioSpec = {
  name: "spurious-timeout",
  title: "A spurious timeout, found out by F-RTO and undone",
  description: "The server's ACKs for the first ten data segments are held up 400 ms (a delay spike on the way back, as on a radio link), longer than the client's retransmission timeout. The timer fires and the client resends its first segment, as if everything had been lost. Timestamps are off, so Eifel detection cannot tell; F-RTO (RFC 5682, on by default in Linux) can: when the first ACK after the timeout arrives, the client sends new data instead of more retransmissions, and the next ACK acknowledges a segment that was never resent, so the originals must have arrived. The timeout was spurious: the client undoes its window reduction and goes on where it was, instead of resending ten segments that were never lost.",
  behaviours: ["S16", "S19"],
  hosts: [{ ...CLIENT, tcp: { timestamps: false, tlp: false } }, { ...SERVER, tcp: { timestamps: false } }],
  links: LINK,
  faults: [{ from: "server", to: "client", match: { data: false }, nth: [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], action: "delay", by: 400 }],
  script: [...OPEN, { at: 100, do: "send", host: "client", bytes: 100_000 }],
  expect: [
    { expect: "received", conn: "server", bytes: 100_000 },
    { expect: "recovery", host: "client", action: "frto", equals: 1 },
    { expect: "recovery", host: "client", action: "undo", equals: 1 },
  ],
};

export const reordering: ScenarioSpec = {
  name: "reordering",
  title: "Reordering: a segment overtaken on the way",
  description: "The first data segment is held back 3 ms, so the second and third arrive first. The receiver keeps them, sends duplicate ACKs for the missing bytes (with SACK blocks naming what it holds), and delivers everything in order once the late segment arrives (S18). The sender does not resend: the late segment comes within RACK's reordering window, a quarter of the round trip (RFC 8985 6.2; see spurious-retransmission for a longer delay).",
  behaviours: ["S18", "S15"],
  hosts: PAIR,
  links: LINK,
  faults: [{ from: "client", to: "server", match: { data: true }, nth: [1], action: "delay", by: 3 }],
  script: [...OPEN, { at: 100, do: "send", host: "client", bytes: 4344 }],
  expect: [
    { expect: "received", conn: "server", bytes: 4344 },
    { expect: "segments", from: "client", data: true, count: 3 },
    { expect: "segments", from: "server", flags: "ACK", data: false, times: [110, 110, 113] },
    { expect: "segment", from: "server", flags: "ACK", nth: 1, ack: "x+1" },
    { expect: "segment", from: "server", flags: "ACK", nth: 2, ack: "x+1" },
    { expect: "segment", from: "server", flags: "ACK", nth: 3, ack: "x+4345" },
  ],
};

export const duplication: ScenarioSpec = {
  name: "duplication",
  title: "Duplication: the same segment arrives twice",
  description: "The network delivers the data segment twice. The receiver recognises the second copy by its sequence numbers (all before RCV.NXT, so outside the window), discards it and ACKs again; the application reads the bytes once (S19).",
  behaviours: ["S19"],
  hosts: PAIR,
  links: LINK,
  faults: [{ from: "client", to: "server", match: { data: true }, nth: [1], action: "duplicate" }],
  script: [...OPEN, { at: 100, do: "send", host: "client", text: "hello" }],
  expect: [
    { expect: "received", conn: "server", text: "hello" },
    // RFC 9293's acceptability test rejects bytes that are all before RCV.NXT: out of window.
    { expect: "drops", host: "server", reason: "out-of-window", equals: 1 },
    { expect: "segments", from: "server", flags: "ACK", data: false, times: [110, 110] },
    { expect: "segment", from: "server", flags: "ACK", nth: 2, ack: "x+6" },
  ],
};

export const corruption: ScenarioSpec = {
  name: "corruption",
  title: "Corruption: a bit flips and the checksum catches it",
  description: "One bit of the data segment flips on the way. The checksum over pseudo-header, header and data no longer matches, so the receiver drops it silently, without an ACK; the sender's retransmission timer resends it (S20).",
  behaviours: ["S20", "S16"],
  hosts: PAIR,
  links: LINK,
  faults: [{ from: "client", to: "server", match: { data: true }, nth: [1], action: "corrupt" }],
  script: [...OPEN, { at: 100, do: "send", host: "client", text: "hello" }],
  expect: [
    { expect: "received", conn: "server", text: "hello" },
    { expect: "drops", host: "server", reason: "bad-checksum", equals: 1 },
    { expect: "segments", from: "client", data: true, times: [100, 320] },
    { expect: "segments", from: "server", flags: "ACK", data: false, times: [330] },
  ],
};

export const zeroWindow: ScenarioSpec = {
  name: "zero-window",
  title: "Zero window and persist probes",
  description: "The server's application stops reading and its 4 KB receive buffer fills. First its window shrinks below a segment: the client sends no runt at once (sender SWS avoidance) and its persist timer, when it fires, sends what fits (Linux's probe timer). Then the window is zero and the client must stop: it probes the window with growing intervals (persist timer: a bare ACK with an old sequence number; the receiver answers at most every 500 ms, like Linux) until the application reads again and the window reopens (S17).",
  behaviours: ["S17"],
  hosts: [CLIENT, { ...SERVER, tcp: { receiveBufferSize: 4096, windowScaling: false } }],
  links: LINK,
  script: [
    { at: 0, do: "listen", host: "server", port: 80 },
    { at: 0, do: "connect", host: "client", to: "server", port: 80 },
    { at: 50, do: "stop-reading", host: "server" },
    { at: 100, do: "send", host: "client", bytes: 6000 },
    { at: 3000, do: "read", host: "server" },
  ],
  expect: [
    { expect: "received", conn: "server", bytes: 6000 },
    { expect: "segment", from: "client", data: true, nth: 3, at: 340 },
    { expect: "segment", from: "server", flags: "ACK", nth: 3, at: 350, ack: "x+4097", window: 0 },
    { expect: "timer", conn: "client", timer: "persist", fired: [340, 580, 1020, 1900] },
    { expect: "segments", from: "client", flags: "ACK", data: false, times: [20, 580, 1020, 1900] },
    { expect: "segment", from: "client", flags: "ACK", data: false, nth: 2, at: 580, seq: "x+4096" },
    { expect: "segment", from: "server", flags: "ACK", nth: 6, at: 3000, window: 4096 },
    { expect: "segment", from: "client", data: true, nth: 4, at: 3010, seq: "x+4097" },
  ],
};

export const keepalive: ScenarioSpec = {
  name: "keepalive",
  title: "Keep-alive finds a dead peer",
  description: "The client turns keep-alive on; then the server vanishes (unplugged, no FIN, no RST). After 2 hours idle the client sends a probe every 75 s; after 9 unanswered probes it gives up with ETIMEDOUT (Linux defaults, S21).",
  behaviours: ["S21"],
  hosts: PAIR,
  links: LINK,
  script: [...OPEN, { at: 100, do: "keepalive", host: "client" }, { at: 1000, do: "unplug", host: "server" }],
  expect: [
    { expect: "timer", conn: "client", timer: "keepalive", fired: [7_200_100, 7_275_100, 7_350_100, 7_425_100, 7_500_100, 7_575_100, 7_650_100, 7_725_100, 7_800_100, 7_875_100] },
    { expect: "segments", from: "client", flags: "ACK", data: false, count: 10 },
    { expect: "segment", from: "client", flags: "ACK", nth: 2, at: 7_200_100, seq: "x" },
    { expect: "error", conn: "client", code: "ETIMEDOUT", at: 7_875_100 },
    { expect: "states", conn: "client", sequence: ["SYN_SENT", "ESTABLISHED", "CLOSED"] },
  ],
};

export const pathMtu: ScenarioSpec = {
  name: "path-mtu",
  title: "Path MTU: a router says the segments are too big, and the sender makes them smaller",
  description: "The link from client to server carries at most 1,000 bytes, though both ends have a 1,500-byte MTU and agreed on an MSS of 1,460. The first data segments do not fit; the router in front of the narrow link drops them and answers with ICMP \"fragmentation needed\" naming the next-hop MTU. The client lowers its MSS to fit the path and resends what was in flight in the new size, without treating it as congestion (RFC 1191; Linux's tcp_simple_retransmit).",
  behaviours: ["S14", "S16"],
  hosts: PAIR,
  links: [
    { from: "server", to: "client", delay: 10 },
    { from: "client", to: "server", delay: 10, mtu: 1000, mtuErrors: true },
  ],
  script: [...OPEN, { at: 100, do: "send", host: "client", bytes: 4344 }],
  expect: [
    { expect: "received", conn: "server", bytes: 4344 },
    { expect: "recovery", host: "client", action: "mtu", atLeast: 1 },
    { expect: "segment", from: "client", data: true, nth: 4, at: 110, seq: "x+1", len: 948, retransmit: true },
    { expect: "timer", conn: "client", timer: "rto", fired: [] },
  ],
};

export const mtuBlackHole: ScenarioSpec = {
  name: "mtu-black-hole",
  title: "Path MTU black hole: big segments vanish without a word, and probing finds the size that fits",
  description: "The link from client to server carries at most 1,400 bytes and its router drops bigger packets without sending ICMP (a black hole: a tunnel behind a firewall that filters ICMP). The client's full-size segments never arrive, so only its retransmission timer notices. With tcp_mtu_probing=1, after as long as tcp_retries1 timeouts take (3 s) the client suspects the path rather than congestion, drops to the base MSS of 1,024 bytes, and the data flows; then it probes upward with one larger segment at a time (RFC 4821, Linux tcp_mtu_probe) and settles just under the path's 1,400 bytes.",
  behaviours: ["S14", "S16"],
  hosts: [{ ...CLIENT, tcp: { mtuProbing: 1 } }, SERVER],
  links: [
    { from: "server", to: "client", delay: 10 },
    { from: "client", to: "server", delay: 10, mtu: 1400 },
  ],
  script: [...OPEN, { at: 100, do: "send", host: "client", bytes: 200_000 }],
  expect: [
    { expect: "received", conn: "server", bytes: 200_000 },
    { expect: "recovery", host: "client", action: "mtu-probe", atLeast: 3 },
    { expect: "timer", conn: "client", timer: "rto", fired: [362, 802, 1682, 3442] },
  ],
};
