/**
 * What recvmsg() hands back besides the bytes, as packetdrill checks it: msg_flags and the
 * control messages (struct cmsghdr) the kernel wrote into msg_control. synack writes one
 * kind, TCP_INQ's TCP_CM_INQ (Linux tcp_recvmsg: put_cmsg(msg, SOL_TCP, TCP_CM_INQ,
 * sizeof(int), &inq)); a script expecting any other kind is unsupported.
 *
 * The checks come out as the runner's output arguments, in the order a reader wants the
 * first mismatch: msg_flags, how many messages, then each message's fields.
 */
import type { Expr } from "./ast.js";
import { CONSTANTS, describeExpr, numberOf } from "./constants.js";
import { DrillFailure, DrillUnsupportedError, type SourcePos } from "./errors.js";
import type { MsgHdr } from "./msghdr.js";

/** A control message with an int payload, as the kernel wrote it. */
export interface ControlMessage {
  level: number;
  type: number;
  data: number;
}

/** One value the script wrote in recvmsg()'s msghdr and the value synack produced. */
export interface RecvmsgOutput {
  what: string;
  expected: Expr;
  actual: number;
}

/** CMSG_LEN(sizeof(int)) on x86-64: a 16-byte struct cmsghdr and the int. */
const CMSG_LEN_INT = 16 + 4;

/** TCP_INQ's control message: what is left to read after this call (Connection.inqHint). */
export function inqMessage(inq: number): ControlMessage {
  return { level: CONSTANTS.SOL_TCP!, type: CONSTANTS.TCP_CM_INQ!, data: inq };
}

/** The checks of one recvmsg() that returned `got`; throws DrillUnsupportedError for a kind of message synack never writes. */
export function recvmsgOutputs(msg: MsgHdr, got: ControlMessage[], pos: SourcePos): RecvmsgOutput[] {
  const expected = (msg.control ?? []).map(expectedMessage);
  // Without a control buffer put_cmsg writes nothing and sets MSG_CTRUNC (Linux net/core/scm.c).
  const truncated = msg.control === undefined && got.length > 0;
  const outputs: RecvmsgOutput[] = [];
  if (msg.flags !== undefined) outputs.push({ what: "msg_flags", expected: msg.flags, actual: truncated ? CONSTANTS.MSG_CTRUNC! : 0 });
  if (msg.control === undefined) return outputs;
  outputs.push({ what: "control messages", expected: { type: "int", value: expected.length, pos }, actual: got.length });
  expected.forEach((e, i) => {
    const g = got[i];
    if (g === undefined) return; // the count above already differs
    const name = "TCP_CM_INQ";
    if (e.len !== undefined) outputs.push({ what: `${name} cmsg_len`, expected: e.len, actual: CMSG_LEN_INT });
    outputs.push({ what: `${name} cmsg_level`, expected: e.level, actual: g.level });
    outputs.push({ what: `${name} cmsg_type`, expected: e.type, actual: g.type });
    outputs.push({ what: `${name} cmsg_data`, expected: e.data, actual: g.data });
  });
  return outputs;
}

interface ExpectedMessage {
  len: Expr | undefined;
  level: Expr;
  type: Expr;
  data: Expr;
}

/** `{cmsg_level=SOL_TCP, cmsg_type=TCP_CM_INQ, cmsg_data=N}` (cmsg_len optional). */
function expectedMessage(e: Expr): ExpectedMessage {
  if (e.type !== "struct") throw new DrillFailure("a control message is written {cmsg_level=..., cmsg_type=..., cmsg_data=...}", e.pos);
  const field = (name: string): Expr | undefined => e.items.find((f): f is Extract<Expr, { type: "field" }> => f.type === "field" && f.name === name)?.value;
  const level = field("cmsg_level");
  const type = field("cmsg_type");
  const data = field("cmsg_data");
  if (level === undefined || type === undefined || data === undefined) throw new DrillFailure("a control message needs cmsg_level, cmsg_type and cmsg_data", e.pos);
  const known = numberOf(level) === CONSTANTS.SOL_TCP && numberOf(type) === CONSTANTS.TCP_CM_INQ;
  if (!known) throw new DrillUnsupportedError(`recvmsg() control message ${describeExpr(level)}/${describeExpr(type)}`, e.pos);
  if (data.type !== "int" && data.type !== "ellipsis") throw new DrillUnsupportedError(`TCP_CM_INQ with cmsg_data ${describeExpr(data)}`, data.pos);
  return { len: field("cmsg_len"), level, type, data };
}
