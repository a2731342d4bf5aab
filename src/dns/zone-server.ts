/**
 * A tiny authoritative DNS server over synack's UDP, for simulations, examples and tests:
 * it answers A, AAAA and CNAME questions from a table and nothing else. Names it does not
 * hold are NXDOMAIN, types it does not hold are an empty NOERROR answer (NODATA), a CNAME
 * is answered with the chain and the target's records (RFC 1034 4.3.2 step 3a-3c, within
 * the table). It never recurses and sets AA (RFC 1035 4.1.1).
 */
import type { UdpSocket } from "../ip/udp/socket.js";
import type { UdpLayer } from "../ip/udp/layer.js";
import { parseIpAddress } from "../wire/address.js";
import { DnsError } from "./errors.js";
import { toAsciiName } from "./idna.js";
import {
  CLASS_IN, RCODE_FORMERR, RCODE_NOERROR, RCODE_NOTIMP, RCODE_NXDOMAIN, TYPE_A, TYPE_AAAA, TYPE_CNAME,
  decodeMessage, encodeMessage, normalizeName, sameName, type DnsMessage, type DnsRecord,
} from "./message.js";

/** What a zone holds for one name: addresses of either family, or an alias. */
export interface ZoneEntry {
  a?: readonly string[];
  aaaa?: readonly string[];
  cname?: string;
  /** Seconds (default 300). */
  ttl?: number;
}

export type Zone = Readonly<Record<string, ZoneEntry>>;

const DEFAULT_TTL = 300;
const MAX_CHAIN = 8;

/** The answer to `query` from `zone` (a message to send back). */
export function answerFromZone(query: DnsMessage, zone: Zone): DnsMessage {
  const q = query.questions[0];
  const header = { id: query.header.id, response: true, opcode: query.header.opcode, authoritative: true, truncated: false, recursionDesired: query.header.recursionDesired, recursionAvailable: false, rcode: RCODE_NOERROR };
  const reply = (rcode: number, answers: DnsRecord[] = []): DnsMessage => ({ header: { ...header, rcode }, questions: q === undefined ? [] : [q], answers, authorities: [], additionals: [] });
  if (query.header.opcode !== 0) return reply(RCODE_NOTIMP);
  if (query.header.response || query.questions.length !== 1 || q === undefined) return reply(RCODE_FORMERR);
  const answers: DnsRecord[] = [];
  let name = q.name;
  for (let hops = 0; hops <= MAX_CHAIN; hops++) {
    const key = Object.keys(zone).find((k) => sameName(toAsciiName(k), name));
    if (key === undefined) return hops === 0 ? reply(RCODE_NXDOMAIN) : reply(RCODE_NOERROR, answers);
    const entry = zone[key]!;
    const ttl = entry.ttl ?? DEFAULT_TTL;
    if (entry.cname !== undefined) {
      answers.push({ name, type: TYPE_CNAME, class: CLASS_IN, ttl, target: toAsciiName(entry.cname) });
      if (q.type === TYPE_CNAME) break;
      name = toAsciiName(normalizeName(entry.cname));
      continue;
    }
    const list = q.class !== CLASS_IN ? undefined : q.type === TYPE_A ? entry.a : q.type === TYPE_AAAA ? entry.aaaa : undefined;
    for (const text of list ?? []) {
      const address = parseIpAddress(text);
      if (address === undefined || address.family !== (q.type === TYPE_A ? 4 : 6)) throw new DnsError("EINVAL", `zone entry ${key}: ${text} is not an IPv${q.type === TYPE_A ? 4 : 6} address`);
      answers.push({ name, type: q.type, class: CLASS_IN, ttl, address });
    }
    break;
  }
  return reply(RCODE_NOERROR, answers);
}

/**
 * Serves `zone` on UDP `port` (default 53) of a host: `serveZone(stack.host.udp, zone)`.
 * Returns the socket; close() stops the server. Datagrams that are not DNS queries are dropped.
 */
export function serveZone(udp: UdpLayer, zone: Zone, port = 53): UdpSocket {
  // A bad table fails here, at once, rather than inside packet processing later.
  for (const [name, entry] of Object.entries(zone)) {
    for (const [family, list] of [[4, entry.a], [6, entry.aaaa]] as const) {
      for (const text of list ?? []) {
        if (parseIpAddress(text)?.family !== family) throw new DnsError("EINVAL", `zone entry ${name}: ${text} is not an IPv${family} address`);
      }
    }
  }
  const socket = udp.bind(port);
  socket.onWake = () => {
    for (let m = socket.recv(); m !== undefined; m = socket.recv()) {
      const parsed = decodeMessage(m.data);
      if (!parsed.ok) continue;
      socket.send(encodeMessage(answerFromZone(parsed.value, zone)), { address: m.address, port: m.port });
    }
  };
  return socket;
}
