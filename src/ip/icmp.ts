/**
 * ICMPv4 for a host (RFC 792, RFC 1122 3.2.2): answers echo requests, sends destination
 * unreachable and time exceeded errors under the RFC 1122 restrictions and a Linux-like
 * rate limit, hands received errors to the transport they concern, and lets the
 * application send echo requests (ping) and hear the replies.
 *
 * Received errors go to the transport named in the quoted header, through the handler the
 * host registers for it (src/host/host.ts): UDP reports them on connected sockets
 * (udp/layer.ts), TCP acts on them as RFC 5927 and Linux's tcp_v4_err do
 * (tcp/icmp-input.ts), and a "fragmentation needed" carries its next-hop MTU to TCP, which
 * lowers the destination's path MTU (path-mtu.ts). Errors about any other protocol are
 * counted and ignored.
 */
import { IpAddress } from "../wire/address.js";
import type { Millis } from "../env.js";
import type { TraceSink } from "../trace/events.js";
import {
  emitIcmp,
  ICMP_DEST_UNREACHABLE,
  ICMP_HEADER_LENGTH,
  ICMP_TIME_EXCEEDED,
  icmpLength,
  parseIcmp,
  parseIcmpQuote,
  type IcmpMessage,
  type IcmpQuote,
} from "../wire/icmp.js";
import { formatIpv4Address, PROTO_ICMP } from "../wire/ipv4.js";
import { icmpQuote, type InboundDatagram } from "./datagram.js";
import type { DropRecorder } from "./drops.js";
import { InvalidArgumentError, MessageTooLongError } from "./errors.js";
import { EchoBook, type EchoReply } from "./echo-book.js";
import { IPV4_MAX_PACKET, type IpOutput } from "./output.js";
import { ICMP_RATE_LIMIT_DEFAULTS, IcmpRateLimiter, type IcmpRateLimitConfig } from "./rate-limit.js";
import { isMartianSource, toIpAddress, type AddressInput, type RoutingTable } from "./routing.js";

export type { EchoReply };

/** The largest echo payload over IPv4: 65,535 - 20 - 8. */
export const ICMP_MAX_ECHO_DATA = IPV4_MAX_PACKET - 20 - ICMP_HEADER_LENGTH;

/** Query (non-error) ICMP types (RFC 792, RFC 950): echo, timestamp, information, mask. */
const QUERY_TYPES: ReadonlySet<number> = new Set([0, 8, 13, 14, 15, 16, 17, 18]);

export interface EchoRequest {
  id: number;
  seq: number;
  data?: Uint8Array;
}

/** Linux `Icmp:` MIB rows. */
export interface IcmpStats {
  inMsgs: number;
  /** Malformed messages or bad checksums (InErrors). */
  inErrors: number;
  inCsumErrors: number;
  inEchos: number;
  inEchoReps: number;
  inDestUnreachs: number;
  inTimeExcds: number;
  outMsgs: number;
  outEchos: number;
  outEchoReps: number;
  outDestUnreachs: number;
  outTimeExcds: number;
  /** Errors not sent because of the rate limit (OutRateLimitHost + OutRateLimitGlobal). */
  outRateLimited: number;
  /** Errors about transports that do not act on them (TCP for now). */
  errorsIgnored: number;
}

/** A transport's handler for an ICMP error quoting one of its datagrams; true if it acted. */
/** `mtu`: the next-hop MTU a "fragmentation needed" carries (RFC 1191), else 0. */
export type TransportErrorHandler = (quote: IcmpQuote, type: number, code: number, reporter: number, mtu: number) => boolean;

export interface IcmpLayerOptions {
  routing: RoutingTable;
  output: IpOutput;
  drops: DropRecorder;
  rateLimit?: IcmpRateLimitConfig;
  /** A limiter shared with ICMPv6 (RFC 4443 2.4(f)); default: one of its own from `rateLimit`. */
  limiter?: IcmpRateLimiter;
  /** Bytes of echo requests the application may queue between polls. */
  sendBufferSize?: number;
  /** Traces errors sent (`icmp-out`), named after `hostName`. */
  trace?: TraceSink;
  hostName?: string;
}

