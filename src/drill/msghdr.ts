/**
 * `struct msghdr` as packetdrill scripts write it:
 * `{msg_name(...)=..., msg_iov(N)=[{..., LEN}, ...], msg_flags=0, msg_control=[...]}`.
 * A stream socket moves the iovecs' bytes as one call (Linux tcp_sendmsg and tcp_recvmsg
 * walk the whole msg_iter), so the runner needs their total length, and for MSG_ZEROCOPY
 * each iovec's (zerocopy-frags.ts). Ancillary data in (msg_control) is not emulated. For recvmsg() msg_flags and
 * msg_control are what the script expects back, kept here for cmsg.ts to check.
 */
import type { Expr } from "./ast.js";
import { numberOf } from "./constants.js";
import { DrillFailure, DrillUnsupportedError } from "./errors.js";

export interface MsgHdr {
  /** Total bytes of the iovecs. */
  length: number;
  /** Each iovec's length, in order (MSG_ZEROCOPY makes each one a fragment: zerocopy-frags.ts). */
  iovLengths: number[];
  /** recvmsg(): the msg_flags the script expects back; undefined when it wrote none. */
  flags?: Expr;
  /**
   * recvmsg(): the control messages the script expects, one struct cmsghdr each; undefined
   * when it wrote no msg_control, so the call has no buffer for them (msg_control NULL).
   */
  control?: Expr[];
}

/** Reads a script's msghdr; throws DrillFailure for a malformed one, DrillUnsupportedError for ancillary data sent. */
export function parseMsgHdr(e: Expr | undefined, pos: Expr["pos"], call: "sendmsg" | "recvmsg" = "sendmsg"): MsgHdr {
  if (e === undefined || e.type !== "struct") throw new DrillFailure(`${call}() expects a struct msghdr as its second argument`, e?.pos ?? pos);
  let iovLengths: number[] | undefined;
  const out: Pick<MsgHdr, "flags" | "control"> = {};
  for (const item of e.items) {
    if (item.type !== "field") throw new DrillFailure("a struct msghdr member is written name=value", item.pos);
    switch (item.name) {
      case "msg_name": // the script's address, as for sendto()
        break;
      case "msg_flags": // an output of recvmsg(); ignored on input
        if (call === "recvmsg") out.flags = item.value;
        break;
      case "msg_iov":
        iovLengths = iovLengthsOf(item.index, item.value);
        break;
      case "msg_control":
        if (call === "sendmsg") throw new DrillUnsupportedError("sendmsg() ancillary data (msg_control)", item.pos);
        if (item.value.type !== "array") throw new DrillFailure("msg_control is an array of struct cmsghdr", item.value.pos);
        out.control = item.value.items;
        break;
      case "msg_controllen":
        throw new DrillUnsupportedError(`${call}() with msg_controllen`, item.pos);
      default:
        throw new DrillFailure(`unknown struct msghdr member ${item.name}`, item.pos);
    }
  }
  if (iovLengths === undefined) throw new DrillFailure("struct msghdr without msg_iov", e.pos);
  return { length: iovLengths.reduce((a, b) => a + b, 0), iovLengths, ...out };
}

/** `msg_iov(N)=[{..., LEN}, ...]`: the iovecs' lengths; N, when given, must count them. */
function iovLengthsOf(index: Expr[] | undefined, value: Expr): number[] {
  if (value.type !== "array") throw new DrillFailure("msg_iov is an array of {base, len}", value.pos);
  const count = index?.[0] === undefined ? undefined : numberOf(index[0]);
  if (count !== undefined && count !== value.items.length) throw new DrillFailure(`msg_iov(${count}) lists ${value.items.length} iovecs`, value.pos);
  return value.items.map((iov) => {
    const len = iov.type === "struct" && iov.items.length === 2 ? numberOf(iov.items[1]!) : undefined;
    if (len === undefined || len < 0) throw new DrillFailure("an iovec is written {..., LEN}", iov.pos);
    return len;
  });
}
