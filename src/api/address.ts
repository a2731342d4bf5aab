/**
 * Addresses as users write them ("10.0.0.2", "fd00::2", port 80) and as the engine keeps
 * them (IpAddress). Only literals of either family are understood here; names go through
 * a `lookup` where an API offers one.
 */
import { IpAddress, parseIpAddress } from "../wire/address.js";
import { HostNotFoundError, InvalidArgumentError } from "./errors.js";
import { showValue } from "../show-value.js";

export interface SocketAddress {
  address: string;
  port: number;
  family: "IPv4" | "IPv6";
}

/**
 * "10.0.0.2" or "fd00::2" (RFC 4291 2.2 text; "[fd00::2]" as in URLs too) -> IpAddress; a
 * name that is not a literal is "not found" (no DNS here).
 */
export function resolveHostname(hostname: string): IpAddress {
  if (typeof hostname !== "string" || hostname.length === 0) throw new InvalidArgumentError(`hostname must be a non-empty string, got ${showValue(hostname)}`);
  const bare = hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
  const addr = parseIpAddress(bare);
  if (addr === undefined) throw new HostNotFoundError(`${hostname}: not an IP address literal (synack has no name resolution here)`);
  return addr;
}

export function checkPortNumber(name: string, port: unknown, allowZero: boolean): number {
  if (typeof port !== "number" || !Number.isInteger(port) || port < (allowZero ? 0 : 1) || port > 65535) {
    throw new InvalidArgumentError(`${name} must be an integer in ${allowZero ? 0 : 1}-65535, got ${showValue(port)}`);
  }
  return port;
}

export function formatAddress(addr: number | IpAddress): string {
  return typeof addr === "number" ? IpAddress.v4(addr).toString() : addr.toString();
}

/** "IPv4" or "IPv6", as node:net's `family` fields say it. */
export function familyName(addr: IpAddress): "IPv4" | "IPv6" {
  return addr.family === 6 ? "IPv6" : "IPv4";
}

export function socketAddress(addr: number | IpAddress, port: number): SocketAddress {
  const a = typeof addr === "number" ? IpAddress.v4(addr) : addr;
  return { address: a.toString(), port, family: familyName(a) };
}
