/**
 * A connection's timers as the state machine and the layer use them: arm, cancel and fire a
 * slot (each traced), clear them all, and the earliest deadline with the connection's place
 * in the layer's timer queue. Connection (connection.ts) extends this class.
 *
 * The deadlines live in a TimerSet of the connection's own only while one is armed. An idle
 * connection (nothing in flight, no delayed ACK, no keep-alive) points at the shared
 * NO_TIMERS instead, 88 bytes less per idle connection (bench/heap.js): the set is made by
 * the first arm and given back once nothing is armed and nothing buffered (Connection.settle,
 * which the layer calls after an event). So `timers` is replaced, not reset: read it afresh
 * after anything that may arm or cancel, never through a copy.
 */
import type { Millis } from "../env.js";
import type { FourTuple, TimerKind } from "../trace/events.js";
import type { Connection, ConnectionContext } from "./connection.js";
import { ConnectionFlags } from "./connection-flags.js";
import type { RttEstimator } from "./rtt.js";
import { NO_TIMERS, TimerSet, setSlotDeadline, slotDeadline, slotKind, type TimerSlot } from "./timers.js";

export abstract class ConnectionTimers extends ConnectionFlags {
  abstract override readonly ctx: ConnectionContext;
  abstract override readonly tuple: FourTuple;
  abstract get rtt(): RttEstimator;

  /** The armed deadlines (Infinity = not armed); NO_TIMERS, shared and never written, while none is. */
  timers: TimerSet = NO_TIMERS;
  /** What the linger slot times: TIME_WAIT's 2 MSL or the orphaned FIN_WAIT_2 timeout (a flag bit). */
  protected get lingerKind(): TimerKind { return this.lingerFinWait2 ? "fin-wait-2" : "time-wait"; }
  protected set lingerKind(kind: TimerKind) { this.lingerFinWait2 = kind === "fin-wait-2"; }

  /** This connection's place in the layer's timer queue, -1 when not in it (its deadline there is the queue's: timer-queue.ts). */
  timerIndex = -1;

  /** Earliest time onTimer has work, or Infinity. */
  get deadline(): Millis {
    return this.timers.earliest();
  }

  /** The set to write a deadline into: the connection's own, made now if it had none. */
  ownTimers(): TimerSet {
    return this.timers !== NO_TIMERS ? this.timers : this.makeTimers();
  }
  private makeTimers(): TimerSet {
    return (this.timers = new TimerSet());
  }

  /** Every timer off (the connection closed or handed over to a TIME_WAIT record). */
  clearTimers(): void {
    this.timers = NO_TIMERS;
  }

  /** Arms `slot` at `at` (traced). */
  armTimer(now: Millis, slot: TimerSlot, at: Millis): void {
    setSlotDeadline(this.ownTimers(), slot, at);
    if (this.ctx.trace.enabled) {
      this.ctx.trace.emit({
        type: "timer-armed", time: now, host: this.ctx.hostName, tuple: this.tuple,
        timer: slotKind(slot, this.lingerKind), at, backoff: slot === "rto" || slot === "persist" ? this.rtt.backoff : 0,
      });
    }
    this.ctx.touched(this as unknown as Connection, false); // Connection is the one subclass
  }

  cancelTimer(now: Millis, slot: TimerSlot): void {
    if (slotDeadline(this.timers, slot) === Infinity) return;
    setSlotDeadline(this.timers, slot, Infinity);
    if (this.ctx.trace.enabled) {
      this.ctx.trace.emit({ type: "timer-cancelled", time: now, host: this.ctx.hostName, tuple: this.tuple, timer: slotKind(slot, this.lingerKind) });
    }
  }

  /** `slot` is due: off, and traced as fired (the caller does what it times). */
  fireTimer(now: Millis, slot: TimerSlot): void {
    if (slotDeadline(this.timers, slot) !== Infinity) setSlotDeadline(this.timers, slot, Infinity);
    if (this.ctx.trace.enabled) {
      this.ctx.trace.emit({
        type: "timer-fired", time: now, host: this.ctx.hostName, tuple: this.tuple,
        timer: slotKind(slot, this.lingerKind), backoff: this.rtt.backoff,
      });
    }
  }
}
