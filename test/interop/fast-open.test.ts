/**
 * TCP Fast Open (RFC 7413) between synack and the Linux kernel over TUN, both ways. The
 * kernel's `net.ipv4.tcp_fastopen` is set inside the test's own namespace. Each direction
 * makes two connections: the first fetches a cookie, the second must carry its request in
 * the SYN, which synack's trace shows on the wire and the kernel's TCP_INFO confirms.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LiveSocket } from "../../src/node/services/live.js";
import type { TraceEvent } from "../../src/trace/events.js";
import { IpAddress } from "../../src/wire/address.js";
import { parseIpv4Address } from "../../src/wire/ipv4.js";
import { SYN } from "../../src/wire/tcp.js";
import { interopGate, peer, runIn, startIn, synackOnTun, PEER_PY, type SynackOnTun } from "./harness.js";

const gate = interopGate();

type Segment = Extract<TraceEvent, { type: "segment-in" | "segment-out" }>;
const syns = (events: TraceEvent[], type: "segment-in" | "segment-out"): Segment[] =>
  events.filter((e): e is Segment => e.type === type && (e.segment.flags & SYN) !== 0 && (e.segment.flags & 0x10) === 0);

describe.skipIf(gate.skip)("Fast Open between synack and the Linux kernel", () => {
  let s: SynackOnTun;

  beforeAll(async () => {
    if (gate.reason !== undefined) throw new Error(`SYNACK_REQUIRE_TUN=1 but the interop suite cannot run: ${gate.reason}`);
    s = await synackOnTun({ subnet: 31, trace: true, label: "tfo", tcp: { fastOpen: 0x3 } });
    // Client and server Fast Open for the kernel, in this namespace only.
    const r = await runIn(s.netns, ["sysctl", "-w", "net.ipv4.tcp_fastopen=3"], 10_000);
    if (r.code !== 0) throw new Error(`sysctl in the test namespace failed: ${r.stderr}`);
  }, 30_000);

  afterAll(async () => {
    await s?.close();
  }, 30_000);

  it("the kernel as client: its second SYN carries the request, synack takes it", async () => {
    const listener = s.stack.listen(8001, (socket: LiveSocket) => {
      let line = "";
      socket.onData = (chunk) => {
        line += new TextDecoder().decode(chunk);
        if (line.endsWith("\n")) {
          socket.write(new TextEncoder().encode(`reply ${line}`));
          socket.end();
        }
      };
    });
    listener.fastOpenQueueLimit = 16; // TCP_FASTOPEN on synack's listener
    const before = syns(s.events, "segment-in").length;
    const r = await peer<{ replies: string[] }>(s.netns, ["tfo-client", s.synackIp, 8001, 2], 30_000);
    expect(r.replies).toEqual(["reply hello 0\n", "reply hello 1\n"]);
    const incoming = syns(s.events, "segment-in").slice(before).filter((e) => e.segment.dstPort === 8001);
    expect(incoming).toHaveLength(2);
    expect(incoming[0]!.segment.options.fastOpen?.cookie.length).toBe(0); // a cookie request
    expect(incoming[0]!.segment.payload.length).toBe(0);
    expect(incoming[1]!.segment.options.fastOpen?.cookie.length).toBe(8); // synack's cookie, back
    expect(new TextDecoder().decode(incoming[1]!.segment.payload)).toBe("hello 1\n");
    expect(s.events.some((e) => e.type === "fast-open" && e.action === "accepted" && e.tuple.localPort === 8001)).toBe(true);
  }, 40_000);

  it("synack as client: its second SYN carries the request, the kernel takes it", async () => {
    const server = await startIn(s.netns, ["python3", PEER_PY, "tfo-server", "8002", "2"], /"ready"/);
    const replies: string[] = [];
    for (let i = 0; i < 2; i++) {
      const conn = s.stack.stack.openConnection({ remoteAddress: IpAddress.v4(parseIpv4Address(s.kernelIp)!), remotePort: 8002, fastOpen: true });
      const socket = new LiveSocket(s.stack, conn);
      let reply = "";
      const done = new Promise<void>((resolve, reject) => {
        socket.onData = (chunk) => (reply += new TextDecoder().decode(chunk));
        socket.onEnd = () => socket.end();
        socket.onClose = (err) => (err === undefined ? resolve() : reject(err));
      });
      socket.write(new TextEncoder().encode(`request ${i}\n`)); // before the SYN leaves
      await done;
      replies.push(reply);
    }
    expect(replies).toEqual(["reply request 0\n", "reply request 1\n"]);
    const line = await server.waitFor(/"synData"/, 20_000);
    expect(JSON.parse(line)).toEqual({ requests: ["request 0\n", "request 1\n"], synData: [false, true] });
    const outgoing = syns(s.events, "segment-out").filter((e) => e.segment.dstPort === 8002);
    expect(outgoing.map((e) => e.segment.payload.length)).toEqual([0, "request 1\n".length]);
    expect(outgoing[1]!.segment.options.fastOpen?.cookie.length).toBeGreaterThan(0);
    server.stop();
  }, 40_000);
});
