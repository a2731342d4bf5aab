/**
 * What recvmsg() hands back besides the bytes, as packetdrill checks it: msg_flags and the
 * control messages (struct cmsghdr) the kernel wrote into msg_control. synack writes two
 * kinds: TCP_INQ's TCP_CM_INQ (Linux tcp_recvmsg: put_cmsg(msg, SOL_TCP, TCP_CM_INQ,
 * sizeof(int), &inq)), and with MSG_ERRQUEUE an error queue entry as IP_RECVERR, or
 * IPV6_RECVERR on an AF_INET6 socket, IPv4-mapped or not (Linux inet_recv_error picks by
 * the socket's family: ip_recv_error / ipv6_recv_error): a MSG_ZEROCOPY completion alone,
 * a TX timestamp after its SCM_TIMESTAMPING (struct scm_timestamping; Linux
 * sock_recv_timestamp puts it before the IP_RECVERR). A script expecting any other kind is
 * unsupported.
 *
 * The checks come out as the runner's output arguments, in the order a reader wants the
 * first mismatch: msg_flags, how many messages, then each message's fields.
 */
import type { Expr } from "./ast.js";
import { CONSTANTS, describeExpr, ERRNO, numberOf } from "./constants.js";
import { DrillFailure, DrillUnsupportedError, type SourcePos } from "./errors.js";
import type { MsgHdr } from "./msghdr.js";
import type { TxTimestamp, ZerocopyCompletion } from "../tcp/error-queue.js";

/** A control message with an int payload, a struct sock_extended_err or a struct scm_timestamping, as the kernel wrote it. */
export interface ControlMessage {
  level: number;
  type: number;
  data: number | ExtendedError | ScmTimestamping;
}

/** struct scm_timestamping's ts[0], the software stamp, in nanoseconds of script time (ts[1] and ts[2], hardware, stay zero). */
export interface ScmTimestamping {
  ns: number;
}

/** struct sock_extended_err (include/uapi/linux/errqueue.h), the fields scripts check. */
export interface ExtendedError {
  ee_errno: number;
  ee_origin: number;
  ee_type: number;
  ee_code: number;
  ee_pad: number;
  ee_info: number;
  ee_data: number;
}

/** One value the script wrote in recvmsg()'s msghdr and the value synack produced. */
export interface RecvmsgOutput {
  what: string;
  expected: Expr;
  actual: number;
  /** A time in nanoseconds: it matches within the script's tolerance, as packetdrill checks a timestamp. */
  time?: boolean;
}

/** CMSG_LEN(sizeof(int)) on x86-64: a 16-byte struct cmsghdr and the int. */
const CMSG_LEN_INT = 16 + 4;
/** CMSG_LEN(sizeof(struct scm_timestamping)): three 16-byte timespecs. */
const CMSG_LEN_TIMESTAMPING = 16 + 48;
/** CMSG_LEN of Linux's errhdr: struct sock_extended_err (16) and the offender's sockaddr_in (16) or sockaddr_in6 (28). */
const CMSG_LEN_RECVERR = { 4: 16 + 16 + 16, 6: 16 + 16 + 28 } as const;

/** TCP_INQ's control message: what is left to read after this call (Connection.inqHint). */
export function inqMessage(inq: number): ControlMessage {
  return { level: CONSTANTS.SOL_TCP!, type: CONSTANTS.TCP_CM_INQ!, data: inq };
}

/**
 * A MSG_ZEROCOPY completion as recvmsg(MSG_ERRQUEUE) reports it (Linux __msg_zerocopy_callback):
 * no errno, origin SO_EE_ORIGIN_ZEROCOPY, ids lo..hi in ee_info..ee_data.
 */
export function zerocopyMessage(socketFamily: 4 | 6, c: ZerocopyCompletion): ControlMessage {
  return {
    level: socketFamily === 6 ? CONSTANTS.SOL_IPV6! : CONSTANTS.SOL_IP!,
    type: socketFamily === 6 ? CONSTANTS.IPV6_RECVERR! : CONSTANTS.IP_RECVERR!,
    data: { ee_errno: 0, ee_origin: CONSTANTS.SO_EE_ORIGIN_ZEROCOPY!, ee_type: 0, ee_code: c.copied ? CONSTANTS.SO_EE_CODE_ZEROCOPY_COPIED! : 0, ee_pad: 0, ee_info: c.lo, ee_data: c.hi },
  };
}

