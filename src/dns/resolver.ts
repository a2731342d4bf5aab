/**
 * A stub resolver (RFC 1034 5.3.1) over synack's own UDP: asks the configured recursive
 * servers for A or AAAA records of one name and hands back the addresses. Sans-IO: time,
 * timers, randomness and UDP sockets come from a ResolverEnv.
 *
 * Read first: RFC 1035 4.2.1 (UDP, port 53), RFC 5452 (what makes a stub hard to spoof:
 * random query IDs and source ports, and an answer is taken only from the server asked,
 * with the same ID and the same question), resolv.conf(5) for the retry loop.
 *
 * The retry loop has the shape of glibc's res_send: `attempts` rounds, each asking every
 * server in the configured order. Defaults are glibc's: timeout 5 s (RES_TIMEOUT) and
 * attempts 2 (RES_DFLRETRY), see resolv.conf(5). Each try here waits the whole `timeout`;
 * glibc varies the wait by round and server count, which is not modelled. A server that answers
 * SERVFAIL, REFUSED, NOTIMP or FORMERR, sends an unusable answer or whose port is closed
 * (ICMP port unreachable) is skipped at once; NXDOMAIN and "no such record" are final.
 * Each query uses a fresh socket on a random port with a random ID (RFC 5452 9.2, 10).
 *
 * Answers are cached for their TTL (the smallest TTL of the records used, RFC 2181 5.2);
 * failures are not cached. A truncated answer (TC) is asked again of the same server over
 * synack's TCP when the environment can open connections (RFC 7766 5), otherwise it is
 * EBADRESP. Not done: search domains and ndots, EDNS(0).
 */
import type { Millis, Rng } from "../env.js";
import type { IpError } from "../ip/errors.js";
import type { UdpSocket } from "../ip/udp/socket.js";
import { udpKey } from "../ip/udp/address.js";
import type { Connection } from "../tcp/connection.js";
import { exchangeOverTcp } from "./tcp-exchange.js";
import { IpAddress, parseIpAddress } from "../wire/address.js";
import { toAsciiName } from "./idna.js";
import { DnsError, type DnsErrorCode } from "./errors.js";
import {
  CLASS_IN, RCODE_FORMERR, RCODE_NOERROR, RCODE_NOTIMP, RCODE_NXDOMAIN, RCODE_REFUSED, RCODE_SERVFAIL, TYPE_A, TYPE_AAAA, TYPE_CNAME,
  canonicalName, decodeMessage, encodeQuery, normalizeName, sameName, type DnsMessage,
} from "./message.js";
import { showValue } from "../show-value.js";

/** resolv.conf(5): RES_TIMEOUT, seconds per try. */
export const DEFAULT_DNS_TIMEOUT: Millis = 5000;
/** resolv.conf(5): RES_DFLRETRY, rounds over the server list. */
export const DEFAULT_DNS_ATTEMPTS = 2;
/** RFC 1035 4.2.1. */
export const DNS_PORT = 53;
/** Longest CNAME chain followed inside one answer before it counts as a loop. */
const MAX_CNAME_CHAIN = 8;
const CACHE_ENTRIES = 1024;
/** Source ports as Linux's ip_local_port_range; a random one per query (RFC 5452 10). */
const PORT_LOW = 32768;
const PORT_HIGH = 60999;

export interface DnsServer {
  address: IpAddress;
  port: number;
}

export interface ResolverConfig {
  /** Recursive servers, tried in order: "10.0.0.53", "fd00::53", "[fd00::53]:5353", "10.0.0.53:5353" or { address, port }. */
  servers: ReadonlyArray<string | { address: string | IpAddress; port?: number }>;
  /** Wait per try, ms (default 5000, as glibc). */
  timeout?: Millis;
  /** Rounds over the server list (default 2, as glibc). */
  attempts?: number;
  /** Keep answers for their TTL (default true). */
  cache?: boolean;
}

