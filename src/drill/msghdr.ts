/**
 * sendmsg()'s `struct msghdr` as packetdrill scripts write it:
 * `{msg_name(...)=..., msg_iov(N)=[{..., LEN}, ...], msg_flags=0}`. A stream socket sends the
 * iovecs' bytes as one write (Linux tcp_sendmsg copies the whole msg_iter), so all the
 * runner needs is their total length; ancillary data (msg_control) is not emulated.
 */
import type { Expr } from "./ast.js";
import { numberOf } from "./constants.js";
import { DrillFailure, DrillUnsupportedError } from "./errors.js";

export interface MsgHdr {
  /** Total bytes of the iovecs. */
  length: number;
}

/** Reads a script's msghdr; throws DrillFailure for a malformed one, DrillUnsupportedError for ancillary data. */
export function parseMsgHdr(e: Expr | undefined, pos: Expr["pos"]): MsgHdr {
  if (e === undefined || e.type !== "struct") throw new DrillFailure("sendmsg() expects a struct msghdr as its second argument", e?.pos ?? pos);
  let length: number | undefined;
  for (const item of e.items) {
    if (item.type !== "field") throw new DrillFailure("a struct msghdr member is written name=value", item.pos);
    switch (item.name) {
      case "msg_name": // the script's address, as for sendto()
      case "msg_flags": // an output of recvmsg(); ignored on input
        break;
      case "msg_iov":
        length = iovLength(item.index, item.value);
        break;
      case "msg_control":
      case "msg_controllen":
        throw new DrillUnsupportedError("sendmsg() ancillary data (msg_control)", item.pos);
      default:
        throw new DrillFailure(`unknown struct msghdr member ${item.name}`, item.pos);
    }
  }
  if (length === undefined) throw new DrillFailure("struct msghdr without msg_iov", e.pos);
  return { length };
}

/** `msg_iov(N)=[{..., LEN}, ...]`: the iovecs' total length; N, when given, must count them. */
function iovLength(index: Expr[] | undefined, value: Expr): number {
  if (value.type !== "array") throw new DrillFailure("msg_iov is an array of {base, len}", value.pos);
  const count = index?.[0] === undefined ? undefined : numberOf(index[0]);
  if (count !== undefined && count !== value.items.length) throw new DrillFailure(`msg_iov(${count}) lists ${value.items.length} iovecs`, value.pos);
  let total = 0;
  for (const iov of value.items) {
    const len = iov.type === "struct" && iov.items.length === 2 ? numberOf(iov.items[1]!) : undefined;
    if (len === undefined || len < 0) throw new DrillFailure("an iovec is written {..., LEN}", iov.pos);
    total += len;
  }
  return total;
}