/**
 * A TX timestamp as recvmsg(MSG_ERRQUEUE) reports it (Linux __skb_complete_tx_timestamp and
 * sock_recv_timestamp): SCM_TIMESTAMPING with the software time when the socket asks for
 * software reports (SOF_TIMESTAMPING_SOFTWARE; no stamp set means no message), then
 * IP_RECVERR with errno ENOMSG, origin SO_EE_ORIGIN_TIMESTAMPING, the SCM_TSTAMP_* type in
 * ee_info and the key in ee_data. `ns` is the stamp's time in script nanoseconds.
 */
export function timestampMessages(socketFamily: 4 | 6, t: TxTimestamp, software: boolean, ns: number): ControlMessage[] {
  const err: ControlMessage = {
    level: socketFamily === 6 ? CONSTANTS.SOL_IPV6! : CONSTANTS.SOL_IP!,
    type: socketFamily === 6 ? CONSTANTS.IPV6_RECVERR! : CONSTANTS.IP_RECVERR!,
    data: { ee_errno: ERRNO.ENOMSG!, ee_origin: CONSTANTS.SO_EE_ORIGIN_TIMESTAMPING!, ee_type: 0, ee_code: 0, ee_pad: 0, ee_info: t.type, ee_data: t.key },
  };
  if (!software) return [err];
  return [{ level: CONSTANTS.SOL_SOCKET!, type: CONSTANTS.SCM_TIMESTAMPING!, data: { ns } }, err];
}

/**
 * The checks of one recvmsg() that returned `got`; throws DrillUnsupportedError for a kind
 * of message synack never writes. `flags` are msg_flags the call set besides MSG_CTRUNC
 * (MSG_ERRQUEUE for a read of the error queue).
 */
export function recvmsgOutputs(msg: MsgHdr, got: ControlMessage[], pos: SourcePos, flags = 0, socketFamily: 4 | 6 = 4): RecvmsgOutput[] {
  const expected = (msg.control ?? []).map(expectedMessage);
  // Without a control buffer put_cmsg writes nothing and sets MSG_CTRUNC (Linux net/core/scm.c).
  const truncated = msg.control === undefined && got.length > 0;
  const outputs: RecvmsgOutput[] = [];
  if (msg.flags !== undefined) outputs.push({ what: "msg_flags", expected: msg.flags, actual: flags | (truncated ? CONSTANTS.MSG_CTRUNC! : 0) });
  if (msg.control === undefined) return outputs;
  outputs.push({ what: "control messages", expected: { type: "int", value: expected.length, pos }, actual: got.length });
  expected.forEach((e, i) => {
    const g = got[i];
    if (g === undefined) return; // the count above already differs
    const data = g.data;
    const name = typeof data === "number" ? "TCP_CM_INQ" : "ns" in data ? "SCM_TIMESTAMPING" : socketFamily === 6 ? "IPV6_RECVERR" : "IP_RECVERR";
    if (e.len !== undefined) outputs.push({ what: `${name} cmsg_len`, expected: e.len, actual: typeof data === "number" ? CMSG_LEN_INT : "ns" in data ? CMSG_LEN_TIMESTAMPING : CMSG_LEN_RECVERR[socketFamily] });
    outputs.push({ what: `${name} cmsg_level`, expected: e.level, actual: g.level });
    outputs.push({ what: `${name} cmsg_type`, expected: e.type, actual: g.type });
    // Another kind of message than the script expects here: the level or type check above fails first.
    const [lv, tv] = [numberOf(e.level), numberOf(e.type)];
    if ((lv !== undefined && lv !== g.level) || (tv !== undefined && tv !== g.type)) return;
    if (typeof data !== "number" && "ns" in data) {
      if (e.data.type === "ellipsis") return;
      outputs.push({ what: `${name} ts[0] (ns)`, expected: scmTime(e.data), actual: data.ns, time: true });
      return;
    }
    if (typeof data === "number") {
      if (e.data.type === "struct") throw new DrillUnsupportedError(`${name} with cmsg_data ${describeExpr(e.data)}`, e.data.pos);
      outputs.push({ what: `${name} cmsg_data`, expected: e.data, actual: data });
      return;
    }
    // A struct sock_extended_err: each field the script names, in its order.
    if (e.data.type === "ellipsis") return;
    if (e.data.type !== "struct") throw new DrillUnsupportedError(`${name} with cmsg_data ${describeExpr(e.data)}`, e.data.pos);
    for (const f of e.data.items) {
      if (f.type !== "field" || !(f.name in data)) throw new DrillUnsupportedError(`sock_extended_err member ${f.type === "field" ? f.name : describeExpr(f)}`, f.pos);
      outputs.push({ what: `${name} ${f.name}`, expected: f.value, actual: data[f.name as keyof ExtendedError] });
    }
  });
  return outputs;
}

