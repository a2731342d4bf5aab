/**
 * ICMPv6 for a host (RFC 4443): answers echo requests, sends destination unreachable, time
 * exceeded and parameter problem errors under the rules of section 2.4 and the host's ICMP
 * rate limit (2.4(f); the token buckets are shared with ICMPv4, as Linux's icmp_global is),
 * hands received errors to the transport they quote, and lets the application ping6.
 *
 * Read first: RFC 4443 section 2.4 (what a node must never answer with an error), 3 and 4
 * (the messages). Neighbour discovery (RFC 4861, types 133-137) is not implemented: the
 * links synack runs on (TUN, the UDP tunnel, the simulator) carry IP directly, so no
 * link-layer address ever needs resolving. Such messages are counted and ignored.
 */
import type { Millis } from "../env.js";
import type { TraceSink } from "../trace/events.js";
import type { IpAddress } from "../wire/address.js";
import {
  emitIcmpv6,
  ICMPV6_DEST_UNREACHABLE,
  ICMPV6_HEADER_LENGTH,
  ICMPV6_MAX_QUOTE,
  ICMPV6_PACKET_TOO_BIG,
  ICMPV6_PARAMETER_PROBLEM,
  ICMPV6_TIME_EXCEEDED,
  icmpv6Length,
  isIcmpv6Error,
  parseIcmpv6,
  parseIcmpv6Quote,
  type Icmpv6Message,
  type Icmpv6Quote,
} from "../wire/icmpv6.js";
import { IPV6_HEADER_LENGTH, IPV6_MAX_PAYLOAD, NH_ICMPV6 } from "../wire/ipv6.js";
import { icmpQuote, type InboundDatagram } from "./datagram.js";
import type { DropRecorder } from "./drops.js";
import { InvalidArgumentError, MessageTooLongError } from "./errors.js";
import { EchoBook, type EchoReply } from "./echo-book.js";
import type { EchoRequest } from "./icmp.js";
import type { IpOutput } from "./output.js";
import type { IcmpRateLimiter } from "./rate-limit.js";
import type { RoutingTable } from "./routing.js";

/** The largest echo payload over IPv6: 65,535 - 8 (no jumbograms). */
export const ICMPV6_MAX_ECHO_DATA = IPV6_MAX_PAYLOAD - ICMPV6_HEADER_LENGTH;

/** Linux `Icmp6:` MIB rows (/proc/net/snmp6). */
export interface Icmp6Stats {
  inMsgs: number;
  inErrors: number;
  inCsumErrors: number;
  inEchos: number;
  inEchoReplies: number;
  inDestUnreachs: number;
  inPktTooBigs: number;
  inTimeExcds: number;
  inParmProblems: number;
  outMsgs: number;
  outEchos: number;
  outEchoReplies: number;
  outDestUnreachs: number;
  outTimeExcds: number;
  outParmProblems: number;
  /** Errors not sent because of the shared rate limit. */
  outRateLimited: number;
  /** Errors about transports that do not act on them (TCP for now), and ND messages. */
  errorsIgnored: number;
}

/** A transport's handler for an ICMPv6 error quoting one of its datagrams; true if it acted. */
/** `mtu`: the MTU a packet too big carries (RFC 4443 3.2), else 0. */
export type Transport6ErrorHandler = (quote: Icmpv6Quote, type: number, code: number, reporter: IpAddress, mtu: number) => boolean;

export interface Icmp6LayerOptions {
  routing: RoutingTable;
  output: IpOutput;
  drops: DropRecorder;
  /** Shared with ICMPv4 (RFC 4443 2.4(f)). */
  limiter: IcmpRateLimiter;
  sendBufferSize?: number;
  trace?: TraceSink;
  hostName?: string;
}

export class Icmp6Layer {
  onEchoReply: ((reply: EchoReply) => void) | undefined = undefined;
  readonly stats: Icmp6Stats = {
    inMsgs: 0, inErrors: 0, inCsumErrors: 0, inEchos: 0, inEchoReplies: 0, inDestUnreachs: 0, inPktTooBigs: 0, inTimeExcds: 0, inParmProblems: 0,
    outMsgs: 0, outEchos: 0, outEchoReplies: 0, outDestUnreachs: 0, outTimeExcds: 0, outParmProblems: 0, outRateLimited: 0, errorsIgnored: 0,
  };
  private readonly handlers = new Map<number, Transport6ErrorHandler>();
  private readonly echoes: EchoBook<Icmpv6Message>;

