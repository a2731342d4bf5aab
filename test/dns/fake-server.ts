/**
 * A DNS server host for the simulator: answers A and AAAA queries from a zone table and can
 * be told to misbehave (stay silent, answer with a wrong ID, SERVFAIL, truncate) so the
 * stub resolver's retries and validation can be watched in virtual time.
 */
import type { Stack } from "../../src/api/stack.js";
import type { UdpSocket } from "../../src/ip/udp/socket.js";
import { IpAddress, parseIpAddress } from "../../src/wire/address.js";
import {
  CLASS_IN, RCODE_NOERROR, RCODE_NXDOMAIN, TYPE_A, TYPE_AAAA, TYPE_CNAME, decodeMessage, encodeMessage, sameName, type DnsMessage, type DnsRecord,
} from "../../src/dns/message.js";

export type Zone = Record<string, { a?: string[]; aaaa?: string[]; cname?: string; ttl?: number }>;

/** What to do with the n-th query (1-based): answer normally unless a behaviour says otherwise. */
export type Behaviour = "silent" | "wrong-id" | "servfail" | "refused" | "truncated" | "garbage";

export interface FakeDns {
  socket: UdpSocket;
  /** Queries seen: [time, question name, type]. */
  queries: Array<{ time: number; name: string; type: number; id: number; port: number }>;
  /** Behaviours for the next queries, taken in order. */
  script: Behaviour[];
  /** Extra delay (ms of virtual time) before each answer, per type. */
  delay: Partial<Record<number, number>>;
}

export function fakeDns(stack: Stack, zone: Zone, port = 53): FakeDns {
  const socket = stack.host.udp.bind(port);
  const fake: FakeDns = { socket, queries: [], script: [], delay: {} };
  socket.onWake = () => {
    for (let m = socket.recv(); m !== undefined; m = socket.recv()) {
      const parsed = decodeMessage(m.data);
      if (!parsed.ok) continue;
      const q = parsed.value.questions[0]!;
      fake.queries.push({ time: stack.now(), name: q.name, type: q.type, id: parsed.value.header.id, port: m.port });
      const behaviour = fake.script.shift();
      if (behaviour === "silent") continue;
      const reply = answer(parsed.value, zone, behaviour);
      const to = { address: m.address, port: m.port };
      const send = (): void => {
        socket.send(reply, to);
        stack.kick();
      };
      const wait = fake.delay[q.type] ?? 0;
      if (wait > 0) stack.driver.setTimer(stack.now() + wait, send);
      else send();
    }
  };
  return fake;
}

function answer(query: DnsMessage, zone: Zone, behaviour: Behaviour | undefined): Uint8Array {
  const q = query.questions[0]!;
  if (behaviour === "garbage") return Uint8Array.from([query.header.id >> 8, query.header.id & 0xff, 0x81]);
  const answers: DnsRecord[] = [];
  let rcode = RCODE_NOERROR;
  let name = q.name;
  const key = (n: string): string | undefined => Object.keys(zone).find((k) => sameName(k, n));
  for (let hops = 0; hops < 10; hops++) {
    const k = key(name);
    if (k === undefined) {
      if (hops === 0) rcode = RCODE_NXDOMAIN;
      break;
    }
    const entry = zone[k]!;
    const ttl = entry.ttl ?? 300;
    if (entry.cname !== undefined) {
      answers.push({ name, type: TYPE_CNAME, class: CLASS_IN, ttl, target: entry.cname });
      name = entry.cname;
      continue;
    }
    const list = q.type === TYPE_A ? entry.a : q.type === TYPE_AAAA ? entry.aaaa : undefined;
    for (const text of list ?? []) answers.push({ name, type: q.type, class: CLASS_IN, ttl, address: parseIpAddress(text) as IpAddress });
    break;
  }
  const id = behaviour === "wrong-id" ? (query.header.id + 1) & 0xffff : query.header.id;
  if (behaviour === "servfail") rcode = 2;
  if (behaviour === "refused") rcode = 5;
  return encodeMessage({
    header: { id, response: true, opcode: 0, authoritative: true, truncated: behaviour === "truncated", recursionDesired: true, recursionAvailable: true, rcode },
    questions: [q],
    answers: behaviour === "truncated" || rcode !== RCODE_NOERROR ? [] : answers,
    authorities: [],
    additionals: [],
  });
}