/** What the resolver needs from the host it runs on. */
export interface ResolverEnv {
  now(): Millis;
  /** Calls fn at `at` on the driver's clock; returns a cancel function. */
  setTimer(at: Millis, fn: () => void): () => void;
  rng: Rng;
  /** A new, unbound UDP socket on the host. */
  openUdp(): UdpSocket;
  /** Something was queued for output: poll soon. */
  kick(): void;
  /** Opens a TCP connection (for truncated answers); without it TC is EBADRESP. */
  openTcp?(address: IpAddress, port: number): Connection;
}

export type RecordFamily = 4 | 6;

export interface Answer {
  addresses: IpAddress[];
  /** Seconds the answer may be kept. */
  ttl: number;
}

export type AnswerCallback = (error: DnsError | undefined, answer?: Answer) => void;

export class StubResolver {
  readonly servers: readonly DnsServer[];
  readonly timeout: Millis;
  readonly attempts: number;
  private readonly cache: Map<string, { answer: Answer; expires: Millis }> | undefined;
  /** Queries sent, and answers taken (for tests and tables). */
  readonly stats = { queries: 0, answers: 0, ignored: 0, cacheHits: 0, tcpRetries: 0 };

  constructor(
    private readonly env: ResolverEnv,
    config: ResolverConfig,
  ) {
    if (config === null || typeof config !== "object" || !Array.isArray(config.servers)) throw new DnsError("EINVAL", "dns needs { servers: [...] }");
    this.servers = config.servers.map(parseServer);
    this.timeout = config.timeout ?? DEFAULT_DNS_TIMEOUT;
    this.attempts = config.attempts ?? DEFAULT_DNS_ATTEMPTS;
    if (!(typeof this.timeout === "number" && this.timeout > 0 && Number.isFinite(this.timeout))) throw new DnsError("EINVAL", `dns timeout must be a positive number of ms, got ${showValue(this.timeout)}`);
    if (!(Number.isInteger(this.attempts) && this.attempts >= 1)) throw new DnsError("EINVAL", `dns attempts must be an integer >= 1, got ${showValue(this.attempts)}`);
    if (config.cache !== undefined && typeof config.cache !== "boolean") throw new DnsError("EINVAL", `dns cache must be true or false, got ${showValue(config.cache)}`);
    this.cache = config.cache === false ? undefined : new Map();
  }

  /**
   * Asks for `name`'s addresses of one family (A for 4, AAAA for 6). The callback runs once
   * (never synchronously from this call); the returned function cancels the query.
   */
  query(name: string, family: RecordFamily, callback: AnswerCallback): () => void {
    // Checked now: a callback that is not a function would otherwise throw later, inside the driver's turn.
    if (typeof name !== "string") throw new DnsError("EINVAL", `query(name): name must be a string, got ${showValue(name)}`);
    if (family !== 4 && family !== 6) throw new DnsError("EINVAL", `query(name, family): family must be 4 or 6, got ${showValue(family)}`);
    if (typeof callback !== "function") throw new DnsError("EINVAL", `query(name, family, callback): callback must be a function, got ${showValue(callback)}`);
    const type = family === 4 ? TYPE_A : TYPE_AAAA;
    // Asked for as Node's dns.lookup asks: a non-ASCII label as its "xn--" form (idna.ts).
    const qname = toAsciiName(normalizeName(name));
    const key = `${type}:${(canonicalName(qname) ?? qname).toLowerCase()}`;
    const cached = this.cache?.get(key);
    if (cached !== undefined && cached.expires > this.env.now()) {
      this.stats.cacheHits++;
      return this.later(() => callback(undefined, { addresses: [...cached.answer.addresses], ttl: Math.floor((cached.expires - this.env.now()) / 1000) }));
    }
    if (this.servers.length === 0) {
      return this.later(() => callback(new DnsError("ENOSERVERS", `${qname}: no DNS servers configured`, { hostname: qname })));
    }
    const q = new Query(this, this.env, qname, type, (error, answer) => {
      if (answer !== undefined && answer.ttl > 0 && this.cache !== undefined) {
        if (this.cache.size >= CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
        this.cache.set(key, { answer, expires: this.env.now() + answer.ttl * 1000 });
      }
      callback(error, answer);
    });
    return q.start();
  }

  /** Runs fn on the next timer turn: callbacks never run inside the caller's call. */
  private later(fn: () => void): () => void {
    return this.env.setTimer(this.env.now(), fn);
  }
}

/** One name and type, asked of each server in turn until an answer settles it. */
class Query {
  private tries: Array<{ attempt: number; server: DnsServer }> = [];
  private socket: UdpSocket | undefined;
  /** The exchange over TCP after a truncated answer, while it runs. */
  private cancelTcp: (() => void) | undefined;
  private query: Uint8Array = new Uint8Array(0);
  private id = 0;
  private cancelTimer: (() => void) | undefined;
  private done = false;
  /** The most telling failure so far (a server's error beats a timeout). */
  private lastError: DnsError | undefined;

