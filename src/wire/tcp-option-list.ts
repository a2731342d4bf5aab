/**
 * TCP options as the list of (kind, bytes) they are on the wire, in order, NOPs and EOL
 * included (RFC 9293 3.2). `parseTcp` folds options into a `TcpOptions` record, which is
 * what the engine needs; tools that must see or write the exact layout (a conformance
 * runner comparing `<mss 1460,nop,wscale 8>` with what was sent, a crafted test segment
 * with an unknown option) use this codec instead.
 */
import { fail, type ParseResult } from "./result.js";

export interface RawTcpOption {
  /** Option kind (0 EOL, 1 NOP, 2 MSS, 3 WS, 4 SACK-permitted, 5 SACK, 8 TS, 34 TFO, ...). */
  kind: number;
  /** The option's value bytes (after kind and length); empty for EOL and NOP. */
  data: Uint8Array;
}

const EOL = 0;
const NOP = 1;
const MAX_OPTION_BYTES = 40;

/**
 * Decodes `bytes[start, end)` (the options area of a TCP header). EOL ends the list (it is
 * reported, and the padding after it is not). A length byte that overruns the area or is
 * below 2 makes the list malformed.
 */
export function decodeTcpOptionList(bytes: Uint8Array, start: number, end: number): ParseResult<RawTcpOption[]> {
  if (start < 0 || end > bytes.length || start > end) return fail("truncated");
  const list: RawTcpOption[] = [];
  let i = start;
  while (i < end) {
    const kind = bytes[i]!;
    if (kind === EOL) {
      list.push({ kind, data: new Uint8Array(0) });
      break;
    }
    if (kind === NOP) {
      list.push({ kind, data: new Uint8Array(0) });
      i++;
      continue;
    }
    if (i + 1 >= end) return fail("bad-option");
    const len = bytes[i + 1]!;
    if (len < 2 || i + len > end) return fail("bad-option");
    list.push({ kind, data: bytes.slice(i + 2, i + len) });
    i += len;
  }
  return { ok: true, value: list };
}

/** Bytes `encodeTcpOptionList` writes for `list` before padding. */
export function tcpOptionListLength(list: readonly RawTcpOption[]): number {
  let n = 0;
  for (const o of list) n += o.kind === EOL || o.kind === NOP ? 1 : 2 + o.data.length;
  return n;
}

/**
 * Encodes `list` in order, padded with zero bytes (EOL) to a multiple of 4 as the data
 * offset requires. Throws RangeError when the options exceed the 40 bytes a header holds
 * or an option's value is longer than its length byte can say: callers build these lists
 * themselves, so this is a programming error rather than bad input.
 */
export function encodeTcpOptionList(list: readonly RawTcpOption[]): Uint8Array {
  const length = tcpOptionListLength(list);
  const padded = (length + 3) & ~3;
  if (padded > MAX_OPTION_BYTES) throw new RangeError(`TCP options take ${length} bytes; a header holds at most ${MAX_OPTION_BYTES}`);
  const out = new Uint8Array(padded);
  let i = 0;
  for (const o of list) {
    out[i++] = o.kind;
    if (o.kind === EOL || o.kind === NOP) continue;
    out[i++] = 2 + o.data.length;
    out.set(o.data, i);
    i += o.data.length;
  }
  return out;
}
