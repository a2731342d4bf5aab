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