  constructor(private readonly opts: Icmp6LayerOptions) {
    this.echoes = new EchoBook(opts.sendBufferSize);
  }

  setErrorHandler(protocol: number, handler: Transport6ErrorHandler): void {
    this.handlers.set(protocol, handler);
  }

  /** Queues an echo request (ping -6); it leaves on the next poll. Throws EMSGSIZE, ENETUNREACH, EAGAIN. */
  ping(dst: IpAddress, request: EchoRequest): void {
    if (dst.family !== 6) throw new InvalidArgumentError(`ping over ICMPv6 needs an IPv6 address, got ${dst.toString()}`);
    const data = request.data ?? new Uint8Array(0);
    if (data.length > ICMPV6_MAX_ECHO_DATA) {
      throw new MessageTooLongError(data.length, ICMPV6_MAX_ECHO_DATA, `echo data is at most ${ICMPV6_MAX_ECHO_DATA} bytes, got ${data.length}`);
    }
    this.opts.routing.resolve(dst);
    const message: Icmpv6Message = { kind: "echo-request", id: request.id & 0xffff, seq: request.seq & 0xffff, data: data.slice() };
    this.echoes.request(dst, message, data.length);
  }

  /** An arrived IPv6 datagram whose upper layer is 58. */
  receive(now: Millis, d: InboundDatagram): void {
    this.stats.inMsgs++;
    // RFC 4443 2.3: the checksum covers the IPv6 pseudo-header and is always verified.
    const parsed = parseIcmpv6(d.payload, { src: d.src, dst: d.dst });
    if (!parsed.ok) {
      this.stats.inErrors++;
      if (parsed.reason === "bad-checksum") {
        this.stats.inCsumErrors++;
        this.opts.drops.drop(now, "bad-checksum", "ICMPv6 checksum");
      } else {
        this.opts.drops.drop(now, "malformed", `ICMPv6: ${parsed.reason}`);
      }
      return;
    }
    const m = parsed.value;
    switch (m.kind) {
      case "echo-request":
        this.stats.inEchos++;
        // RFC 4443 4.2: same identifier, sequence and data, from the address the request
        // was sent to (a unicast one: multicast never reaches here).
        this.send(now, d.src, d.dst, { kind: "echo-reply", id: m.id, seq: m.seq, data: m.data });
        return;
      case "echo-reply":
        this.stats.inEchoReplies++;
        this.echoes.replied({ from: d.src, to: d.dst, id: m.id, seq: m.seq, data: m.data.slice(), time: now });
        return;
      case "dest-unreachable":
        this.stats.inDestUnreachs++;
        return this.onError(now, d.src, ICMPV6_DEST_UNREACHABLE, m.code, m.original);
      case "packet-too-big":
        // Feeds TCP's path MTU (RFC 8201).
        this.stats.inPktTooBigs++;
        return this.onError(now, d.src, ICMPV6_PACKET_TOO_BIG, 0, m.original, m.mtu);
      case "time-exceeded":
        this.stats.inTimeExcds++;
        return this.onError(now, d.src, ICMPV6_TIME_EXCEEDED, m.code, m.original);
      case "parameter-problem":
        this.stats.inParmProblems++;
        return this.onError(now, d.src, ICMPV6_PARAMETER_PROBLEM, m.code, m.original);
      case "other":
        this.stats.errorsIgnored++;
        // RFC 4443 2.4(b): an unknown informational message is silently discarded; an
        // unknown error is passed up, which here means ignored.
        this.opts.drops.drop(now, "icmp-ignored", `ICMPv6 type ${m.type} code ${m.code} not handled${m.type >= 133 && m.type <= 137 ? " (neighbour discovery is not supported)" : ""}`);
        return;
    }
  }

