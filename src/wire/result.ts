/** Parsers never throw on untrusted bytes; they return one of these. */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; reason: ParseError };

/** Why a packet could not be parsed. Stable strings: they appear in drop counters and traces. */
export type ParseError =
  | "truncated"
  | "bad-version"
  | "bad-header-length"
  | "bad-total-length"
  | "bad-checksum"
  | "bad-data-offset"
  | "bad-option"
  | "bad-flags"
  | "bad-length";

export function fail<T>(reason: ParseError): ParseResult<T> {
  return { ok: false, reason };
}