  constructor(
    private readonly resolver: StubResolver,
    private readonly env: ResolverEnv,
    private readonly name: string,
    private readonly type: number,
    private readonly callback: AnswerCallback,
  ) {
    for (let attempt = 0; attempt < resolver.attempts; attempt++) {
      for (const server of resolver.servers) this.tries.push({ attempt, server });
    }
  }

  start(): () => void {
    // The first try is sent from a timer turn too, so that a bad name fails asynchronously.
    this.cancelTimer = this.env.setTimer(this.env.now(), () => this.next());
    return () => this.finish(new DnsError("ECANCELLED", `${this.name}: query cancelled`, { hostname: this.name }));
  }

  /** Sends to the next server in the list, or gives up. */
  private next(): void {
    this.closeSocket();
    const t = this.tries.shift();
    if (t === undefined) {
      this.finish(this.lastError ?? new DnsError("ETIMEOUT", `${this.name}: no answer from ${this.resolver.servers.length} server(s) after ${this.resolver.attempts} attempt(s)`, { hostname: this.name }));
      return;
    }
    let query: Uint8Array;
    try {
      this.id = this.env.rng.nextU32() & 0xffff;
      query = encodeQuery(this.id, this.name, this.type);
      this.query = query;
    } catch (e) {
      this.finish(e instanceof DnsError ? Object.assign(e, { hostname: this.name }) : new DnsError("EINVAL", String(e), { hostname: this.name }));
      return;
    }
    try {
      const s = this.openSocket();
      // connect(): the UDP layer then passes only datagrams from this server's address and
      // port, and reports ICMP port unreachable about it as ECONNREFUSED (RFC 1122 4.1.3.3).
      s.connect(t.server.address, t.server.port);
      s.onWake = () => this.onReadable(t.server);
      s.send(query);
      this.socket = s;
    } catch (e) {
      // No route to this server (or no port free): the next server may do better.
      this.lastError = new DnsError("ECONNREFUSED", `${this.name}: cannot send to ${t.server.address.toString()}: ${(e as Error).message}`, { hostname: this.name, cause: e });
      this.cancelTimer = this.env.setTimer(this.env.now(), () => this.next());
      return;
    }
    this.resolver.stats.queries++;
    this.env.kick();
    this.cancelTimer = this.env.setTimer(this.env.now() + this.resolver.timeout, () => {
      this.cancelTimer = undefined;
      this.next();
    });
  }

  /** A socket bound to a random port (RFC 5452 10); the layer's own choice if that one is taken. */
  private openSocket(): UdpSocket {
    const span = PORT_HIGH - PORT_LOW + 1;
    for (let i = 0; i < 4; i++) {
      const s = this.env.openUdp();
      try {
        return s.bind(PORT_LOW + (this.env.rng.nextU32() % span));
      } catch {
        s.close();
      }
    }
    return this.env.openUdp().bind(0);
  }

