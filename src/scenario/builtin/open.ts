/**
 * Built-in scenarios about opening connections (S1 - S13, S30 - S32): the handshake and
 * everything that can go wrong with it.
 */
import type { ScenarioSpec } from "../model.js";
import { CLIENT, LINK, OPEN, PAIR, SERVER } from "./common.js";

export const handshake: ScenarioSpec = {
  name: "handshake",
  title: "The three-way handshake",
  description: "SYN seq=x, SYN,ACK seq=y ack=x+1, ACK seq=x+1 ack=y+1: after three segments each side knows the other can send and receive. The SYNs carry the window and the options (MSS, window scale).",
  behaviours: ["S1", "S2", "S3", "S4", "S5", "S6", "S7"],
  hosts: PAIR,
  links: LINK,
  script: [...OPEN],
  expect: [
    { expect: "states", conn: "client", sequence: ["SYN_SENT", "ESTABLISHED"] },
    { expect: "states", conn: "server", sequence: ["SYN_RCVD", "ESTABLISHED"] },
    { expect: "segment", from: "client", flags: "SYN", at: 0, seq: "x", window: 65535, len: 0 },
    { expect: "segment", from: "server", flags: "SYN,ACK", at: 10, seq: "y", ack: "x+1", len: 0 },
    { expect: "segment", from: "client", flags: "ACK", at: 20, seq: "x+1", ack: "y+1" },
    { expect: "segments", from: "client", count: 2 },
    { expect: "segments", from: "server", count: 1 },
    { expect: "state", conn: "server", state: "SYN_RCVD", at: 29 },
    { expect: "state", conn: "server", state: "ESTABLISHED", at: 30 },
  ],
};

export const simultaneousOpen: ScenarioSpec = {
  name: "simultaneous-open",
  title: "Simultaneous open: both sides connect at once",
  description: "Both ends send a SYN to each other's port at the same moment. Each gets a SYN while in SYN_SENT, answers SYN,ACK from SYN_RCVD, and both reach ESTABLISHED with four segments instead of three.",
  behaviours: ["S13"],
  hosts: PAIR,
  links: LINK,
  script: [
    { at: 0, do: "connect", host: "client", to: "server", port: 6000, localPort: 5000 },
    { at: 0, do: "connect", host: "server", to: "client", port: 5000, localPort: 6000 },
    { at: 100, do: "send", host: "client", text: "hi" },
  ],
  expect: [
    { expect: "states", conn: "client", sequence: ["SYN_SENT", "SYN_RCVD", "ESTABLISHED"] },
    { expect: "states", conn: "server", sequence: ["SYN_SENT", "SYN_RCVD", "ESTABLISHED"] },
    { expect: "segment", from: "client", flags: "SYN", at: 0, seq: "x" },
    { expect: "segment", from: "server", flags: "SYN", at: 0, seq: "y" },
    { expect: "segment", from: "client", flags: "SYN,ACK", at: 10, seq: "x", ack: "y+1" },
    { expect: "segment", from: "server", flags: "SYN,ACK", at: 10, seq: "y", ack: "x+1" },
    { expect: "state", conn: "client", state: "ESTABLISHED", at: 20 },
    { expect: "received", conn: "server", text: "hi" },
  ],
};

export const lostSyn: ScenarioSpec = {
  name: "lost-syn",
  title: "Every SYN is lost: exponential backoff, then ETIMEDOUT",
  description: "The client resends its SYN after 1 s, then 2, 4, 8, 16 and 32 s (tcp_syn_retries = 6) and gives up 127 s after the first attempt: connect() fails with ETIMEDOUT.",
  behaviours: ["S8", "S16"],
  hosts: PAIR,
  links: LINK,
  faults: [{ from: "client", to: "server", match: { flags: "SYN" }, action: "drop" }],
  script: [...OPEN],
  expect: [
    { expect: "states", conn: "client", sequence: ["SYN_SENT", "CLOSED"] },
    { expect: "segments", from: "client", flags: "SYN", times: [0, 1000, 3000, 7000, 15000, 31000, 63000] },
    { expect: "timer", conn: "client", timer: "rto", fired: [1000, 3000, 7000, 15000, 31000, 63000, 127000] },
    { expect: "segment", from: "client", flags: "SYN", nth: -1, seq: "x", retransmit: true },
    { expect: "error", conn: "client", code: "ETIMEDOUT", at: 127000 },
    { expect: "drops", link: "client->server", reason: "rule", equals: 7 },
  ],
};

