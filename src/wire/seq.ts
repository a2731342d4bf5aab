/**
 * Modular 32-bit sequence-number arithmetic (RFC 9293 section 3.4, RFC 1982).
 *
 * Sequence numbers wrap at 2^32, so they must never be compared with `<`:
 * `a` is "before" `b` when the signed 32-bit distance from a to b is positive.
 */

/** A TCP sequence number: an unsigned 32-bit integer. Branded so plain numbers are not mixed in by accident. */
export type Seq = number & { readonly __seq: unique symbol };

/** Wraps any integer into the sequence space. */
export function seq(n: number): Seq {
  return (n >>> 0) as Seq;
}

/** a + n, modulo 2^32. */
export function seqAdd(a: Seq, n: number): Seq {
  return ((a + n) >>> 0) as Seq;
}

/** Signed distance from b to a (a - b), in the range [-2^31, 2^31). */
export function seqDiff(a: Seq, b: Seq): number {
  return (a - b) | 0;
}

export function seqLt(a: Seq, b: Seq): boolean {
  return seqDiff(a, b) < 0;
}
export function seqLe(a: Seq, b: Seq): boolean {
  return seqDiff(a, b) <= 0;
}
export function seqGt(a: Seq, b: Seq): boolean {
  return seqDiff(a, b) > 0;
}
export function seqGe(a: Seq, b: Seq): boolean {
  return seqDiff(a, b) >= 0;
}
export function seqMax(a: Seq, b: Seq): Seq {
  return seqGe(a, b) ? a : b;
}
export function seqMin(a: Seq, b: Seq): Seq {
  return seqLe(a, b) ? a : b;
}

/** lo <= x < lo + len, in sequence space (a zero-length window contains nothing). */
export function seqInWindow(x: Seq, lo: Seq, len: number): boolean {
  const d = seqDiff(x, lo);
  return d >= 0 && d < len;
}

/**
 * A sequence number as a long-lived field keeps it: the int32 with the same 32 bits. V8
 * (64-bit, no pointer compression, as Node ships) keeps an int32 in the field itself as a
 * small integer, where a uint32 at or above 2^31, half of all sequence numbers, takes a
 * heap number of 16 bytes per field. `fromSeqField` gives the Seq back.
 *
 * Both stay this small on purpose: V8 always inlines a getter whose bytecode, with what it
 * inlines, is tiny, and a getter left as a call returns its uint32 boxed in a new heap number.
 */
export function toSeqField(s: Seq): number {
  return s | 0;
}
export function fromSeqField(n: number): Seq {
  return (n >>> 0) as Seq;
}
/** toSeqField and fromSeqField for a field that may hold no sequence number. */
export function toSeqFieldOpt(s: Seq | undefined): number | undefined {
  return s === undefined ? undefined : s | 0;
}
export function fromSeqFieldOpt(n: number | undefined): Seq | undefined {
  return n === undefined ? undefined : ((n >>> 0) as Seq);
}
