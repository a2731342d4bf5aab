/**
 * Words for UDP rows (S33): what a datagram's arrival, loss or drop means, and the names of
 * ICMP errors. UDP has no acknowledgements and no retransmission, so every explanation
 * says who (if anyone) ever learns that a datagram was lost.
 */
import type { UdpOutcome } from "../events.js";

/** Reasons of the IP layer (src/ip/drops.ts) that lead a drop event's detail ("frag-timeout: ..."). */
const IP_REASONS = new Set([
  "martian-source", "unknown-protocol", "no-port", "rcvbuf-full", "no-route", "too-big",
  "frag-overlap", "frag-invalid", "frag-duplicate", "frag-timeout", "frag-limit", "icmp-ratelimit", "icmp-ignored",
]);

/** The IP layer's finer drop reason leading `detail`, if there is one. */
export function ipDropReason(detail: string | undefined): string | undefined {
  const m = /^([a-z-]+): /.exec(detail ?? "");
  return m !== null && IP_REASONS.has(m[1]!) ? m[1] : undefined;
}

const ICMP_NAMES: Readonly<Record<string, string>> = {
  "3:0": "net unreachable",
  "3:1": "host unreachable",
  "3:2": "protocol unreachable",
  "3:3": "port unreachable",
  "3:4": "fragmentation needed",
  "11:0": "time exceeded (TTL)",
  "11:1": "time exceeded (fragment reassembly)",
};

export function icmpName(type: number, code: number): string {
  return `ICMP ${ICMP_NAMES[`${type}:${code}`] ?? `type ${type} code ${code}`}`;
}

export function explainUdpLost(sender: string): string {
  return `The datagram is lost in the network. UDP sends no acknowledgements and keeps no copy: ${sender} never learns of it and nothing is resent (S33).`;
}

export function explainFragmentLost(sender: string, receiver: string): string {
  return `One fragment is lost. IP cannot ask for it again and ${sender}'s UDP keeps no copy, so ${receiver} can never complete this datagram: it holds the other fragments until reassembly times out (S33).`;
}

export function explainUdpIn(host: string, peer: string, outcome: UdpOutcome, reassembled: boolean): string {
  switch (outcome) {
    case "queued":
      return `${reassembled ? `All fragments arrived, so ${host} rebuilt the datagram. ` : ""}It waits in the socket's receive buffer until the application reads it; ${peer} is never told it arrived (no ACK in UDP, S33).`;
    case "rcvbuf-full":
      return `The application has not read what is queued, so the receive buffer is full: ${host} drops the datagram and counts it (receive buffer errors). ${peer} is not told and does not resend (S33).`;
    case "no-port":
      return `No socket is bound to that port: ${host} drops the datagram and answers ICMP port unreachable (RFC 1122 4.1.3.1).`;
  }
}

export function explainIcmp(host: string, peer: string, type: number, code: number): string {
  if (type === 11 && code === 1) {
    return `${host} had the first fragment, so it tells ${peer} the datagram timed out in reassembly (RFC 1122 3.3.2). Only advice: UDP does not resend, and an unconnected socket never even sees it (S33).`;
  }
  return `${host} reports an error to ${peer} with ICMP (${icmpName(type, code)}).`;
}

/** The note and explanation for a reassembly timeout, naming the datagram by its number when known. */
export function reassemblyTimeoutNote(host: string, detail: string, numberOf: (id: number) => number | undefined): { text: string; explain: string } {
  const id = /datagram id (\d+)/.exec(detail)?.[1];
  const n = id !== undefined ? numberOf(Number(id)) : undefined;
  const which = n !== undefined ? `UDP #${n}` : id !== undefined ? `datagram id ${id}` : "a datagram";
  return {
    text: `X reassembly timeout: ${which} lost, its fragments freed`,
    explain: `${host} gives up on the incomplete datagram 30 s after its first fragment arrived: every fragment it held is freed and the whole datagram is lost, though only one fragment was missing (RFC 791, S33).`,
  };
}

/** What a scripted UDP call means, or undefined for calls that are not about UDP. */
export function explainUdpCall(host: string, call: string): string | undefined {
  if (call.startsWith("udp bind")) return `${host} opens a UDP socket on that port. Its receive buffer is bounded: what arrives while it is full is dropped (S33).`;
  if (call.startsWith("sendto")) return `${host}'s application sends datagrams: each leaves at once, with no connection, no acknowledgement and no copy kept for a retransmission (S33).`;
  if (call === "recv()") return `${host}'s application reads queued datagrams, making room in the receive buffer (S33).`;
  return undefined;
}