export class IcmpLayer {
  /** Called after processing, once per echo reply received. */
  onEchoReply: ((reply: EchoReply) => void) | undefined = undefined;
  readonly stats: IcmpStats = {
    inMsgs: 0, inErrors: 0, inCsumErrors: 0, inEchos: 0, inEchoReps: 0, inDestUnreachs: 0, inTimeExcds: 0,
    outMsgs: 0, outEchos: 0, outEchoReps: 0, outDestUnreachs: 0, outTimeExcds: 0, outRateLimited: 0, errorsIgnored: 0,
  };
  private readonly limiter: IcmpRateLimiter;
  private readonly handlers = new Map<number, TransportErrorHandler>();
  private readonly echoes: EchoBook<IcmpMessage>;

  constructor(private readonly opts: IcmpLayerOptions) {
    this.limiter = opts.limiter ?? new IcmpRateLimiter(opts.rateLimit ?? ICMP_RATE_LIMIT_DEFAULTS);
    this.echoes = new EchoBook(opts.sendBufferSize);
  }

  /** Routes ICMP errors quoting `protocol` datagrams to `handler`. */
  setErrorHandler(protocol: number, handler: TransportErrorHandler): void {
    this.handlers.set(protocol, handler);
  }

  // -----------------------------------------------------------------------------------------
  // Application side

  /**
   * Queues an echo request to `dst`; it leaves on the next poll and any reply reaches
   * `onEchoReply`. Throws EMSGSIZE, ENETUNREACH, EHOSTUNREACH or EAGAIN.
   */
  ping(destination: AddressInput, request: EchoRequest): void {
    const dst = toIpAddress(destination, "destination");
    if (dst.family !== 4) throw new InvalidArgumentError(`ping over ICMPv4 needs an IPv4 address, got ${dst.toString()} (use the host's icmp6)`);
    const data = request.data ?? new Uint8Array(0);
    if (data.length > ICMP_MAX_ECHO_DATA) {
      throw new MessageTooLongError(data.length, ICMP_MAX_ECHO_DATA, `echo data is at most ${ICMP_MAX_ECHO_DATA} bytes, got ${data.length}`);
    }
    this.opts.routing.resolve(dst);
    const message: IcmpMessage = { kind: "echo-request", id: request.id & 0xffff, seq: request.seq & 0xffff, data: data.slice() };
    this.echoes.request(dst, message, data.length);
  }

  // -----------------------------------------------------------------------------------------
  // Driver side

  /** An arrived datagram with protocol 1. */
  receive(now: Millis, d: InboundDatagram): void {
    this.stats.inMsgs++;
    const parsed = parseIcmp(d.payload);
    if (!parsed.ok) {
      this.stats.inErrors++;
      if (parsed.reason === "bad-checksum") {
        this.stats.inCsumErrors++;
        this.opts.drops.drop(now, "bad-checksum", "ICMP checksum");
      } else {
        this.opts.drops.drop(now, "malformed", `ICMP: ${parsed.reason}`);
      }
      return;
    }
    const m = parsed.value;
    const { src, dst } = d;
    switch (m.kind) {
      case "echo-request":
        this.stats.inEchos++;
        // RFC 1122 3.2.2.6: same identifier, sequence and data; from the address asked.
        this.send(now, src, dst, { kind: "echo-reply", id: m.id, seq: m.seq, data: m.data });
        return;
      case "echo-reply":
        this.stats.inEchoReps++;
        this.echoes.replied({ from: src, to: dst, id: m.id, seq: m.seq, data: m.data.slice(), time: now });
        return;
      case "dest-unreachable":
        this.stats.inDestUnreachs++;
        this.onError(now, src.w3, ICMP_DEST_UNREACHABLE, m.code, m.original, m.nextHopMtu);
        return;
      case "time-exceeded":
        this.stats.inTimeExcds++;
        this.onError(now, src.w3, ICMP_TIME_EXCEEDED, m.code, m.original);
        return;
      case "other":
        this.opts.drops.drop(now, "icmp-ignored", `ICMP type ${m.type} code ${m.code} not handled`);
        return;
    }
  }

