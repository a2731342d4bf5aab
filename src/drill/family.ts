/**
 * packetdrill's three IP flavours (`--ip_version`), and what each one means for a run:
 *
 *   flavour            socket domain  addresses the socket sees      on the wire
 *   ipv4               AF_INET        IPv4                           IPv4
 *   ipv4-mapped-ipv6   AF_INET6       ::ffff:a.b.c.d (RFC 4291 2.5.5.2)  IPv4
 *   ipv6               AF_INET6       IPv6                           IPv6
 *
 * Linux runs every script of its corpus in all three (NOTES.md 1.3 in the corpus, which
 * gives the addresses and `-D` defines of each run). Scripts name no family: `socket(...)`,
 * `bind(3, ..., ...)` and packet lines without addresses are filled in from the flavour,
 * so one script checks the IPv4 and the IPv6 code paths of the stack under test.
 *
 * The IPv6 run's link has an MTU of 1520 (`--mtu=1520`), 20 bytes more than the IPv4
 * runs' 1500, so the MSS synack announces (MTU less the IP and TCP headers) is 1460 in
 * every flavour and the scripts' `mss 1460` holds for all three.
 */
import { IpAddress, parseIpAddress, type IpFamily } from "../wire/address.js";

export type IpVersion = "ipv4" | "ipv4-mapped-ipv6" | "ipv6";

export const IP_VERSIONS: readonly IpVersion[] = ["ipv4", "ipv4-mapped-ipv6", "ipv6"];

/** What a flavour fixes for a run: families, default addresses, link MTU, `-D` defines. */
export interface IpFlavour {
  version: IpVersion;
  /** The family of the script's sockets (packetdrill's socket_domain). */
  socketFamily: IpFamily;
  /** The family of the packets on the wire (packetdrill's wire_protocol). */
  wireFamily: IpFamily;
  /** synack's address (`--local_ip`). */
  local: IpAddress;
  /** The script's side (`--remote_ip`). */
  remote: IpAddress;
  /** `--gateway_ip`: only checked for its family; the drill host's routes are on-link. */
  gateway: IpAddress;
  /** The link MTU (`--mtu`). */
  mtu: number;
  defines: ReadonlyMap<string, string>;
}

function address(text: string): IpAddress {
  const a = parseIpAddress(text);
  if (a === undefined) throw new RangeError(`bad built-in address ${text}`);
  return a;
}

/** The addresses of the IPv4 and the mapped runs: 192.168.0.1 (RFC 1918) and 192.0.2.1 (TEST-NET-1, RFC 5737). */
const V4 = { local: address("192.168.0.1"), remote: address("192.0.2.1"), gateway: address("192.168.0.1"), mtu: 1500 };
/** The IPv6 run's: unique-local addresses (RFC 4193), the gateway on the local /48. */
const V6 = { local: address("fd3d:a0b:17d6::1"), remote: address("fd3d:fa7b:d17d::1"), gateway: address("fd3d:a0b:17d6:8888::1"), mtu: 1520 };

/** packetdrill's own default remote IPv6 address (config.c), from the documentation prefix of RFC 3849. */
export const PACKETDRILL_V6_REMOTE = address("2001:db8::1");

/**
 * The defines of each run. TFO_COOKIE is the Fast Open cookie Linux issues to the remote
 * address under the corpus's key, so it differs between the IPv4 and the IPv6 addresses;
 * CODE (an ICMPv4 unreachable code) exists only where ICMP is ICMPv4; the socket-level
 * constants follow the socket's family.
 */
const DEFINES: Record<IpVersion, ReadonlyMap<string, string>> = {
  ipv4: new Map([
    ["TFO_COOKIE", "3021b9d889017eeb"],
    ["CODE", "host_unreachable"],
    ["CMSG_LEVEL_IP", "SOL_IP"],
    ["CMSG_TYPE_RECVERR", "IP_RECVERR"],
  ]),
  "ipv4-mapped-ipv6": new Map([
    ["TFO_COOKIE", "3021b9d889017eeb"],
    ["CODE", "host_unreachable"],
    ["CMSG_LEVEL_IP", "SOL_IPV6"],
    ["CMSG_TYPE_RECVERR", "IPV6_RECVERR"],
  ]),
  ipv6: new Map([
    ["TFO_COOKIE", "c1d1e9742a47a9bc"],
    ["CMSG_LEVEL_IP", "SOL_IPV6"],
    ["CMSG_TYPE_RECVERR", "IPV6_RECVERR"],
  ]),
};

export function flavour(version: IpVersion): IpFlavour {
  const v6 = version === "ipv6";
  return { version, socketFamily: version === "ipv4" ? 4 : 6, wireFamily: v6 ? 6 : 4, ...(v6 ? V6 : V4), defines: DEFINES[version] };
}

export function isIpVersion(text: string | undefined): text is IpVersion {
  return text !== undefined && (IP_VERSIONS as readonly string[]).includes(text);
}

/**
 * Whether Linux's run_all.py runs the script `file` in `version`: a name ending in
 * `v6.pkt` runs only as ipv6, one ending in `v4.pkt` only as ipv4 and ipv4-mapped-ipv6,
 * every other script in all three.
 */
export function runsAs(file: string, version: IpVersion): boolean {
  if (file.endsWith("v6.pkt")) return version === "ipv6";
  if (file.endsWith("v4.pkt")) return version !== "ipv6";
  return true;
}

/**
 * The address a socket of the flavour's family names for a wire address: the address
 * itself, or in the mapped flavour its ::ffff:a.b.c.d form.
 */
export function socketAddress(socketFamily: IpFamily, wire: IpAddress): IpAddress {
  return socketFamily === 6 && wire.family === 4 ? wire.toMapped() : wire;
}

/**
 * The wire address an AF_INET6 socket reaches for a socket address: a v4-mapped address
 * is the IPv4 host it maps (Linux tcp_v6_connect hands those to tcp_v4_connect).
 */
export function wireAddress(socketAddr: IpAddress): IpAddress {
  return socketAddr.isIpv4Mapped ? socketAddr.unmap() : socketAddr;
}
