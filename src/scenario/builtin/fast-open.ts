/** TCP Fast Open (RFC 7413): a cookie on the first connection, data in the SYN on the second. */
import type { ScenarioSpec } from "../model.js";
import { LINK } from "./common.js";

export const fastOpen: ScenarioSpec = {
  name: "fast-open",
  title: "TCP Fast Open: the first connection gets a cookie, the second sends its request in the SYN",
  description:
    "Both hosts do Fast Open (Linux's tcp_fastopen = 0x3) and the server's listener has a Fast Open queue (TCP_FASTOPEN). The first connection's SYN carries an empty Fast Open option, a cookie request; the SYN,ACK brings the cookie, which the client caches for the server's address. The second connection's SYN carries the cookie and the client's request: the server checks the cookie, creates the connection at once with the data queued for the application, and its SYN,ACK acknowledges the data too. The server's reply leaves before the handshake has completed, one round trip sooner than without Fast Open (RFC 7413; Linux tcp_fastopen.c).",
  hosts: [
    { name: "client", address: "10.0.0.1", tcp: { fastOpen: 0x3 } },
    { name: "server", address: "10.0.0.2", tcp: { fastOpen: 0x3, fastOpenKey: "a0bf63f7-ed803d81-cd641d30-cebc4a90" } },
  ],
  links: LINK,
  script: [
    { at: 0, do: "listen", host: "server", port: 80, fastOpen: 16 },
    { at: 0, do: "connect", host: "client", to: "server", port: 80, as: "first", fastOpen: true },
    { at: 100, do: "close", conn: "first" },
    { at: 120, do: "close", conn: "server" },
    { at: 200, do: "connect", host: "client", to: "server", port: 80, as: "second", fastOpen: true },
    { at: 200, do: "send", conn: "second", text: "GET / HTTP/1.0" },
    { at: 215, do: "send", conn: "server#2", text: "HTTP/1.0 200 OK" },
    { at: 300, do: "close", conn: "second" },
    { at: 300, do: "close", conn: "server#2" },
  ],
  expect: [
    // First connection: cookie request and answer, no data in the SYN.
    { expect: "segment", from: "client", flags: "SYN", nth: 1, at: 0, data: false },
    { expect: "segment", from: "server", flags: "SYN,ACK", nth: 1, at: 10 },
    // Second connection: the request is in the SYN, its SYN,ACK acknowledges it (14 bytes + SYN).
    { expect: "segment", from: "client", flags: "SYN", nth: 2, at: 200, len: 14 },
    { expect: "segment", from: "server", flags: "SYN,ACK", nth: 2, at: 210, ack: "x2+15" },
    // The server answers while its side of the handshake is still SYN_RCVD.
    { expect: "segment", from: "server", data: true, nth: 1, at: 215, seq: "y2+1", len: 15 },
    { expect: "state", conn: "server#2", state: "ESTABLISHED", at: 230 },
    { expect: "received", conn: "server#2", text: "GET / HTTP/1.0" },
    { expect: "received", conn: "second", text: "HTTP/1.0 200 OK" },
  ],
};