  /**
   * Sends an ICMP error about `about` unless RFC 1122 3.2.2 forbids it or the rate limit
   * holds it back. `rest`: the message's second word, for types the codec has no fields
   * for (a Parameter Problem's pointer in its top byte, RFC 792). Returns whether it was sent.
   */
  sendError(now: Millis, about: Pick<InboundDatagram, "header" | "payload" | "rawHeader">, type: number, code: number, rest = 0): boolean {
    const h = about.header;
    if (h === undefined) return false; // an IPv6 datagram: ICMPv6 answers those (icmp6.ts)
    // RFC 1122 3.2.2: never about an ICMP error, a broadcast or multicast destination, a
    // non-initial fragment, or a source that is not a single host (Class E included).
    if (h.protocol === PROTO_ICMP && !(about.payload.length > 0 && QUERY_TYPES.has(about.payload[0]!))) return false;
    if (h.dst >>> 28 >= 0xe || h.fragmentOffset !== 0) return false;
    if (isMartianSource(h.src) || h.src >>> 28 === 0xf) return false;
    if (!this.limiter.allow(now, h.src)) {
      this.stats.outRateLimited++;
      this.opts.drops.drop(now, "icmp-ratelimit", () => `ICMP type ${type} code ${code} to ${formatIpv4Address(h.src)} held back`);
      return false;
    }
    const original = icmpQuote(about);
    const message: IcmpMessage =
      type === ICMP_DEST_UNREACHABLE
        ? { kind: "dest-unreachable", code, nextHopMtu: 0, original }
        : type === ICMP_TIME_EXCEEDED
          ? { kind: "time-exceeded", code, original }
          : { kind: "other", type, code, rest, body: original };
    // Before output, so the packet's link events follow it.
    const trace = this.opts.trace;
    if (trace?.enabled) trace.emit({ type: "icmp-out", time: now, host: this.opts.hostName ?? "", dst: IpAddress.v4(h.src), icmpType: type, code });
    // RFC 1122 3.2.2: the error comes from the address the offending datagram was sent to.
    return this.send(now, IpAddress.v4(h.src), IpAddress.v4(h.dst), message);
  }

  hasPendingOutput(): boolean {
    return this.echoes.hasRequests;
  }

  /** Sends queued echo requests (called from the host's poll). */
  flush(now: Millis): void {
    // Called after every packet: no closure unless there is something to send.
    if (this.echoes.hasRequests) this.echoes.sendRequests((dst, message) => this.send(now, dst, undefined, message));
  }

  /** Calls onEchoReply for each reply received since the last call. */
  deliverNotifications(): void {
    this.echoes.deliverReplies(this.onEchoReply);
  }

  // -----------------------------------------------------------------------------------------
  // Internals

  private onError(now: Millis, reporter: number, type: number, code: number, original: Uint8Array, mtu = 0): void {
    const quote = parseIcmpQuote(original);
    if (!quote.ok) {
      this.stats.inErrors++;
      this.opts.drops.drop(now, "malformed", `ICMP error quote: ${quote.reason}`);
      return;
    }
    // Only errors about datagrams we sent mean anything here.
    if (!this.opts.routing.isLocal(quote.value.src)) {
      this.opts.drops.drop(now, "icmp-ignored", `ICMP error quotes a datagram from ${formatIpv4Address(quote.value.src)}, not from us`);
      return;
    }
    const handler = this.handlers.get(quote.value.protocol);
    if (handler === undefined) {
      this.stats.errorsIgnored++;
      this.opts.drops.drop(now, "icmp-ignored", `ICMP type ${type} code ${code} about protocol ${quote.value.protocol}: not acted on (not supported)`);
      return;
    }
    handler(quote.value, type, code, reporter, mtu);
  }

  private send(now: Millis, dst: IpAddress, src: IpAddress | undefined, message: IcmpMessage): boolean {
    const result = this.opts.output.send(now, {
      dst,
      ...(src !== undefined ? { src } : {}),
      protocol: PROTO_ICMP,
      payloadLength: icmpLength(message),
      writePayload: (buf, offset) => {
        emitIcmp(message, buf, offset);
      },
      // Replies and errors are never refused for size; pings behave like UDP ("want").
      policy: message.kind === "echo-request" ? "want" : "dont",
    });
    if (!result.ok) return false;
    this.stats.outMsgs++;
    if (message.kind === "echo-reply") this.stats.outEchoReps++;
    else if (message.kind === "echo-request") this.stats.outEchos++;
    else if (message.kind === "dest-unreachable") this.stats.outDestUnreachs++;
    else if (message.kind === "time-exceeded") this.stats.outTimeExcds++;
    return true;
  }
}
