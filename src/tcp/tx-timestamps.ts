/**
 * SO_TIMESTAMPING's TX software timestamps for a TCP socket, as Linux gives them.
 *
 * Read first: Linux Documentation/networking/timestamping.rst (sections 1.3 and 2); then
 * sock_set_timestamping in net/core/sock.c, tcp_tx_timestamp in net/ipv4/tcp.c,
 * __dev_queue_xmit / skb_tx_timestamp (where SCHED and SND stamps are taken),
 * __skb_tstamp_tx and __skb_complete_tx_timestamp in net/core/skbuff.c, and
 * tcp_ack_tstamp in net/ipv4/tcp_input.c.
 *
 * - The option is a set of SOF_TIMESTAMPING_* flags. A write made while a recording flag
 *   is set (TX_SCHED, TX_SOFTWARE, TX_ACK) asks for stamps of its LAST byte only: a byte
 *   stream has no packet per write, so Linux marks the skb holding that byte
 *   (tcp_tx_timestamp: shinfo->tskey = seq + len - 1) and the flags the write asked for.
 * - When a segment carrying a marked byte goes to the device, a SCM_TSTAMP_SCHED stamp
 *   (TX_SCHED: entering the packet scheduler, __dev_queue_xmit) and then a SCM_TSTAMP_SND
 *   stamp (TX_SOFTWARE: the driver's skb_tx_timestamp) are queued. synack has no qdisc
 *   and no driver, so both are taken when the segment is emitted, SCHED first. The flags
 *   live in the skb's shared info and transmission does not clear them, so a
 *   retransmission of the marked byte is stamped again (same key): an application sees a
 *   resend as a second SCHED/SND pair.
 * - When the cumulative ACK first passes the marked byte, a SCM_TSTAMP_ACK stamp is queued
 *   (TX_ACK; tcp_ack_tstamp in tcp_clean_rtx_queue: SACKed bytes do not count) and the
 *   mark is dropped.
 * - With SOF_TIMESTAMPING_OPT_ID each stamp carries a key in ee_data: the marked byte's
 *   offset from the byte SND.UNA named when OPT_ID was turned on (sk_tskey; with
 *   OPT_ID_TCP, from the next byte to be written, write_seq), modulo 2^32. A first
 *   2000-byte write after setting the option on an idle connection stamps key 1999.
 *   Without OPT_ID the key is 0. OPT_ID is refused on a TCP socket that is closed or
 *   listening (EINVAL); setTxTimestamping checks that, given the connection's state.
 * - SOF_TIMESTAMPING_SOFTWARE is a reporting flag: every entry carries its time (`at`), and
 *   the reader decides by the flag whether it goes out as SCM_TIMESTAMPING (the drill's
 *   recvmsg does, as Linux __sock_recv_timestamp); the queue entry is made anyway.
 *
 * Stamps go on the socket's one error queue, shared with MSG_ZEROCOPY completions
 * (error-queue.ts). When a reset or a timeout drops the unacknowledged bytes their marks
 * go too (the skbs are freed unsent or unacknowledged: no stamp).
 *
 * Differences from Linux, both about skbs, which synack does not keep: Linux has one key
 * per skb, so a write whose last byte lands in the same unsent skb as the previous
 * write's replaces that write's mark ("It silently replaces requests for previous
 * timestamps", commit 4ed2d765dfac); synack keeps a mark for every write. And Linux
 * stamps once per skb, where synack stamps once per emitted segment carrying the byte.
 *
 * Made on first use (setTxTimestamping), hanging off push-marks.ts with the other write
 * boundaries: an idle connection pays nothing for it.
 */
import type { Millis } from "../env.js";
import { seqAdd, seqDiff, seqLt, type Seq } from "../wire/seq.js";
import { InvalidArgumentError } from "./errors.js";
import { ErrorQueue, SCM_TSTAMP_ACK, SCM_TSTAMP_SCHED, SCM_TSTAMP_SND, type TstampType } from "./error-queue.js";
import { showValue } from "../show-value.js";

