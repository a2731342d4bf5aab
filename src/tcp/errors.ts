/**
 * Why a connection ended abnormally. The codes are the POSIX names users already switch
 * on (and node:net uses), so they stay stable across every API layer.
 */
export type TcpErrorCode =
  /** RST in answer to our SYN (RFC 9293 3.10.7.3): nobody listens there. */
  | "ECONNREFUSED"
  /** RST on a synchronized connection (RFC 9293 3.10.7.4). */
  | "ECONNRESET"
  /** Retries exhausted: SYN, data, FIN or keep-alive probes went unanswered. */
  | "ETIMEDOUT"
  /** The local application aborted the connection (sent RST). */
  | "ECONNABORTED"
  /** send() after the sending side was closed. */
  | "EPIPE";

export class TcpError extends Error {
  constructor(
    readonly code: TcpErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "TcpError";
  }
}
