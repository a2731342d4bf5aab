/**
 * Built-in scenarios about closing connections (S22 - S32), and the default tour.
 */
import type { ScenarioSpec } from "../model.js";
import { LINK, OPEN, PAIR } from "./common.js";

export const tour: ScenarioSpec = {
  name: "tour",
  title: "The tour: three-way handshake, a little data each way, four-way close",
  description: "A client connects, says hello, gets an answer and closes; the server closes too. Every step of the documents, on real segments.",
  behaviours: ["S1", "S2", "S3", "S4", "S5", "S15", "S22", "S23", "S27"],
  hosts: PAIR,
  links: LINK,
  script: [
    ...OPEN,
    { at: 100, do: "send", host: "client", text: "hello" },
    { at: 200, do: "send", host: "server", text: "world" },
    { at: 300, do: "close", host: "client" },
    { at: 400, do: "close", host: "server" },
  ],
  expect: [
    { expect: "states", conn: "client", sequence: ["SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT", "CLOSED"] },
    { expect: "states", conn: "server", sequence: ["SYN_RCVD", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED"] },
    { expect: "segment", from: "client", flags: "SYN", at: 0, seq: "x" },
    { expect: "segment", from: "server", flags: "SYN,ACK", at: 10, seq: "y", ack: "x+1" },
    { expect: "segment", from: "client", flags: "ACK", at: 20, seq: "x+1", ack: "y+1" },
    { expect: "segment", from: "client", hasFlags: "FIN", at: 300, seq: "x+6", ack: "y+6" },
    { expect: "segment", from: "server", hasFlags: "FIN", at: 400, seq: "y+6", ack: "x+7" },
    { expect: "segment", from: "client", flags: "ACK", nth: -1, at: 410, seq: "x+7", ack: "y+7" },
    { expect: "received", conn: "server", text: "hello", eof: true },
    { expect: "received", conn: "client", text: "world", eof: true },
    { expect: "timer", conn: "client", timer: "time-wait", armed: [60_410], fired: [60_410] },
    { expect: "state", conn: "client", state: "TIME_WAIT", at: 60_000 },
    { expect: "state", conn: "server", state: "CLOSED", at: 420 },
  ],
};

export const closeClient: ScenarioSpec = {
  name: "close-client",
  title: "Four-way close, the client closes first",
  description: "FIN seq=u from the client (FIN_WAIT_1), ACK u+1 from the server (CLOSE_WAIT; the client moves to FIN_WAIT_2), the server's FIN seq=w (LAST_ACK), the client's ACK w+1: the server is CLOSED at once, the client waits 2 MSL in TIME_WAIT.",
  behaviours: ["S22", "S23", "S27", "S32"],
  hosts: PAIR,
  links: LINK,
  script: [...OPEN, { at: 100, do: "close", host: "client" }, { at: 200, do: "close", host: "server" }],
  expect: [
    { expect: "states", conn: "client", sequence: ["SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT", "CLOSED"] },
    { expect: "states", conn: "server", sequence: ["SYN_RCVD", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED"] },
    { expect: "segment", from: "client", hasFlags: "FIN", at: 100, seq: "x+1", ack: "y+1" },
    { expect: "segment", from: "server", flags: "ACK", at: 110, seq: "y+1", ack: "x+2" },
    { expect: "segment", from: "server", hasFlags: "FIN", at: 200, seq: "y+1", ack: "x+2" },
    { expect: "segment", from: "client", flags: "ACK", nth: -1, at: 210, seq: "x+2", ack: "y+2" },
    { expect: "state", conn: "client", state: "FIN_WAIT_2", at: 120 },
    { expect: "state", conn: "server", state: "CLOSED", at: 220 },
    { expect: "timer", conn: "client", timer: "time-wait", armed: [60_210], fired: [60_210] },
    { expect: "received", conn: "server", bytes: 0, eof: true },
  ],
};

export const closeServer: ScenarioSpec = {
  name: "close-server",
  title: "Four-way close, the server closes first",
  description: "Either side may close first (S25): here the server sends the first FIN, so it is the server that goes through FIN_WAIT_2 and TIME_WAIT while the client passes CLOSE_WAIT and LAST_ACK.",
  behaviours: ["S22", "S25", "S27"],
  hosts: PAIR,
  links: LINK,
  script: [...OPEN, { at: 100, do: "close", host: "server" }, { at: 200, do: "close", host: "client" }],
  expect: [
    { expect: "states", conn: "server", sequence: ["SYN_RCVD", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT", "CLOSED"] },
    { expect: "states", conn: "client", sequence: ["SYN_SENT", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED"] },
    { expect: "segment", from: "server", hasFlags: "FIN", at: 100, seq: "y+1" },
    { expect: "segment", from: "client", hasFlags: "FIN", at: 200, seq: "x+1", ack: "y+2" },
    { expect: "received", conn: "client", bytes: 0, eof: true },
    { expect: "timer", conn: "server", timer: "time-wait", fired: [60_210] },
  ],
};

export const halfClose: ScenarioSpec = {
  name: "half-close",
  title: "Half-close: data keeps flowing to the side that sent FIN",
  description: "The client calls shutdown(): its FIN means only \"I will send no more\". The server, in CLOSE_WAIT, still sends 3000 bytes and a goodbye, which the client reads in FIN_WAIT_2, then closes (S24).",
  behaviours: ["S24", "S22", "S32"],
  hosts: PAIR,
  links: LINK,
  script: [
    ...OPEN,
    { at: 100, do: "send", host: "client", text: "request" },
    { at: 100, do: "shutdown", host: "client" },
    { at: 200, do: "send", host: "server", bytes: 3000 },
    { at: 300, do: "send", host: "server", text: "bye" },
    { at: 400, do: "close", host: "server" },
  ],
  expect: [
    { expect: "states", conn: "client", sequence: ["SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT", "CLOSED"] },
    { expect: "states", conn: "server", sequence: ["SYN_RCVD", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED"] },
    { expect: "state", conn: "server", state: "CLOSE_WAIT", at: 200 },
    { expect: "segment", from: "server", data: true, nth: 1, at: 200, seq: "y+1", len: 1448 },
    { expect: "segment", from: "server", data: true, nth: -1, at: 300, len: 3 },
    { expect: "received", conn: "server", text: "request", eof: true },
    { expect: "received", conn: "client", bytes: 3003, eof: true },
  ],
};

export const simultaneousClose: ScenarioSpec = {
  name: "simultaneous-close",
  title: "Simultaneous close: both FINs cross",
  description: "Both applications close at the same moment. Each side receives the other's FIN while its own is unacknowledged, goes FIN_WAIT_1 -> CLOSING, and on the ACK of its FIN -> TIME_WAIT: both sides wait 2 MSL (S26).",
  behaviours: ["S26", "S27"],
  hosts: PAIR,
  links: LINK,
  script: [...OPEN, { at: 100, do: "close", host: "client" }, { at: 100, do: "close", host: "server" }],
  expect: [
    { expect: "states", conn: "client", sequence: ["SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "CLOSING", "TIME_WAIT", "CLOSED"] },
    { expect: "states", conn: "server", sequence: ["SYN_RCVD", "ESTABLISHED", "FIN_WAIT_1", "CLOSING", "TIME_WAIT", "CLOSED"] },
    { expect: "segment", from: "client", hasFlags: "FIN", at: 100, seq: "x+1", ack: "y+1" },
    { expect: "segment", from: "server", hasFlags: "FIN", at: 100, seq: "y+1", ack: "x+1" },
    { expect: "state", conn: "client", state: "CLOSING", at: 110 },
    { expect: "timer", conn: "client", timer: "time-wait", armed: [60_120], fired: [60_120] },
    { expect: "timer", conn: "server", timer: "time-wait", armed: [60_120], fired: [60_120] },
  ],
};

export const lostFinalAck: ScenarioSpec = {
  name: "lost-final-ack",
  title: "The last ACK is lost: why TIME_WAIT exists",
  description: "The client's ACK of the server's FIN is lost. The server, in LAST_ACK, retransmits its FIN when its timer expires (S29); the client, still in TIME_WAIT, ACKs it again and restarts its 2 MSL timer (S27). Without TIME_WAIT that FIN would have met a RST.",
  behaviours: ["S27", "S29", "S22"],
  hosts: PAIR,
  links: LINK,
  faults: [{ from: "client", to: "server", match: { flags: "ACK", data: false }, nth: [2], action: "drop" }],
  script: [...OPEN, { at: 100, do: "close", host: "client" }, { at: 200, do: "close", host: "server" }],
  expect: [
    { expect: "states", conn: "client", sequence: ["SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT", "CLOSED"] },
    { expect: "states", conn: "server", sequence: ["SYN_RCVD", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED"] },
    { expect: "segments", from: "server", hasFlags: "FIN", times: [200, 420] },
    { expect: "segment", from: "server", hasFlags: "FIN", nth: 2, seq: "y+1", retransmit: true },
    { expect: "segments", from: "client", flags: "ACK", data: false, times: [20, 210, 430] },
    { expect: "drops", host: "client", reason: "duplicate", equals: 1 },
    { expect: "timer", conn: "client", timer: "time-wait", armed: [60_210, 60_430], fired: [60_430] },
    { expect: "state", conn: "server", state: "LAST_ACK", at: 419 },
    { expect: "state", conn: "server", state: "CLOSED", at: 440 },
    { expect: "state", conn: "client", state: "TIME_WAIT", at: 60_300 },
  ],
};

export const timeWaitReuse: ScenarioSpec = {
  name: "time-wait-reuse",
  title: "No reuse of a 4-tuple in TIME_WAIT",
  description: "After closing, the client's port 5000 stays in TIME_WAIT for 2 MSL: connecting again from it to the same server fails with EADDRINUSE. Once the timer expires the same 4-tuple works again (S28).",
  behaviours: ["S28", "S27"],
  hosts: PAIR,
  links: LINK,
  script: [
    { at: 0, do: "listen", host: "server", port: 80 },
    { at: 0, do: "connect", host: "client", to: "server", port: 80, localPort: 5000 },
    { at: 100, do: "close", host: "client" },
    { at: 200, do: "close", host: "server" },
    { at: 1000, do: "connect", host: "client", to: "server", port: 80, localPort: 5000, as: "too-soon" },
    { at: 61_000, do: "connect", host: "client", to: "server", port: 80, localPort: 5000, as: "later" },
  ],
  expect: [
    { expect: "call-error", host: "client", code: "EADDRINUSE", at: 1000 },
    { expect: "state", conn: "client", state: "TIME_WAIT", at: 1000 },
    { expect: "state", conn: "client", state: "CLOSED", at: 60_210 },
    { expect: "states", conn: "later", sequence: ["SYN_SENT", "ESTABLISHED"] },
    { expect: "segment", from: "client", flags: "SYN", nth: 2, at: 61_000, seq: "x2" },
  ],
};

export const finWait2Timeout: ScenarioSpec = {
  name: "fin-wait-2-timeout",
  title: "An orphaned FIN_WAIT_2 does not last forever",
  description: "The client closes, but the server never does. The orphaned client connection sits in FIN_WAIT_2 for tcp_fin_timeout (60 s) and is then dropped (S31). When the server finally closes, its FIN reaches no connection and is answered with RST (S30).",
  behaviours: ["S31", "S30"],
  hosts: PAIR,
  links: LINK,
  script: [...OPEN, { at: 100, do: "close", host: "client" }, { at: 70_000, do: "close", host: "server" }],
  expect: [
    { expect: "states", conn: "client", sequence: ["SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSED"] },
    { expect: "timer", conn: "client", timer: "fin-wait-2", fired: [60_120] },
    { expect: "state", conn: "server", state: "CLOSE_WAIT", at: 69_999 },
    { expect: "segment", from: "client", flags: "RST", at: 70_010, seq: "x+2" },
    { expect: "states", conn: "server", sequence: ["SYN_RCVD", "ESTABLISHED", "CLOSE_WAIT", "LAST_ACK", "CLOSED"] },
    { expect: "state", conn: "server", state: "CLOSED", at: 70_020 },
  ],
};
