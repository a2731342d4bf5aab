/**
 * Addresses as users write them ("10.0.0.2", port 80) and as the engine keeps them
 * (uint32, number). Only IPv4 literals are understood: the stack has no resolver.
 */
import type { IpAddress } from "../wire/address.js";
import { formatIpv4Address, parseIpv4Address } from "../wire/ipv4.js";
import { HostNotFoundError, InvalidArgumentError } from "./errors.js";

export interface SocketAddress {
  address: string;
  port: number;
  family: "IPv4";
}

/** "10.0.0.2" -> uint32; a name that is not an IPv4 literal is "not found" (no DNS here). */
export function resolveHostname(hostname: string): number {
  if (typeof hostname !== "string" || hostname.length === 0) throw new InvalidArgumentError(`hostname must be a non-empty string, got ${String(hostname)}`);
  const addr = parseIpv4Address(hostname);
  if (addr === undefined) throw new HostNotFoundError(`${hostname}: not an IPv4 address (synack has no name resolution)`);
  return addr;
}

export function checkPortNumber(name: string, port: unknown, allowZero: boolean): number {
  if (typeof port !== "number" || !Number.isInteger(port) || port < (allowZero ? 0 : 1) || port > 65535) {
    throw new InvalidArgumentError(`${name} must be an integer in ${allowZero ? 0 : 1}-65535, got ${String(port)}`);
  }
  return port;
}

export function formatAddress(addr: number | IpAddress): string {
  return typeof addr === "number" ? formatIpv4Address(addr) : addr.toString();
}

export function socketAddress(addr: number, port: number): SocketAddress {
  return { address: formatIpv4Address(addr), port, family: "IPv4" };
}