/** `{scm_sec=S, scm_nsec=N}` (packetdrill's form of ts[0], in script time) as nanoseconds. */
function scmTime(e: Expr): Expr {
  if (e.type !== "struct") throw new DrillUnsupportedError(`SCM_TIMESTAMPING with cmsg_data ${describeExpr(e)}`, e.pos);
  let ns = 0;
  for (const f of e.items) {
    if (f.type !== "field" || (f.name !== "scm_sec" && f.name !== "scm_nsec")) throw new DrillUnsupportedError(`scm_timestamping member ${f.type === "field" ? f.name : describeExpr(f)}`, f.pos);
    const v = numberOf(f.value);
    if (v === undefined) throw new DrillUnsupportedError(`scm_timestamping ${f.name}=...`, f.pos);
    ns += f.name === "scm_sec" ? v * 1e9 : v;
  }
  return { type: "int", value: ns, pos: e.pos };
}

interface ExpectedMessage {
  len: Expr | undefined;
  level: Expr;
  type: Expr;
  data: Expr;
}

/**
 * `{cmsg_level=SOL_TCP, cmsg_type=TCP_CM_INQ, cmsg_data=N}` or `{cmsg_level=SOL_IP,
 * cmsg_type=IP_RECVERR, cmsg_data={ee_errno=..., ...}}` (IPv6's too); cmsg_len optional.
 */
function expectedMessage(e: Expr): ExpectedMessage {
  if (e.type !== "struct") throw new DrillFailure("a control message is written {cmsg_level=..., cmsg_type=..., cmsg_data=...}", e.pos);
  const field = (name: string): Expr | undefined => e.items.find((f): f is Extract<Expr, { type: "field" }> => f.type === "field" && f.name === name)?.value;
  const level = field("cmsg_level");
  const type = field("cmsg_type");
  const data = field("cmsg_data");
  if (level === undefined || type === undefined || data === undefined) throw new DrillFailure("a control message needs cmsg_level, cmsg_type and cmsg_data", e.pos);
  const inq = numberOf(level) === CONSTANTS.SOL_TCP && numberOf(type) === CONSTANTS.TCP_CM_INQ;
  const recverr = (numberOf(level) === CONSTANTS.SOL_IP && numberOf(type) === CONSTANTS.IP_RECVERR) || (numberOf(level) === CONSTANTS.SOL_IPV6 && numberOf(type) === CONSTANTS.IPV6_RECVERR);
  const stamp = numberOf(level) === CONSTANTS.SOL_SOCKET && numberOf(type) === CONSTANTS.SCM_TIMESTAMPING;
  if (!inq && !recverr && !stamp) throw new DrillUnsupportedError(`recvmsg() control message ${describeExpr(level)}/${describeExpr(type)}`, e.pos);
  if (inq && data.type !== "int" && data.type !== "ellipsis") throw new DrillUnsupportedError(`TCP_CM_INQ with cmsg_data ${describeExpr(data)}`, data.pos);
  if (recverr && data.type !== "struct" && data.type !== "ellipsis") throw new DrillUnsupportedError(`IP_RECVERR with cmsg_data ${describeExpr(data)}`, data.pos);
  return { len: field("cmsg_len"), level, type, data };
}
