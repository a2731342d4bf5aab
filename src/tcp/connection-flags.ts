/**
 * A connection's yes/no states and its listener's port, kept in one small integer (Linux
 * keeps such flags in bitfields of its sockets too): one field instead of eleven, 80 B less
 * per connection on a 64-bit heap (bench/heap.js). Connection (connection.ts) extends this class; the layer
 * (layer.ts, flush-list.ts) and input.ts use the flags through the accessors below.
 */
import { Negotiation } from "./options.js";

const PASSIVE = 1 << 0;
const ORPHANED = 1 << 1;
const PENDING_WAKE = 1 << 2;
const WAKE_QUEUED = 1 << 3;
const DIRTY_QUEUED = 1 << 4;
const SYN_ACK_PENDING = 1 << 5;
const SYN_ACK_SENT = 1 << 6;
const LINGER_FIN_WAIT_2 = 1 << 7;
const RECEIVING = 1 << 8;
const PEER_WINDOW_SCALE = 1 << 9;
/** The bits above the flags hold the listener's port + 1 (0: no listener), read only as the state changes. */
const PORT_SHIFT = 10;
const FLAG_BITS = (1 << PORT_SHIFT) - 1;

export abstract class ConnectionFlags extends Negotiation {
  private flags = 0;

  private setFlag(bit: number, on: boolean): void {
    this.flags = on ? this.flags | bit : this.flags & ~bit;
  }

  /** Set by a listener for its own bookkeeping: its port (undefined: not a listener's). */
  get listenerPort(): number | undefined {
    const p = this.flags >>> PORT_SHIFT;
    return p === 0 ? undefined : p - 1;
  }
  set listenerPort(port: number | undefined) {
    this.flags = (this.flags & FLAG_BITS) | (port === undefined ? 0 : (port + 1) << PORT_SHIFT);
  }

  /** Created by a listener (passive open) rather than connect(). */
  get passive(): boolean { return (this.flags & PASSIVE) !== 0; }
  protected set passive(on: boolean) { this.setFlag(PASSIVE, on); }
  /** The application called close(): it will neither read nor write again. */
  get orphaned(): boolean { return (this.flags & ORPHANED) !== 0; }
  set orphaned(on: boolean) { this.setFlag(ORPHANED, on); }
  /** The layer's bookkeeping: set when the application should be told something; cleared when the layer calls onWake. */
  get pendingWake(): boolean { return (this.flags & PENDING_WAKE) !== 0; }
  set pendingWake(on: boolean) { this.setFlag(PENDING_WAKE, on); }
  /** The layer has this connection in its wake list (so it is listed once). */
  get wakeQueued(): boolean { return (this.flags & WAKE_QUEUED) !== 0; }
  set wakeQueued(on: boolean) { this.setFlag(WAKE_QUEUED, on); }
  /** Owned by the layer's flush list (flush-list.ts): this connection is on it. */
  get dirtyQueued(): boolean { return (this.flags & DIRTY_QUEUED) !== 0; }
  set dirtyQueued(on: boolean) { this.setFlag(DIRTY_QUEUED, on); }
  /** A SYN-ACK is owed (passive open or simultaneous open) and must be (re)sent. */
  get synAckPending(): boolean { return (this.flags & SYN_ACK_PENDING) !== 0; }
  set synAckPending(on: boolean) { this.setFlag(SYN_ACK_PENDING, on); }
  /** Our SYN-ACK went out at least once (so the next one is a retransmission). */
  protected get synAckSent(): boolean { return (this.flags & SYN_ACK_SENT) !== 0; }
  protected set synAckSent(on: boolean) { this.setFlag(SYN_ACK_SENT, on); }
  /** The linger timer times the orphaned FIN_WAIT_2 timeout, not TIME_WAIT's 2 MSL (connection-timers.ts). */
  protected get lingerFinWait2(): boolean { return (this.flags & LINGER_FIN_WAIT_2) !== 0; }
  protected set lingerFinWait2(on: boolean) { this.setFlag(LINGER_FIN_WAIT_2, on); }
  /** The last segment or timer event brought data: more is likely on its way, so the connection does not settle (Connection.settle). */
  get receiving(): boolean { return (this.flags & RECEIVING) !== 0; }
  set receiving(on: boolean) { this.setFlag(RECEIVING, on); }
  /** Negotiation's (options.ts): the peer's SYN offered window scale and we scale too. */
  protected get peerOfferedWindowScale(): boolean { return (this.flags & PEER_WINDOW_SCALE) !== 0; }
  protected set peerOfferedWindowScale(on: boolean) { this.setFlag(PEER_WINDOW_SCALE, on); }
}
