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
  | "bad-length"
  /** IPv6: a Next Header value that may not appear where it does (RFC 8200 4.1: hop-by-hop not first). */
  | "bad-next-header"
  /** IPv6: a routing header this host does not implement with segments left (RFC 8200 4.4, RFC 5095). */
  | "bad-routing-header"
  /** IPv6: a fragment whose length or offset RFC 8200 4.5 forbids. */
  | "bad-fragment";

export function fail<T>(reason: ParseError): ParseResult<T> {
  return { ok: false, reason };
}