/** SOF_TIMESTAMPING_* (include/uapi/linux/net_tstamp.h). */
export const SOF_TIMESTAMPING = {
  TX_HARDWARE: 1 << 0,
  TX_SOFTWARE: 1 << 1,
  RX_HARDWARE: 1 << 2,
  RX_SOFTWARE: 1 << 3,
  SOFTWARE: 1 << 4,
  SYS_HARDWARE: 1 << 5,
  RAW_HARDWARE: 1 << 6,
  OPT_ID: 1 << 7,
  TX_SCHED: 1 << 8,
  TX_ACK: 1 << 9,
  OPT_CMSG: 1 << 10,
  OPT_TSONLY: 1 << 11,
  OPT_STATS: 1 << 12,
  OPT_PKTINFO: 1 << 13,
  OPT_TX_SWHW: 1 << 14,
  BIND_PHC: 1 << 15,
  OPT_ID_TCP: 1 << 16,
  OPT_RX_FILTER: 1 << 17,
} as const;

/** Every flag Linux knows (SOF_TIMESTAMPING_MASK); others are EINVAL. */
const KNOWN = (SOF_TIMESTAMPING.OPT_RX_FILTER << 1) - 1;

/**
 * Flags sock_set_timestamping accepts: known ones only, OPT_ID_TCP only with OPT_ID, and
 * no BIND_PHC (it needs a PHC index, struct so_timestamping; synack has no hardware clock).
 */
export function validTimestampingFlags(flags: number): boolean {
  if (!Number.isInteger(flags) || flags < 0 || (flags & ~KNOWN) !== 0) return false;
  if ((flags & SOF_TIMESTAMPING.OPT_ID_TCP) !== 0 && (flags & SOF_TIMESTAMPING.OPT_ID) === 0) return false;
  return (flags & SOF_TIMESTAMPING.BIND_PHC) === 0;
}

/** Per-mark bits: which stamps the write asked for. */
const WANT_SCHED = 1;
const WANT_SND = 2;
const WANT_ACK = 4;

export class TxTimestamps {
  /** The socket's SOF_TIMESTAMPING_* flags (Linux sk_tsflags). */
  flags = 0;
  /** Where OPT_ID keys count from (Linux sk_tskey): a sequence number. */
  private base = 0 as Seq;
  /** Marked bytes not yet acknowledged, in sequence order from `head`: [seq of the last byte, WANT_* bits] pairs. */
  private marks: number[] = [];
  private head = 0;

  constructor(readonly errors: ErrorQueue = new ErrorQueue()) {}

  /**
   * setsockopt(SO_TIMESTAMPING, flags): returns an errno name, or undefined when set.
   * `sndUna` and `writeSeq` (the sequence number the next written byte takes) set OPT_ID's
   * base when OPT_ID is turned on (sock_set_timestamping).
   */
  set(flags: number, sndUna: Seq, writeSeq: Seq): "EINVAL" | undefined {
    if (!validTimestampingFlags(flags)) return "EINVAL";
    if ((flags & SOF_TIMESTAMPING.OPT_ID) !== 0 && (this.flags & SOF_TIMESTAMPING.OPT_ID) === 0) {
      this.base = (flags & SOF_TIMESTAMPING.OPT_ID_TCP) !== 0 ? writeSeq : sndUna;
    }
    this.flags = flags;
    return undefined;
  }

  /** A write queued bytes whose last is `lastByte` (tcp_tx_timestamp): mark it with the stamps the flags ask for. */
  wrote(lastByte: Seq): void {
    const f = this.flags;
    const want = ((f & SOF_TIMESTAMPING.TX_SCHED) !== 0 ? WANT_SCHED : 0) | ((f & SOF_TIMESTAMPING.TX_SOFTWARE) !== 0 ? WANT_SND : 0) | ((f & SOF_TIMESTAMPING.TX_ACK) !== 0 ? WANT_ACK : 0);
    if (want === 0) return;
    const n = this.marks.length;
    if (n > this.head && this.marks[n - 2] === lastByte) {
      this.marks[n - 1]! |= want; // a blocking write's later step ending on the same byte
      return;
    }
    this.marks.push(lastByte, want);
  }