export const lostSynAck: ScenarioSpec = {
  name: "lost-syn-ack",
  title: "The SYN,ACK is lost",
  description: "The server's SYN,ACK never arrives. After 1 s the client resends its SYN; the server recognises it (same ISN), answers with the SYN,ACK again and the handshake completes.",
  behaviours: ["S8", "S9"],
  hosts: PAIR,
  links: LINK,
  faults: [{ from: "server", to: "client", match: { flags: "SYN,ACK" }, nth: [1], action: "drop" }],
  script: [...OPEN],
  expect: [
    { expect: "states", conn: "client", sequence: ["SYN_SENT", "ESTABLISHED"] },
    { expect: "states", conn: "server", sequence: ["SYN_RCVD", "ESTABLISHED"] },
    { expect: "segments", from: "client", flags: "SYN", times: [0, 1000] },
    { expect: "segments", from: "server", flags: "SYN,ACK", times: [10, 1010] },
    { expect: "segment", from: "server", flags: "SYN,ACK", nth: 2, seq: "y", ack: "x+1", retransmit: true },
    { expect: "state", conn: "client", state: "ESTABLISHED", at: 1020 },
    { expect: "state", conn: "server", state: "ESTABLISHED", at: 1030 },
  ],
};

export const lostThirdAck: ScenarioSpec = {
  name: "lost-third-ack",
  title: "The third segment (ACK) is lost, and recovered",
  description: "The client is ESTABLISHED after the SYN,ACK, but its ACK is lost, so the server stays in SYN_RCVD. The server's SYN,ACK retransmission makes the client ACK again, and the server gets there too.",
  behaviours: ["S9", "S10"],
  hosts: PAIR,
  links: LINK,
  faults: [{ from: "client", to: "server", match: { flags: "ACK", data: false }, nth: [1], action: "drop" }],
  script: [...OPEN],
  expect: [
    { expect: "states", conn: "client", sequence: ["SYN_SENT", "ESTABLISHED"] },
    { expect: "states", conn: "server", sequence: ["SYN_RCVD", "ESTABLISHED"] },
    { expect: "state", conn: "client", state: "ESTABLISHED", at: 20 },
    { expect: "segments", from: "server", flags: "SYN,ACK", times: [10, 1010] },
    { expect: "segments", from: "client", flags: "ACK", data: false, times: [20, 1020] },
    { expect: "segment", from: "client", flags: "ACK", nth: 2, seq: "x+1", ack: "y+1" },
    { expect: "state", conn: "server", state: "SYN_RCVD", at: 1029 },
    { expect: "state", conn: "server", state: "ESTABLISHED", at: 1030 },
  ],
};

export const lostThirdAckReset: ScenarioSpec = {
  name: "lost-third-ack-reset",
  title: "The third ACK is lost and the server gives up: the client's data meets RST",
  description: "The server retries its SYN,ACK only once here (synAckRetries = 1) and both ACKs from the client are lost, so the server drops the half-open entry. The client still thinks it is connected; its first data segment reaches a server with no such connection and is answered with RST: connection reset by peer.",
  behaviours: ["S9", "S10", "S30", "S32"],
  hosts: [CLIENT, { ...SERVER, tcp: { synAckRetries: 1 } }],
  links: LINK,
  faults: [{ from: "client", to: "server", match: { flags: "ACK", data: false }, nth: [1, 2], action: "drop" }],
  script: [...OPEN, { at: 5000, do: "send", host: "client", text: "anyone there?" }],
  expect: [
    { expect: "states", conn: "client", sequence: ["SYN_SENT", "ESTABLISHED", "CLOSED"] },
    { expect: "states", host: "server", sequence: ["SYN_RCVD", "CLOSED"] },
    { expect: "segments", from: "server", flags: "SYN,ACK", times: [10, 1010] },
    { expect: "count", host: "server", state: "SYN_RCVD", at: 3009, equals: 1 },
    { expect: "count", host: "server", state: "SYN_RCVD", at: 3010, equals: 0 },
    { expect: "segment", from: "server", flags: "RST", at: 5010, seq: "y+1" },
    { expect: "drops", host: "server", reason: "no-listener", equals: 1 },
    { expect: "error", conn: "client", code: "ECONNRESET", at: 5020 },
  ],
};

export const oldDuplicateSyn: ScenarioSpec = {
  name: "old-duplicate-syn",
  title: "An old duplicate SYN (RFC 9293 figure 8)",
  description: "A SYN from an earlier, abandoned attempt (ISN x) arrives late, while the client is opening a new connection from the same port (ISN x2). The server answers it with SYN,ACK ack=x+1; the client sees an ACK that is not for its SYN and answers RST, which frees the server's half-open entry. Then the new SYN arrives and the connection opens normally.",
  behaviours: ["S2", "S11", "S6"],
  hosts: PAIR,
  links: LINK,
  faults: [
    { from: "client", to: "server", match: { flags: "SYN" }, nth: [1], action: "delay", by: 3000 },
    { from: "client", to: "server", match: { flags: "SYN" }, nth: [2], action: "delay", by: 50 },
  ],
  script: [
    { at: 0, do: "listen", host: "server", port: 80 },
    { at: 0, do: "connect", host: "client", to: "server", port: 80, localPort: 5000, as: "old" },
    { at: 500, do: "abort", conn: "old" },
    { at: 3000, do: "connect", host: "client", to: "server", port: 80, localPort: 5000 },
  ],
  expect: [
    { expect: "states", conn: "old", sequence: ["SYN_SENT", "CLOSED"] },
    { expect: "states", conn: "client", sequence: ["SYN_SENT", "ESTABLISHED"] },
    { expect: "states", host: "server", sequence: ["SYN_RCVD", "CLOSED", "SYN_RCVD", "ESTABLISHED"] },
    { expect: "segment", from: "server", flags: "SYN,ACK", nth: 1, at: 3010, ack: "x+1" },
    { expect: "segment", from: "client", flags: "RST", at: 3020, seq: "x+1" },
    { expect: "segment", from: "server", flags: "SYN,ACK", nth: 2, at: 3060, seq: "y2", ack: "x2+1" },
    { expect: "count", host: "server", state: "SYN_RCVD", at: 3030, equals: 0 },
    { expect: "state", conn: "client", state: "ESTABLISHED", at: 3070 },
    { expect: "count", host: "server", state: "ESTABLISHED", at: 3080, equals: 1 },
  ],
};

