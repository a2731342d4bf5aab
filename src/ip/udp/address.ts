/**
 * Addresses as the UDP API takes and gives them: an IPv4 uint32, as the API has always
 * done, or an IpAddress (either family; IPv6 datagrams are reported with IpAddress). One
 * code path compares them by key: IpAddress.v4(n).key is n, so both forms of an IPv4
 * address give the same key. 0 (or an unspecified IpAddress) binds every local address.
 */
import { IpAddress, type AddressKey } from "../../wire/address.js";

export type UdpAddress = number | IpAddress;

export function udpKey(a: UdpAddress): AddressKey {
  return typeof a === "number" ? a >>> 0 : a.key;
}

export function udpIp(a: UdpAddress): IpAddress {
  return typeof a === "number" ? IpAddress.v4(a) : a;
}

/** Every local address (0, 0.0.0.0 or ::). */
export function isWildcard(a: UdpAddress): boolean {
  return typeof a === "number" ? a === 0 : a.isUnspecified;
}

/** How the API reports an address of a datagram: a uint32 for IPv4 (unchanged), IpAddress for IPv6. */
export function reported(a: IpAddress): UdpAddress {
  return a.family === 4 ? a.w3 : a;
}