  private onReadable(server: DnsServer): void {
    const s = this.socket;
    if (s === undefined || this.done) return;
    for (;;) {
      let m;
      try {
        m = s.recv();
      } catch (e) {
        const err = e as IpError;
        this.lastError = new DnsError(err.code === "ECONNREFUSED" ? "ECONNREFUSED" : "ETIMEOUT", `${this.name}: ${server.address.toString()}: ${err.message}`, { hostname: this.name, cause: e });
        this.skip();
        return;
      }
      if (m === undefined) return;
      // RFC 5452 9.1: only the server we asked, from the port we asked.
      if (udpKey(m.address) !== server.address.key || m.port !== server.port) {
        this.resolver.stats.ignored++;
        continue;
      }
      const verdict = this.judge(m.data, false);
      if (verdict === "ignore") {
        this.resolver.stats.ignored++;
        continue;
      }
      if (verdict === "truncated") this.askOverTcp(server);
      else this.settle(verdict);
      return;
    }
  }

  /** A failure of the server moves on to the next try; anything else ends the query. */
  private settle(verdict: DnsError | Answer): void {
    if (verdict instanceof DnsError && isServerProblem(verdict.code)) {
      this.lastError = verdict;
      this.skip();
      return;
    }
    this.resolver.stats.answers++;
    if (verdict instanceof DnsError) this.finish(verdict);
    else this.finish(undefined, verdict);
  }

  /** RFC 7766 5: the same question to the same server over TCP, within the same try's time. */
  private askOverTcp(server: DnsServer): void {
    const openTcp = this.env.openTcp;
    this.closeSocket();
    if (openTcp === undefined) return this.settle(this.error("EBADRESP", "truncated answer (TC) and no TCP to retry over"));
    this.resolver.stats.tcpRetries++;
    let conn: Connection;
    try {
      conn = openTcp(server.address, server.port);
    } catch (e) {
      return this.settle(this.error("EBADRESP", `truncated answer (TC), and TCP to ${server.address.toString()} failed: ${(e as Error).message}`));
    }
    this.cancelTcp = exchangeOverTcp(conn, this.query, () => this.env.kick(), (result) => {
      this.cancelTcp = undefined;
      if (this.done) return;
      const verdict = result instanceof Error ? this.error("EBADRESP", `truncated answer (TC), and TCP failed: ${result.message}`) : this.judge(result, true);
      this.settle(verdict === "ignore" || verdict === "truncated" ? this.error("EBADRESP", "the answer over TCP was not for our question") : verdict);
    });
  }

  /** Gives up on this server at once (without waiting for the timeout) and asks the next. */
  private skip(): void {
    this.cancelTimer?.();
    this.cancelTimer = this.env.setTimer(this.env.now(), () => this.next());
  }

  /**
   * What one datagram from the server means: not ours (ignored, as RFC 5452 9.1 says:
   * wrong ID, not a response, another question), a failure, or the answer.
   */
  private judge(bytes: Uint8Array, overTcp: boolean): "ignore" | "truncated" | DnsError | Answer {
    const parsed = decodeMessage(bytes);
    if (!parsed.ok) {
      // An answer we cannot read is only worth noting if it carries our ID.
      if (bytes.length >= 2 && ((bytes[0]! << 8) | bytes[1]!) === this.id) return this.error("EBADRESP", `malformed answer (${parsed.reason})`);
      return "ignore";
    }
    const m = parsed.value;
    const q = m.questions[0];
    if (!m.header.response || m.header.id !== this.id || m.header.opcode !== 0) return "ignore";
    if (m.questions.length !== 1 || q === undefined || !sameName(q.name, this.name) || q.type !== this.type || q.class !== CLASS_IN) return "ignore";
    if (m.header.truncated) return overTcp ? this.error("EBADRESP", "truncated answer (TC) over TCP") : "truncated";
    switch (m.header.rcode) {
      case RCODE_NOERROR:
        break;
      case RCODE_NXDOMAIN:
        return this.error("ENOTFOUND", "no such name (NXDOMAIN)");
      case RCODE_SERVFAIL:
        return this.error("ESERVFAIL", "server failure (SERVFAIL)");
      case RCODE_REFUSED:
        return this.error("EREFUSED", "query refused (REFUSED)");
      case RCODE_NOTIMP:
        return this.error("ENOTIMP", "not implemented (NOTIMP)");
      case RCODE_FORMERR:
        return this.error("EFORMERR", "format error (FORMERR)");
      default:
        return this.error("EBADRESP", `unknown RCODE ${m.header.rcode}`);
    }
    return addressesOf(m, this.name, this.type) ?? this.error("ENODATA", `no ${this.type === TYPE_A ? "A" : "AAAA"} record`);
  }

