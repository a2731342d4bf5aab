/**
 * The arcs of RFC 9293's state diagram (section 3.3.2, figure 5): drawn by views/fsm.ts,
 * and the choices textbook mode offers when it asks which state comes next.
 */
import type { TcpState } from "../../../src/trace/events.js";

/** The arcs of the RFC's figure, with their labels (event / action). */
export const EDGES: Array<[TcpState, TcpState, string]> = [
  ["CLOSED", "LISTEN", "passive OPEN"],
  ["CLOSED", "SYN_SENT", "active OPEN / snd SYN"],
  ["LISTEN", "SYN_RCVD", "rcv SYN / snd SYN,ACK"],
  ["LISTEN", "SYN_SENT", "SEND / snd SYN"],
  ["SYN_SENT", "SYN_RCVD", "rcv SYN / snd SYN,ACK"],
  ["SYN_RCVD", "ESTABLISHED", "rcv ACK of SYN"],
  ["SYN_SENT", "ESTABLISHED", "rcv SYN,ACK / snd ACK"],
  ["SYN_RCVD", "LISTEN", "rcv RST"],
  ["SYN_RCVD", "FIN_WAIT_1", "CLOSE / snd FIN"],
  ["ESTABLISHED", "FIN_WAIT_1", "CLOSE / snd FIN"],
  ["ESTABLISHED", "CLOSE_WAIT", "rcv FIN / snd ACK"],
  ["FIN_WAIT_1", "FIN_WAIT_2", "rcv ACK of FIN"],
  ["FIN_WAIT_1", "CLOSING", "rcv FIN / snd ACK"],
  ["FIN_WAIT_2", "TIME_WAIT", "rcv FIN / snd ACK"],
  ["CLOSING", "TIME_WAIT", "rcv ACK of FIN"],
  ["CLOSE_WAIT", "LAST_ACK", "CLOSE / snd FIN"],
  ["LAST_ACK", "CLOSED", "rcv ACK of FIN"],
  ["TIME_WAIT", "CLOSED", "timeout = 2MSL"],
  ["SYN_SENT", "CLOSED", "CLOSE"],
];

/** The states the figure draws an arc to from `from`. */
export function diagramTargets(from: TcpState): TcpState[] {
  return EDGES.filter(([a]) => a === from).map(([, b]) => b);
}
