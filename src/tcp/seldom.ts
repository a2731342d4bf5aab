/**
 * The holder of a connection's seldom-set fields (connection-seldom.ts tells which and why),
 * in a file of its own because both ends of Connection's class chain use it: ConnectionStats
 * (tcp-stats.ts), the bottom, holds the field and keeps its time of the first event here,
 * and ConnectionSeldom reads and writes the rest.
 */
import type { Millis } from "../env.js";
import type { TcpError, TcpErrorCode } from "./errors.js";
import type { FastOpenState } from "./fast-open/state.js";
import type { KeepAlive } from "./keepalive.js";
import type { Losses } from "./tcp-stats.js";
import type { TimeWaitRef } from "./time-wait.js";
import type { UrgentReceiver, UrgentSender } from "./urgent.js";

export class Seldom {
  /** ConnectionStats.createdAt: only until the connection is established (tcp-stats.ts). */
  createdAt: Millis | undefined = undefined;
  /** ConnectionStats' loss and reordering counters (tcp-stats.ts), once there is any. */
  losses: Losses | undefined = undefined;
  timeWaitRecord: TimeWaitRef | undefined = undefined;
  error: TcpError | undefined = undefined;
  lastChallengeAck: Millis | undefined = undefined;
  softError: TcpErrorCode | undefined = undefined;
  persistSince!: Millis; // tagged, set in the constructor: it shares the event's time, no box of its own (timers.ts)
  synSentAt!: Millis;
  ka: KeepAlive | undefined = undefined;
  fastOpen: FastOpenState | undefined = undefined;
  urgentOut: UrgentSender | undefined = undefined;
  urgentIn: UrgentReceiver | undefined = undefined;
  retransmits = 0;
  advmss = 0;
  initcwnd = 0;
  typeOfService = 0;

  constructor() {
    this.persistSince = this.synSentAt = 0;
  }

  /** Every field at its default: the holder can go. */
  get unused(): boolean {
    return (
      this.createdAt === undefined && this.losses === undefined && this.timeWaitRecord === undefined && this.error === undefined && this.lastChallengeAck === undefined &&
      this.softError === undefined && this.persistSince === 0 && this.synSentAt === 0 && this.ka === undefined &&
      this.fastOpen === undefined && this.urgentOut === undefined && this.urgentIn === undefined &&
      this.retransmits === 0 && this.advmss === 0 && this.initcwnd === 0 && this.typeOfService === 0
    );
  }
}
