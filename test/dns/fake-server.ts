/**
 * A DNS server host for the simulator: answers A and AAAA queries from a zone table and can
 * be told to misbehave (stay silent, answer with a wrong ID, SERVFAIL, truncate) so the
 * stub resolver's retries and validation can be watched in virtual time.
 */
import type { Stack } from "../../src/api/stack.js";
import type { UdpSocket } from "../../src/ip/udp/socket.js";
import { bindNet } from "../../src/node/net.js";
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

/** The same zone over TCP (RFC 1035 4.2.2: a two-byte length before each message), for answers truncated over UDP. */
export function fakeDnsTcp(stack: Stack, zone: Zone, port = 53): { connections: number } {
  const seen = { connections: 0 };
  bindNet(stack).createServer((socket) => {
    seen.connections++;
    let buffered = Buffer.alloc(0);
    socket.on("data", (d: Buffer) => {
      buffered = Buffer.concat([buffered, d]);
      if (buffered.length < 2 || buffered.length < 2 + buffered.readUInt16BE(0)) return;
      const parsed = decodeMessage(new Uint8Array(buffered.subarray(2, 2 + buffered.readUInt16BE(0))));
      if (!parsed.ok) return void socket.destroy();
      const reply = encodeMessage(answerFromZone(parsed.value, zone));
      const framed = Buffer.alloc(2 + reply.length);
      framed.writeUInt16BE(reply.length, 0);
      framed.set(reply, 2);
      socket.end(framed);
    });
  }).listen(port);
  return seen;
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
