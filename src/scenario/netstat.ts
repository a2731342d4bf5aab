/**
 * A host's UDP counters in the words of `netstat -su` (Linux net-tools), with the IP
 * fragmentation and reassembly rows of `netstat -s` and the ICMP errors sent, when there
 * were any. What S33 says is lost ("receive buffer errors", "fragments dropped after
 * timeout") is counted here, since nothing else ever reports it: UDP never retransmits.
 */
import type { HostCounters } from "../host/host.js";
import type { IpAddress } from "../wire/address.js";

export type NetstatCounters = Pick<HostCounters, "udp" | "ip" | "icmp" | "reassembly">;

export function renderNetstat(name: string, address: IpAddress, c: NetstatCounters): string[] {
  const out = [`${name} (${address.toString()}) netstat -su:`];
  const row = (n: number, text: string): string => `    ${n} ${text}`;
  const { ip, reassembly: r, udp, icmp } = c;
  if (ip.fragOks > 0 || ip.fragFails > 0 || r.fragments > 0) {
    out.push("  Ip:");
    if (ip.fragOks > 0) out.push(row(ip.fragOks, "outgoing packets fragmented ok"), row(ip.fragCreates, "fragments created"));
    if (ip.fragFails > 0) out.push(row(ip.fragFails, "packets not sent: too big with DF set"));
    if (r.fragments > 0) {
      out.push(row(r.fragments, "fragments received (reassemblies required)"), row(r.reassembled, "packets reassembled ok"));
      out.push(row(r.timeouts, "datagrams dropped after reassembly timeout"));
      const failed = r.overlaps + r.invalid + r.tooMany;
      if (failed > 0) out.push(row(failed, "reassemblies failed"));
    }
  }
  if (icmp.outDestUnreachs + icmp.outTimeExcds > 0) {
    out.push("  Icmp:");
    if (icmp.outDestUnreachs > 0) out.push(row(icmp.outDestUnreachs, "destination unreachable sent"));
    if (icmp.outTimeExcds > 0) out.push(row(icmp.outTimeExcds, "time exceeded sent"));
  }
  out.push(
    "  Udp:",
    row(udp.inDatagrams, "packets received"),
    row(udp.noPorts, "packets to unknown port received"),
    row(udp.inErrors, "packet receive errors"),
    row(udp.outDatagrams, "packets sent"),
    row(udp.rcvbufErrors, "receive buffer errors"),
    row(udp.sndbufErrors, "send buffer errors"),
  );
  return out;
}
