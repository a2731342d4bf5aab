/**
 * Host-wide IP counters, named after the Linux `Ip:` MIB rows of /proc/net/snmp
 * (RFC 4293 ipSystemStatsTable) so a reader who knows `netstat -s` finds them.
 */
export interface IpStats {
  /** Packets handed to `receive` (InReceives). */
  inReceives: number;
  /** Header errors: truncated, bad version, bad length, bad checksum, martian source (InHdrErrors). */
  inHdrErrors: number;
  /** Destination is not a local address (InAddrErrors). */
  inAddrErrors: number;
  /** No transport for the protocol (InUnknownProtos). */
  inUnknownProtos: number;
  /** Datagrams handed to TCP, UDP or ICMP (InDelivers). */
  inDelivers: number;
  /** Datagrams the transports asked IP to send (OutRequests). */
  outRequests: number;
  /** Datagrams that could not be sent: no route (OutNoRoutes). */
  outNoRoutes: number;
  /** Datagrams fragmented successfully (FragOKs). */
  fragOks: number;
  /** Fragments created (FragCreates). */
  fragCreates: number;
  /** Datagrams larger than the MTU with DF set, not sent (FragFails). */
  fragFails: number;
  /** Datagrams sent although larger than the MTU (TCP segments the engine sized too large). */
  outOversize: number;
}

export function newIpStats(): IpStats {
  return {
    inReceives: 0,
    inHdrErrors: 0,
    inAddrErrors: 0,
    inUnknownProtos: 0,
    inDelivers: 0,
    outRequests: 0,
    outNoRoutes: 0,
    fragOks: 0,
    fragCreates: 0,
    fragFails: 0,
    outOversize: 0,
  };
}
