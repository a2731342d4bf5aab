/**
 * Built-in scenarios about UDP (S33): no acknowledgements, no retransmission, so a datagram
 * is simply gone when the receive buffer is full or one of its fragments is lost; the
 * receiver's counters are the only record.
 */
import type { HostSpec, LinkSpec, ScenarioSpec } from "../model.js";

const SENDER: HostSpec = { name: "sender", address: "10.0.0.1" };
const RECEIVER: HostSpec = { name: "receiver", address: "10.0.0.2" };
const LINK: LinkSpec[] = [{ between: ["sender", "receiver"], delay: 10 }];

/** The reader takes one datagram every 10 ms while the sender sends one every 2 ms. */
const SLOW_READS = [20, 30, 40, 50].map((at) => ({ at, do: "udp-read" as const, host: "receiver", count: 1 }));

export const udpOverflow: ScenarioSpec = {
  name: "udp-overflow",
  title: "UDP: a slow reader's receive buffer overflows and datagrams are dropped, never resent",
  description: "The sender sends 20 datagrams of 1000 bytes, one every 2 ms. The receiver's socket has an 8 KiB receive buffer (each datagram is charged its length plus 256 bytes of bookkeeping) and its application reads only one datagram every 10 ms. Once the buffer is full every arriving datagram is dropped and counted as a receive buffer error; the sender is never told and nothing is sent again (S33).",
  behaviours: ["S33"],
  hosts: [SENDER, RECEIVER],
  links: LINK,
  script: [
    { at: 0, do: "udp-bind", host: "receiver", port: 9000, rcvbuf: 8192, reading: false },
    { at: 0, do: "udp-send", host: "sender", to: "receiver", port: 9000, size: 1000, count: 20, interval: 2 },
    ...SLOW_READS,
    { at: 100, do: "udp-read", host: "receiver" },
    { at: 200, do: "netstat", host: "receiver" },
  ],
  expect: [
    { expect: "udp", host: "sender", sent: 20 },
    { expect: "counters", host: "sender", udp: { outDatagrams: 20 } },
    { expect: "udp", host: "receiver", read: 10, readBytes: 10_000, dropped: 10 },
    { expect: "drops", host: "receiver", reason: "rcvbuf-full", equals: 10 },
    { expect: "counters", host: "receiver", udp: { inDatagrams: 10, rcvbufErrors: 10, inErrors: 10 } },
  ],
};

export const udpFragments: ScenarioSpec = {
  name: "udp-fragments",
  title: "UDP: one lost fragment loses a 60,000-byte datagram; a 1,200-byte one arrives",
  description: "A 60,000-byte datagram does not fit the 1500-byte MTU, so IP cuts it into 41 fragments. The third is lost on the link. The receiver holds the other 40 until reassembly times out 30 s after the first arrived, then frees them all and, since it has the first fragment, sends ICMP time exceeded. UDP never resends. A 1,200-byte datagram (under the 1,280-byte size every IPv6 path, and practically every IPv4 path, carries whole) arrives in one piece (S33).",
  behaviours: ["S33"],
  hosts: [SENDER, RECEIVER],
  links: LINK,
  faults: [{ from: "sender", to: "receiver", match: { protocol: "udp", fragment: true }, nth: [3], action: "drop" }],
  script: [
    { at: 0, do: "udp-bind", host: "receiver", port: 9000 },
    { at: 0, do: "udp-send", host: "sender", to: "receiver", port: 9000, size: 60_000 },
    { at: "1s", do: "udp-send", host: "sender", to: "receiver", port: 9000, size: 1200 },
    { at: "31s", do: "netstat", host: "receiver" },
  ],
  expect: [
    { expect: "counters", host: "sender", ip: { fragOks: 1, fragCreates: 41 }, udp: { outDatagrams: 2 } },
    { expect: "drops", link: "sender->receiver", reason: "rule", equals: 1 },
    { expect: "counters", host: "receiver", reassembly: { fragments: 40, reassembled: 0, timeouts: 1 }, icmp: { outTimeExcds: 1 }, udp: { inDatagrams: 1 } },
    { expect: "drops", host: "receiver", reason: "frag-timeout", equals: 1, times: ["30.01s"] },
    { expect: "udp", host: "receiver", read: 1, readBytes: 1200 },
    { expect: "counters", host: "sender", icmp: { inTimeExcds: 1 } },
  ],
};
