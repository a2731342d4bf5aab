/**
 * A DNS server host for the simulator: answers A and AAAA queries from a zone table and can
 * be told to misbehave (stay silent, answer with a wrong ID, SERVFAIL, truncate) so the
 * stub resolver's retries and validation can be watched in virtual time.
 */
import type { Stack } from "../../src/api/stack.js";
import type { UdpSocket } from "../../src/ip/udp/socket.js";
import { RCODE_REFUSED, RCODE_SERVFAIL, decodeMessage, encodeMessage, type DnsMessage } from "../../src/dns/message.js";
import { answerFromZone, type Zone } from "../../src/dns/zone-server.js";

export type { Zone };

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

/** The zone's answer (src/dns/zone-server.ts), then spoiled as the behaviour says. */
function answer(query: DnsMessage, zone: Zone, behaviour: Behaviour | undefined): Uint8Array {
  if (behaviour === "garbage") return Uint8Array.from([query.header.id >> 8, query.header.id & 0xff, 0x81]);
  const m = answerFromZone(query, zone);
  if (behaviour === "wrong-id") m.header.id = (m.header.id + 1) & 0xffff;
  if (behaviour === "servfail" || behaviour === "refused") {
    m.header.rcode = behaviour === "servfail" ? RCODE_SERVFAIL : RCODE_REFUSED;
    m.answers = [];
  }
  if (behaviour === "truncated") {
    m.header.truncated = true;
    m.answers = [];
  }
  return encodeMessage(m);
}