  private error(code: DnsErrorCode, what: string): DnsError {
    return new DnsError(code, `${this.name}: ${what}`, { hostname: this.name });
  }

  private finish(error: DnsError | undefined, answer?: Answer): void {
    if (this.done) return;
    this.done = true;
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.closeSocket();
    this.tries = [];
    if (error?.code === "ECANCELLED") return;
    this.callback(error, answer);
    // The application heard something (a promise settled, a socket will report): in virtual
    // time its code runs only when the driver next yields, which a UDP answer does not ask
    // for by itself; without this the clock ran on to the next timer first, seconds later.
    this.env.kick();
  }

  private closeSocket(): void {
    this.cancelTcp?.();
    this.cancelTcp = undefined;
    if (this.socket === undefined) return;
    this.socket.onWake = undefined;
    this.socket.close();
    this.socket = undefined;
  }
}

/** Failures that say something about the server, not the name: ask the next server. */
function isServerProblem(code: DnsErrorCode): boolean {
  return code === "ESERVFAIL" || code === "EREFUSED" || code === "ENOTIMP" || code === "EFORMERR" || code === "EBADRESP";
}

/**
 * The addresses for `name` in the answer section, following a CNAME chain (RFC 1034 3.6.2,
 * 4.3.2: the server puts the CNAME and the target's records together); undefined if none.
 * The TTL is the smallest of the records used (RFC 2181 5.2).
 */
export function addressesOf(m: DnsMessage, name: string, type: number): Answer | undefined {
  let current = name;
  let ttl = Infinity;
  for (let hops = 0; hops <= MAX_CNAME_CHAIN; hops++) {
    const found = m.answers.filter((r) => r.class === CLASS_IN && r.type === type && r.address !== undefined && sameName(r.name, current));
    if (found.length > 0) {
      for (const r of found) ttl = Math.min(ttl, r.ttl);
      return { addresses: found.map((r) => r.address!), ttl };
    }
    const alias = m.answers.find((r) => r.type === TYPE_CNAME && r.target !== undefined && sameName(r.name, current));
    if (alias === undefined) return undefined;
    ttl = Math.min(ttl, alias.ttl);
    current = alias.target!;
  }
  return undefined;
}

/** "10.0.0.53", "fd00::53", "[fd00::53]:5353", "10.0.0.53:5353" or { address, port }. */
function parseServer(s: string | { address: string | IpAddress; port?: number }): DnsServer {
  let text: string | IpAddress;
  let port = DNS_PORT;
  if (typeof s === "string") {
    const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
    const v4port = /^([\d.]+):(\d+)$/.exec(s);
    if (bracket !== null) {
      text = bracket[1]!;
      if (bracket[2] !== undefined) port = Number(bracket[2]);
    } else if (v4port !== null) {
      text = v4port[1]!;
      port = Number(v4port[2]);
    } else {
      text = s;
    }
  } else if (s !== null && typeof s === "object") {
    text = s.address;
    port = s.port ?? DNS_PORT;
  } else {
    throw new DnsError("EINVAL", `a DNS server is an address string or { address, port }, got ${showValue(s)}`);
  }
  const address = text instanceof IpAddress ? text : typeof text === "string" ? parseIpAddress(text) : undefined;
  if (address === undefined) throw new DnsError("EINVAL", `DNS server ${showValue(text)} is not an IP address`);
  if (!(Number.isInteger(port) && port >= 1 && port <= 65535)) throw new DnsError("EINVAL", `DNS server port must be 1-65535, got ${showValue(port)}`);
  return { address, port };
}
