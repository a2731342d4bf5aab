/**
 * "Try this": short experiments per built-in scenario (issue 11, learn by doing). Each one
 * is a change of knobs or a what-if the page can apply with one click.
 */
import type { Knobs, WhatIf } from "./model/knobs.js";

export interface TryThis {
  text: string;
  state?: { knobs?: Knobs; whatIfs?: WhatIf[] };
}

const drop = (from: string, to: string, flags: string, nth = 1, data = false): WhatIf => ({ action: "drop", from, to, flags, data, nth });

export const TRY_THIS: Record<string, TryThis[]> = {
  tour: [
    { text: "Drop the client's FIN: watch it retransmitted when the retransmission timer expires, and TIME_WAIT start later.", state: { whatIfs: [drop("client", "server", "FIN,ACK")] } },
    { text: "Drop the server's FIN: the client waits in FIN_WAIT_2 until the FIN comes again.", state: { whatIfs: [drop("server", "client", "FIN,ACK")] } },
    { text: "Turn textbook mode on (t) and predict each state before it happens." },
  ],
  handshake: [
    { text: "Drop the SYN,ACK: the client's SYN is retransmitted after 1 s, the server's SYN,ACK too.", state: { whatIfs: [drop("server", "client", "SYN,ACK")] } },
    { text: "Drop the third ACK: the server stays in SYN_RCVD until the client's first data or its SYN,ACK timer.", state: { whatIfs: [drop("client", "server", "ACK")] } },
    { text: "Make the path slow (200 ms each way) and watch the RTT estimate and RTO follow.", state: { knobs: { delay: 200 } } },
  ],
  "data-transfer": [
    { text: "Shrink the receive buffers to 4,000 bytes: the server's window lets about two segments out at a time, and each flight waits for an ACK.", state: { knobs: { rcvbuf: 4000 } } },
    { text: "Lower the MTU to 576 bytes: smaller segments.", state: { knobs: { mtu: 576 } } },
    { text: "Drop the second data segment: find the duplicate ACKs and the retransmission in the time-sequence graph.", state: { whatIfs: [drop("client", "server", "ACK", 2, true)] } },
  ],
  "close-client": [
    { text: "Drop the server's ACK of the FIN: the client's FIN is sent again.", state: { whatIfs: [drop("server", "client", "ACK")] } },
    { text: "Drop the last ACK: the server retransmits its FIN, and the client in TIME_WAIT answers it.", state: { whatIfs: [drop("client", "server", "ACK", 2)] } },
  ],
  "close-server": [
    { text: "Drop the server's FIN: compare who ends in TIME_WAIT with close-client.", state: { whatIfs: [drop("server", "client", "FIN,ACK")] } },
    { text: "Drop the client's FIN: the server waits in FIN_WAIT_2.", state: { whatIfs: [drop("client", "server", "FIN,ACK")] } },
  ],
  "half-close": [
    { text: "Drop the client's FIN (it carries data): data still flows to the client while the FIN is resent.", state: { whatIfs: [drop("client", "server", "FIN,PSH,ACK", 1, true)] } },
    { text: "Delay every packet by 100 ms: the half-closed side keeps receiving, only later.", state: { knobs: { delay: 100 } } },
  ],
  "simultaneous-open": [
    { text: "Drop the server's SYN: the crossing becomes an ordinary handshake.", state: { whatIfs: [drop("server", "client", "SYN")] } },
    { text: "Delay every packet by 100 ms: do the SYNs still cross?", state: { knobs: { delay: 100 } } },
  ],
  "simultaneous-close": [
    { text: "Drop the server's FIN: the client goes FIN_WAIT_1 → FIN_WAIT_2 instead of CLOSING.", state: { whatIfs: [drop("server", "client", "FIN,ACK")] } },
    { text: "Delay every packet by 100 ms and compare the states each end passes through.", state: { knobs: { delay: 100 } } },
  ],
  "lost-syn": [
    { text: "Count the seconds between the SYNs: 1, 2, 4, 8, 16, 32 (no RTT was ever measured, so the timer only doubles)." },
    { text: "Lower the MTU to 576: every SYN now announces MSS 536.", state: { knobs: { mtu: 576 } } },
  ],
  "lost-syn-ack": [
    { text: "Drop the second SYN,ACK too: which timer sends the next one?", state: { whatIfs: [drop("server", "client", "SYN,ACK", 2)] } },
  ],
  "lost-third-ack": [
    { text: "Drop the second ACK as well: the server's SYN,ACK timer backs off again.", state: { whatIfs: [drop("client", "server", "ACK", 2)] } },
  ],
  "lost-third-ack-reset": [
    { text: "Drop the client's first data segment: when does the RST come now?", state: { whatIfs: [drop("client", "server", "PSH,ACK", 1, true)] } },
  ],
  "lost-final-ack": [
    { text: "Drop the retransmitted FIN too: the client in TIME_WAIT is still there to answer the next one.", state: { whatIfs: [drop("server", "client", "FIN,ACK", 2)] } },
  ],
  "old-duplicate-syn": [
    { text: "Drop the client's RST: the half-open connection from the old SYN lingers on the server.", state: { whatIfs: [drop("client", "server", "RST")] } },
  ],
  "connection-refused": [
    { text: "Drop the RST: connect() no longer fails at once; the SYN is retransmitted instead.", state: { whatIfs: [drop("server", "client", "RST,ACK")] } },
  ],
  "time-wait-reuse": [
    { text: "Drop the last ACK of the first connection and watch what the second SYN meets.", state: { whatIfs: [drop("client", "server", "ACK", 2)] } },
  ],
  "fin-wait-2-timeout": [
    { text: "Drop the server's FIN: how long does the client's FIN_WAIT_2 last now?", state: { whatIfs: [drop("server", "client", "FIN,ACK")] } },
  ],
  "lost-data": [
    { text: "Switch congestion control to Reno and compare cwnd after the loss.", state: { knobs: { cc: "reno" } } },
    { text: "Add 25% random loss on every path.", state: { knobs: { loss: 0.25 } } },
    { text: "In textbook mode (t), predict cwnd after the retransmission timeout." },
  ],
  "rack-loss": [
    { text: "Add 20 ms of jitter: does RACK's reordering window still tell loss from reordering?", state: { knobs: { jitter: 20 } } },
    { text: "Switch to Reno and compare the recovery.", state: { knobs: { cc: "reno" } } },
  ],
  "tail-loss-probe": [
    { text: "Drop the probe's ACK too: the retransmission timer has to step in.", state: { whatIfs: [drop("server", "client", "ACK", 3)] } },
  ],
  "spurious-retransmission": [
    { text: "Make the path slower (100 ms each way): is the retransmission still spurious?", state: { knobs: { delay: 100 } } },
  ],
  "spurious-timeout": [
    { text: "Make the path slower (100 ms each way): the retransmission timeout grows, and the 400 ms spike may no longer fire it.", state: { knobs: { delay: 100 } } },
  ],
  ecn: [
    { text: "Drop the server's first ACK that carries ECE: the client learns of the congestion from the next one.", state: { whatIfs: [drop("server", "client", "ACK,ECE")] } },
  ],
  bbr: [
    { text: "Make the path slow (100 ms each way): STARTUP takes longer in time, and the BDP and cwnd grow with the RTT.", state: { knobs: { delay: 100 } } },
    { text: "Drop the client's 30th data segment: BBR repairs it without lowering its pacing rate (loss is not its signal).", state: { whatIfs: [drop("client", "server", "ACK", 30, true)] } },
  ],
  "mtu-black-hole": [
    { text: "Lower the MTU of both hosts to 1,400 bytes: no segment is too big, nothing vanishes, no probing.", state: { knobs: { mtu: 1400 } } },
  ],
  "fast-open": [
    { text: "Drop the second connection's SYN,ACK: the client's retransmitted SYN carries no data, and the request goes after the handshake, as without Fast Open.", state: { whatIfs: [drop("server", "client", "SYN,ACK", 2)] } },
  ],
  "urgent-data": [
    { text: "Drop the segment with URG: its retransmission carries the urgent pointer again, and the server learns of the interrupt one retransmission timeout later.", state: { whatIfs: [drop("client", "server", "PSH,ACK,URG", 1, true)] } },
  ],
  "path-mtu": [
    { text: "Start with a 576-byte MTU: no packet is too big, so no ICMP comes back.", state: { knobs: { mtu: 576 } } },
  ],
  reordering: [
    { text: "Reorder 30% of the packets and count the duplicate ACKs.", state: { knobs: { reorder: 0.3 } } },
  ],
  duplication: [
    { text: "Duplicate every packet with probability 0.5: the receiver's D-SACK blocks tell the sender.", state: { knobs: { duplicate: 0.5 } } },
  ],
  corruption: [
    { text: "Corrupt 30% of the packets: each one dies at the checksum and is retransmitted.", state: { knobs: { corrupt: 0.3 } } },
  ],
  "zero-window": [
    { text: "Give the server a 64 KiB receive buffer: the window never closes.", state: { knobs: { rcvbuf: 65536 } } },
    { text: "Drop the first window probe: the persist timer backs off.", state: { whatIfs: [drop("client", "server", "ACK", 2)] } },
  ],
  keepalive: [
    { text: "Add 200 ms of delay each way and compare when the probes go out and when the connection is given up.", state: { knobs: { delay: 200 } } },
  ],
  "syn-flood": [
    { text: "Turn SYN cookies on (overflow) and rerun the flood: the client gets in although the queue is full.", state: { knobs: { cookies: "overflow" } } },
    { text: "Cookies always: every SYN gets a cookie, nothing waits in the SYN queue.", state: { knobs: { cookies: "always" } } },
  ],
  "syn-flood-cookies": [
    { text: "Turn cookies off and rerun: the client's SYNs are dropped until connect() times out.", state: { knobs: { cookies: "never" } } },
    { text: "Cookies always: every SYN gets a cookie, nothing waits in the SYN queue.", state: { knobs: { cookies: "always" } } },
  ],
  "udp-overflow": [
    { text: "Add 10% loss: the datagrams lost on the way are gone for good; UDP resends nothing.", state: { knobs: { loss: 0.1 } } },
  ],
  "udp-fragments": [
    { text: "Lower the MTU to 576: more fragments, more to lose.", state: { knobs: { mtu: 576 } } },
  ],
};
