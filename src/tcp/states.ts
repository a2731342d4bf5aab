/**
 * Groups of RFC 9293 states that several modules ask about.
 */
import type { TcpState } from "../trace/events.js";

/**
 * The synchronized states (RFC 9293 3.5.2, 3.10.7.4): both sides' initial sequence numbers
 * are known, so segments carry ACKs and keep-alive and window updates make sense.
 */
export const SYNCHRONIZED: ReadonlySet<TcpState> = new Set<TcpState>(["ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT"]);
