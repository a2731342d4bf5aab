/**
 * "Try this": short experiments per built-in scenario (issue 11, learn by doing). Each one
 * is a change of knobs or a what-if the page can apply with one click.
 */
import type { Knobs, WhatIf } from "./model/knobs.js";

export interface TryThis {
  text: string;
  state?: { knobs?: Knobs; whatIfs?: WhatIf[] };
}

export const TRY_THIS: Record<string, TryThis[]> = {
  handshake: [
    { text: "Drop the SYN,ACK: the client's SYN is retransmitted after 1 s, the server's SYN,ACK too.", state: { whatIfs: [{ action: "drop", from: "server", to: "client", flags: "SYN,ACK", data: false, nth: 1 }] } },
    { text: "Drop the third ACK: the server stays in SYN_RCVD until the client's first data or its SYN,ACK timer.", state: { whatIfs: [{ action: "drop", from: "client", to: "server", flags: "ACK", data: false, nth: 1 }] } },
    { text: "Make the path slow (200 ms each way) and watch the RTT estimate and RTO follow.", state: { knobs: { delay: 200 } } },
  ],
  "syn-flood": [
    { text: "Turn SYN cookies on (overflow) and rerun the flood: the client gets in although the queue is full.", state: { knobs: { cookies: "overflow" } } },
  ],
  "syn-flood-cookies": [
    { text: "Turn cookies off and rerun: the client's SYNs are dropped until connect() times out.", state: { knobs: { cookies: "never" } } },
    { text: "Cookies always: every SYN gets a cookie, nothing waits in the SYN queue.", state: { knobs: { cookies: "always" } } },
  ],
  "lost-data": [
    { text: "Switch congestion control to Reno and compare cwnd after the loss.", state: { knobs: { cc: "reno" } } },
    { text: "Add 2% random loss on every path.", state: { knobs: { loss: 0.02 } } },
  ],
  "zero-window": [
    { text: "Give the server a 64 KiB receive buffer: the window never closes.", state: { knobs: { rcvbuf: 65536 } } },
  ],
  "data-transfer": [
    { text: "Turn Nagle off and compare the segments.", state: { knobs: { nagle: false } } },
    { text: "Lower the MTU to 576 bytes: smaller segments.", state: { knobs: { mtu: 576 } } },
  ],
  tour: [{ text: "Drop the first FIN: watch the FIN retransmitted and TIME_WAIT start later." }],
};