  /**
   * Bytes [from, end) left in a segment at `now` (first transmission or resend): SCHED then
   * SND for every marked byte among them (__dev_queue_xmit, then skb_tx_timestamp).
   */
  transmitted(from: Seq, end: Seq, now: Millis): void {
    const m = this.marks;
    // Marks are in sequence order: binary search for the first at or above `from`.
    let lo = this.head / 2;
    let hi = m.length / 2;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (seqLt(m[2 * mid]! as Seq, from)) lo = mid + 1;
      else hi = mid;
    }
    for (let i = 2 * lo; i < m.length && seqLt(m[i]! as Seq, end); i += 2) {
      const want = m[i + 1]!;
      if ((want & WANT_SCHED) !== 0) this.stamp(SCM_TSTAMP_SCHED, m[i]! as Seq, now);
      if ((want & WANT_SND) !== 0) this.stamp(SCM_TSTAMP_SND, m[i]! as Seq, now);
    }
  }

  /** SND.UNA's data reached `una` at `now`: ACK stamps for marked bytes now below it (tcp_ack_tstamp); their marks go. */
  acked(una: Seq, now: Millis): void {
    const m = this.marks;
    while (this.head < m.length && seqLt(m[this.head]! as Seq, una)) {
      if ((m[this.head + 1]! & WANT_ACK) !== 0) this.stamp(SCM_TSTAMP_ACK, m[this.head]! as Seq, now);
      this.head += 2;
    }
    if (this.head === m.length) {
      if (m.length > 0) this.marks = [];
      this.head = 0;
    } else if (this.head > 64 && this.head * 2 > m.length) {
      this.marks = m.slice(this.head);
      this.head = 0;
    }
  }

  /** Just past the oldest marked byte not yet acknowledged, if any (push-marks.ts orders ACK stamps with zerocopy completions by it). */
  get nextEnd(): Seq | undefined {
    return this.head < this.marks.length ? seqAdd(this.marks[this.head]! as Seq, 1) : undefined;
  }

  /** The unacknowledged bytes were dropped (reset, timeout): no more stamps for them. */
  purged(): void {
    this.marks = [];
    this.head = 0;
  }

  /** Marked bytes awaiting their ACK stamp or acknowledgement (for tests). */
  get pending(): number {
    return (this.marks.length - this.head) / 2;
  }

  /** ee_data for a stamp of `lastByte`: its offset from the OPT_ID base, or 0 (__skb_complete_tx_timestamp). */
  private key(lastByte: Seq): number {
    if ((this.flags & SOF_TIMESTAMPING.OPT_ID) === 0) return 0;
    return seqDiff(lastByte, this.base) >>> 0;
  }

  private stamp(type: TstampType, lastByte: Seq, now: Millis): void {
    this.errors.push({ type, key: this.key(lastByte), at: now });
  }
}

/** The send side's hold on a connection's TX timestamping state (Sender.txTimestamps). */
interface TxTimestampsHost {
  txTimestamps(make?: boolean): TxTimestamps | undefined;
}

/**
 * setsockopt(SO_TIMESTAMPING, flags) on a connection (Connection.setTimestamping): the
 * state is made on first use. Throws InvalidArgumentError where Linux says EINVAL: unknown
 * flags, OPT_ID_TCP without OPT_ID, BIND_PHC, and OPT_ID on a closed socket
 * (sock_set_timestamping). `sndUna` and `writeSeq` give OPT_ID its base.
 */
export function setTxTimestamping(s: TxTimestampsHost, flags: number, closed: boolean, sndUna: Seq, writeSeq: Seq): void {
  // An int, as setsockopt's: a larger or fractional number would lose bits silently.
  if (typeof flags !== "number" || !Number.isInteger(flags) || flags < 0 || flags > 0x7fffffff) throw new InvalidArgumentError(`setTimestamping(flags): flags must be a whole number of SOF_TIMESTAMPING_* bits, got ${showValue(flags)}`);
  if (closed && (flags & SOF_TIMESTAMPING.OPT_ID) !== 0) throw new InvalidArgumentError("setTimestamping(): SOF_TIMESTAMPING_OPT_ID on a closed connection");
  if (flags === 0 && s.txTimestamps() === undefined) return; // off and never on: nothing to make
  if (s.txTimestamps(true)!.set(flags, sndUna, writeSeq) !== undefined) throw new InvalidArgumentError(`setTimestamping(): flags 0x${flags.toString(16)} are not valid SOF_TIMESTAMPING_* flags`);
}
