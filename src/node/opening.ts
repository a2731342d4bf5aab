/**
 * Classes whose instances only a static `open()` can make (a TUN device, a UDP tunnel: each
 * needs a descriptor or socket opened first). TypeScript's `private constructor` does not
 * exist at run time, so from JavaScript `new UdpTunnel()` used to fail inside the
 * constructor with a TypeError about `undefined`; the token turns that into Node's own
 * error for it (ERR_ILLEGAL_CONSTRUCTOR) with the way to do it right.
 */
export const OPENING: unique symbol = Symbol("synack.opening");

export function checkOpening(token: unknown, className: string): void {
  if (token === OPENING) return;
  const e = new TypeError(`${className} has no public constructor; use ${className}.open(options)`) as TypeError & { code: string };
  e.code = "ERR_ILLEGAL_CONSTRUCTOR";
  throw e;
}
