/**
 * Fast Open cookies as a server makes and checks them (RFC 7413 4.1.2), computed the way
 * Linux does so that a cookie from synack equals the kernel's for the same key and
 * addresses (net/ipv4/tcp_fastopen.c __tcp_fastopen_cookie_gen_cipher): SipHash-2-4 over the
 * SYN's source then destination address (4 + 4 bytes for IPv4, 16 + 16 for IPv6), keyed by
 * the 128-bit `tcp_fastopen_key`, stored little-endian as an 8-byte cookie.
 *
 * The key is written as Linux's sysctl writes it: four 32-bit hex words joined by dashes,
 * optionally followed by a comma and a backup key that is accepted but never issued (key
 * rotation, Linux tcp_fastopen_cookie_gen_check returning 2).
 */
import type { Rng } from "../../env.js";
import type { IpAddress } from "../../wire/address.js";
import { InvalidArgumentError } from "../errors.js";
import { bytesLE, sipHash24 } from "./siphash.js";

/** Cookies Linux issues are 8 bytes (TCP_FASTOPEN_COOKIE_SIZE); 4..16 even bytes are valid on the wire. */
export const COOKIE_SIZE = 8;
export const COOKIE_MIN = 4;
export const COOKIE_MAX = 16;

/** One 128-bit key as SipHash's two 64-bit words. */
export interface FastOpenKey {
  k0: bigint;
  k1: bigint;
}

const KEY_FORMAT = /^([0-9a-f]{1,8})-([0-9a-f]{1,8})-([0-9a-f]{1,8})-([0-9a-f]{1,8})$/i;

/** Parses "a0bf63f7-ed803d81-cd641d30-cebc4a90" (Linux proc_tcp_fastopen_key's %x-%x-%x-%x). */
export function parseKey(text: string): FastOpenKey {
  const m = KEY_FORMAT.exec(text.trim());
  if (m === null) throw new InvalidArgumentError(`Fast Open key must be four hex words joined by '-', got ${JSON.stringify(text)}`);
  const w = m.slice(1, 5).map((h) => BigInt(Number.parseInt(h, 16)));
  // Each word is stored little-endian (cpu_to_le32), and the key read back as two
  // little-endian 64-bit words: the second word is the high half of k0.
  return { k0: (w[1]! << 32n) | w[0]!, k1: (w[3]! << 32n) | w[2]! };
}

/** The key in the sysctl's text form (what `cat tcp_fastopen_key` prints). */
export function formatKey(key: FastOpenKey): string {
  const hex = (v: bigint) => v.toString(16).padStart(8, "0");
  const M = 0xffffffffn;
  return [key.k0 & M, key.k0 >> 32n, key.k1 & M, key.k1 >> 32n].map(hex).join("-");
}

/** A primary key and an optional backup, parsed from "primary[,backup]". */
export function parseKeys(text: string): FastOpenKey[] {
  const parts = text.split(",");
  if (parts.length > 2) throw new InvalidArgumentError(`Fast Open keys: at most a primary and a backup, got ${parts.length}`);
  return parts.map(parseKey);
}

/** A random key (Linux tcp_fastopen_init_key_once with get_random_bytes). */
export function randomKey(rng: Rng): FastOpenKey {
  const word = () => BigInt(rng.nextU32() >>> 0);
  return { k0: (word() << 32n) | word(), k1: (word() << 32n) | word() };
}

/** The cookie for a SYN from `client` to `server` under `key`. */
export function makeCookie(key: FastOpenKey, client: IpAddress, server: IpAddress): Uint8Array {
  const n = client.byteLength;
  const message = new Uint8Array(2 * n);
  client.write(message, 0);
  server.write(message, n);
  return bytesLE(sipHash24(key.k0, key.k1, message));
}

/** Which key made `cookie`: 0 for the primary, 1 for the backup, -1 for none (a forged or stale cookie). */
export function checkCookie(keys: readonly FastOpenKey[], cookie: Uint8Array, client: IpAddress, server: IpAddress): number {
  if (cookie.length !== COOKIE_SIZE) return -1;
  return keys.findIndex((k) => sameBytes(makeCookie(k, client, server), cookie));
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** A cookie option's cookie is usable when 4..16 bytes and even (Linux tcp_parse_fastopen_option). */
export function validCookieLength(n: number): boolean {
  return n >= COOKIE_MIN && n <= COOKIE_MAX && n % 2 === 0;
}
