/**
 * The timers of one connection, as plain deadlines (Infinity = not armed). Nothing here
 * schedules anything: the connection reports the earliest deadline and the layer calls it
 * back when that time comes (sans-IO).
 */
import type { Millis } from "../env.js";
import type { TimerKind } from "../trace/events.js";

export class TimerSet {
  // The fields are declared bare and set in the constructor, not initialised in place:
  // V8 then gives them tagged representation (undefined first, then a number) and an
  // unarmed timer points at the one shared Infinity, where an in-place `= Infinity`
  // makes each a double field with its own 16-byte box per connection (128 bytes for an
  // idle connection, bench/heap.js).
  /** Retransmission of SYN, SYN-ACK, data or FIN (RFC 6298). */
  rto!: Millis;
  /** Tail loss probe (RFC 8985 7.2); armed instead of the RTO while it may probe. */
  tlp!: Millis;
  /** RACK's reordering timer (RFC 8985 6.3). */
  reorder!: Millis;
  /** Zero-window probe (RFC 9293 3.8.6.1). */
  persist!: Millis;
  keepalive!: Millis;
  delayedAck!: Millis;
  /** TIME_WAIT (2 MSL) or the orphaned FIN_WAIT_2 timeout; never both at once. */
  linger!: Millis;
  /** When the pacer releases the next held segment (pacing.ts); only while something waits. */
  pacing!: Millis;

  constructor() {
    this.clearAll();
  }

  earliest(): Millis {
    return Math.min(this.rto, this.tlp, this.reorder, this.persist, this.keepalive, this.delayedAck, this.linger, this.pacing);
  }

  clearAll(): void {
    this.rto = this.tlp = this.reorder = this.persist = this.keepalive = this.delayedAck = this.linger = this.pacing = Infinity;
  }
}

/**
 * The timers of every connection with none armed: shared, so never written (arming writes to
 * a set of the connection's own, connection-timers.ts). Not frozen: a frozen object has a
 * map of its own, and every read of a connection's timers would then see two kinds of object.
 */
export const NO_TIMERS = new TimerSet();

export type TimerSlot = "rto" | "tlp" | "reorder" | "persist" | "keepalive" | "delayedAck" | "linger" | "pacing";

export function slotKind(slot: TimerSlot, lingerKind: TimerKind): TimerKind {
  switch (slot) {
    case "rto":
      return "rto";
    case "tlp":
      return "tlp";
    case "reorder":
      return "reorder";
    case "persist":
      return "persist";
    case "keepalive":
      return "keepalive";
    case "delayedAck":
      return "delayed-ack";
    case "linger":
      return lingerKind;
    case "pacing":
      return "pacing";
  }
}

/**
 * The deadline in `slot`, read by name. Not `t[slot]`: one keyed access serving every slot
 * sees eight property names and goes megamorphic in V8, a generic lookup even where the
 * slot is a constant; a switch folds to one field read once inlined (perf: the megamorphic
 * lookups from the ACK path were 0.3-0.8% of bulk CPU).
 */
export function slotDeadline(t: TimerSet, slot: TimerSlot): Millis {
  switch (slot) {
    case "rto":
      return t.rto;
    case "tlp":
      return t.tlp;
    case "reorder":
      return t.reorder;
    case "persist":
      return t.persist;
    case "keepalive":
      return t.keepalive;
    case "delayedAck":
      return t.delayedAck;
    case "linger":
      return t.linger;
    case "pacing":
      return t.pacing;
  }
}

/** Sets the deadline in `slot` (see slotDeadline for why by name). */
export function setSlotDeadline(t: TimerSet, slot: TimerSlot, at: Millis): void {
  switch (slot) {
    case "rto":
      t.rto = at;
      break;
    case "tlp":
      t.tlp = at;
      break;
    case "reorder":
      t.reorder = at;
      break;
    case "persist":
      t.persist = at;
      break;
    case "keepalive":
      t.keepalive = at;
      break;
    case "delayedAck":
      t.delayedAck = at;
      break;
    case "linger":
      t.linger = at;
      break;
    case "pacing":
      t.pacing = at;
      break;
  }
}