export const connectionRefused: ScenarioSpec = {
  name: "connection-refused",
  title: "Connecting to a port nobody listens on",
  description: "The server has no listener on port 80: it answers the SYN with RST,ACK ack=x+1, and connect() fails with ECONNREFUSED.",
  behaviours: ["S30", "S32"],
  hosts: PAIR,
  links: LINK,
  script: [{ at: 0, do: "connect", host: "client", to: "server", port: 80 }],
  expect: [
    { expect: "states", conn: "client", sequence: ["SYN_SENT", "CLOSED"] },
    { expect: "segment", from: "server", flags: "RST,ACK", at: 10, ack: "x+1" },
    { expect: "drops", host: "server", reason: "no-listener", equals: 1 },
    { expect: "error", conn: "client", code: "ECONNREFUSED", at: 20 },
    { expect: "segments", from: "client", count: 1 },
  ],
};

const FLOOD_HOSTS = (synCookies: "never" | "overflow"): ScenarioSpec["hosts"] => [
  CLIENT,
  { ...SERVER, tcp: { synQueueSize: 128, synCookies } },
  { name: "attacker", address: "10.0.0.66", kind: "raw" },
];

const FLOOD_SCRIPT: ScenarioSpec["script"] = [
  { at: 0, do: "listen", host: "server", port: 80 },
  { at: 0, do: "note", text: "The attacker sends 100 SYNs a second from random spoofed addresses; the server's SYN queue holds 128." },
  { at: 0, do: "syn-flood", host: "attacker", target: "server", port: 80, count: 13_000, interval: 10 },
  { at: 2000, do: "connect", host: "client", to: "server", port: 80 },
  { at: 2500, do: "ss", host: "server" },
];

export const synFlood: ScenarioSpec = {
  name: "syn-flood",
  title: "SYN flood without cookies: the half-open queue fills and a real client cannot get in",
  description: "Spoofed SYNs take every slot of the SYN queue (S7) and each slot is held for the 63 s of SYN,ACK retries, so the client's SYNs are dropped again and again until connect() times out. `synack ss syn-flood --at 3s` shows the wall of SYN_RCVD (S34). Defences: SYN cookies (see syn-flood-cookies), a larger queue, fewer SYN,ACK retries.",
  behaviours: ["S7", "S12", "S34"],
  hosts: FLOOD_HOSTS("never"),
  links: [{ between: ["client", "server"], delay: 10 }],
  script: FLOOD_SCRIPT,
  narrate: { focus: ["client", "server"] },
  expect: [
    { expect: "count", host: "server", state: "SYN_RCVD", at: 2500, equals: 128 },
    { expect: "segments", from: "client", flags: "SYN", times: [2000, 3000, 5000, 9000, 17000, 33000, 65000] },
    { expect: "drops", host: "server", reason: "syn-queue-full", atLeast: 7000 },
    { expect: "states", conn: "client", sequence: ["SYN_SENT", "CLOSED"] },
    { expect: "error", conn: "client", code: "ETIMEDOUT", at: 129000 },
  ],
};

export const synFloodCookies: ScenarioSpec = {
  name: "syn-flood-cookies",
  title: "SYN flood with SYN cookies: the client gets in anyway",
  description: "The same flood, but the server answers SYNs it has no room for with a SYN cookie: a SYN,ACK whose sequence number encodes the connection, keeping no state (S12). The client's ACK brings the cookie back and the server rebuilds the connection from it.",
  behaviours: ["S7", "S12", "S34"],
  hosts: FLOOD_HOSTS("overflow"),
  links: [{ between: ["client", "server"], delay: 10 }],
  script: [...FLOOD_SCRIPT.slice(0, 2), { at: 0, do: "syn-flood", host: "attacker", target: "server", port: 80, count: 500, interval: 10 }, ...FLOOD_SCRIPT.slice(3), { at: 2100, do: "send", host: "client", text: "hello" }],
  narrate: { focus: ["client", "server"] },
  expect: [
    { expect: "count", host: "server", state: "SYN_RCVD", at: 2500, equals: 128 },
    { expect: "segments", from: "client", flags: "SYN", times: [2000] },
    { expect: "states", conn: "client", sequence: ["SYN_SENT", "ESTABLISHED"] },
    { expect: "state", conn: "client", state: "ESTABLISHED", at: 2020 },
    { expect: "received", conn: "server", text: "hello" },
  ],
};
