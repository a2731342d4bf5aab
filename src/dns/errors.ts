/**
 * Why a name could not be resolved, with the codes Node's `dns` module uses (they are
 * c-ares' names: `dns.NOTFOUND === "ENOTFOUND"`, ...), so code that switches on
 * `err.code` after `dns.resolve4()` reads synack's errors the same way.
 */
export type DnsErrorCode =
  /** The name does not exist (NXDOMAIN). */
  | "ENOTFOUND"
  /** The name exists but has no record of the asked type (NOERROR, empty answer). */
  | "ENODATA"
  /** The server failed (SERVFAIL). */
  | "ESERVFAIL"
  /** The server refused the query (REFUSED). */
  | "EREFUSED"
  /** The server could not read our query (FORMERR). */
  | "EFORMERR"
  /** The server does not implement the query (NOTIMP). */
  | "ENOTIMP"
  /** No server answered within the timeouts and attempts. */
  | "ETIMEOUT"
  /** Every server's port was closed (ICMP port unreachable). */
  | "ECONNREFUSED"
  /** An answer that could not be used: malformed, or truncated (TC) even over TCP or with no TCP to ask over. */
  | "EBADRESP"
  /** A name that cannot be queried (a label over 63 octets, ...) or a bad setting. */
  | "EINVAL"
  /** No name servers are configured. */
  | "ENOSERVERS"
  /** The lookup was cancelled (its socket was destroyed first). */
  | "ECANCELLED";

export class DnsError extends Error {
  /** The name asked about, as Node's dns errors carry it. */
  hostname: string | undefined;

  constructor(
    readonly code: DnsErrorCode,
    message: string,
    options?: { cause?: unknown; hostname?: string },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "DnsError";
    this.hostname = options?.hostname;
  }
}

/**
 * What getaddrinfo(3) would have said, for node:net's "getaddrinfo ENOTFOUND name": a
 * name that does not exist (or has no address) is ENOTFOUND; a resolver that could not
 * get an answer (timeouts, SERVFAIL, refused) is EAI_AGAIN, "try again later".
 */
export function getaddrinfoCode(e: DnsError): "ENOTFOUND" | "EAI_AGAIN" | "EINVAL" {
  if (e.code === "ENOTFOUND" || e.code === "ENODATA" || e.code === "ENOSERVERS") return "ENOTFOUND";
  if (e.code === "EINVAL") return "EINVAL";
  return "EAI_AGAIN";
}