  /**
   * Sends an ICMPv6 error about `about` (a whole datagram, or the packet bytes for a
   * Parameter Problem) unless RFC 4443 2.4(e) forbids it or the rate limit holds it back.
   * `pointer` is the Parameter Problem pointer. Returns whether it was sent.
   */
  sendError(now: Millis, about: Pick<InboundDatagram, "src" | "dst" | "protocol" | "payload" | "rawHeader">, type: number, code: number, pointer = 0): boolean {
    // RFC 4443 2.4(e): never about an ICMPv6 error, nor about a packet whose source is not
    // one unicast host. Its exceptions for multicast destinations (packet too big, and
    // parameter problem code 2 for an option type 10) were applied by the extension walk;
    // this host never delivers multicast, so the destination here is always unicast.
    if (about.protocol === NH_ICMPV6 && (about.payload.length === 0 || isIcmpv6Error(about.payload[0]!))) return false;
    if (about.src.isUnspecified || about.src.isMulticast || about.dst.isMulticast) return false;
    if (!this.opts.limiter.allow(now, about.src.key)) {
      this.stats.outRateLimited++;
      this.opts.drops.drop(now, "icmp-ratelimit", () => `ICMPv6 type ${type} code ${code} to ${about.src.toString()} held back`);
      return false;
    }
    // RFC 4443 2.4(c): as much of the packet as fits the minimum MTU.
    const original = icmpQuote(about, ICMPV6_MAX_QUOTE);
    const message: Icmpv6Message =
      type === ICMPV6_DEST_UNREACHABLE
        ? { kind: "dest-unreachable", code, original }
        : type === ICMPV6_TIME_EXCEEDED
          ? { kind: "time-exceeded", code, original }
          : type === ICMPV6_PARAMETER_PROBLEM
            ? { kind: "parameter-problem", code, pointer, original }
            : { kind: "other", type, code, rest: 0, body: original };
    const trace = this.opts.trace;
    if (trace?.enabled) trace.emit({ type: "icmp-out", time: now, host: this.opts.hostName ?? "", dst: about.src, icmpType: type, code });
    // From the address the offending packet was sent to (RFC 4443 2.2).
    return this.send(now, about.src, about.dst, message);
  }

  /** A Parameter Problem about raw packet bytes (the extension walk's verdict). */
  sendParamProblem(now: Millis, packet: Uint8Array, src: IpAddress, dst: IpAddress, code: number, pointer: number): boolean {
    const rawHeader = packet.subarray(0, Math.min(packet.length, IPV6_HEADER_LENGTH));
    // The quote is the packet from its start; protocol unknown here (0 is not ICMPv6).
    return this.sendError(now, { src, dst, protocol: -1, payload: packet.subarray(rawHeader.length), rawHeader }, ICMPV6_PARAMETER_PROBLEM, code, pointer);
  }

  hasPendingOutput(): boolean {
    return this.echoes.hasRequests;
  }

  flush(now: Millis): void {
    // Called after every packet: no closure unless there is something to send.
    if (this.echoes.hasRequests) this.echoes.sendRequests((dst, message) => this.send(now, dst, undefined, message));
  }

  deliverNotifications(): void {
    this.echoes.deliverReplies(this.onEchoReply);
  }

  private onError(now: Millis, reporter: IpAddress, type: number, code: number, original: Uint8Array, mtu = 0): void {
    const quote = parseIcmpv6Quote(original);
    if (!quote.ok) {
      this.stats.inErrors++;
      this.opts.drops.drop(now, "malformed", `ICMPv6 error quote: ${quote.reason}`);
      return;
    }
    if (!this.opts.routing.isLocal(quote.value.src)) {
      this.opts.drops.drop(now, "icmp-ignored", `ICMPv6 error quotes a packet from ${quote.value.src.toString()}, not from us`);
      return;
    }
    const handler = this.handlers.get(quote.value.protocol);
    if (handler === undefined || !handler(quote.value, type, code, reporter, mtu)) {
      this.stats.errorsIgnored++;
      if (handler === undefined) this.opts.drops.drop(now, "icmp-ignored", `ICMPv6 type ${type} code ${code} about protocol ${quote.value.protocol}: not acted on (not supported)`);
    }
  }

  private send(now: Millis, dst: IpAddress, src: IpAddress | undefined, message: Icmpv6Message): boolean {
    const result = this.opts.output.send(now, {
      dst,
      ...(src !== undefined ? { src } : {}),
      protocol: NH_ICMPV6,
      payloadLength: icmpv6Length(message),
      // The checksum covers the pseudo-header with the source IP chose (RFC 4443 2.3).
      writePayload: (buf, offset, from) => {
        emitIcmpv6(message, buf, offset, { src: from, dst });
      },
      policy: message.kind === "echo-request" ? "want" : "dont",
    });
    if (!result.ok) return false;
    this.stats.outMsgs++;
    if (message.kind === "echo-reply") this.stats.outEchoReplies++;
    else if (message.kind === "echo-request") this.stats.outEchos++;
    else if (message.kind === "dest-unreachable") this.stats.outDestUnreachs++;
    else if (message.kind === "time-exceeded") this.stats.outTimeExcds++;
    else if (message.kind === "parameter-problem") this.stats.outParmProblems++;
    return true;
  }
}
