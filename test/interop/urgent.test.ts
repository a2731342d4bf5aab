/**
 * Urgent data (RFC 9293 3.8.5, RFC 6093) between synack and the Linux kernel over TUN, both
 * ways: the kernel's send(MSG_OOB) read out of band by synack, and synack's urgent write
 * read by the kernel with recv(MSG_OOB), or in the stream with SO_OOBINLINE.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LiveSocket } from "../../src/node/services/live.js";
import { IpAddress } from "../../src/wire/address.js";
import { parseIpv4Address } from "../../src/wire/ipv4.js";
import { URG } from "../../src/wire/tcp.js";
import { interopGate, peer, startIn, synackOnTun, PEER_PY, type SynackOnTun } from "./harness.js";

const gate = interopGate();
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const bytes = (s: string) => new TextEncoder().encode(s);

describe.skipIf(gate.skip)("urgent data between synack and the Linux kernel", () => {
  let s: SynackOnTun;

  beforeAll(async () => {
    if (gate.reason !== undefined) throw new Error(`SYNACK_REQUIRE_TUN=1 but the interop suite cannot run: ${gate.reason}`);
    s = await synackOnTun({ subnet: 33, trace: true, label: "urg" });
  }, 30_000);

  afterAll(async () => {
    await s?.close();
  }, 30_000);

  it("the kernel sends MSG_OOB: synack takes the byte out of band and the stream without it", async () => {
    s.stack.listen(8101, (socket: LiveSocket) => {
      let data = "";
      let oob = "";
      const takeOob = () => {
        const got = socket.conn.readOob();
        if ("byte" in got) oob += String.fromCharCode(got.byte);
      };
      // Before every read, as a program that selects for exceptional conditions does: a
      // read that passes the mark first would lose the byte (then EINVAL, as Linux).
      const update = socket.conn.onWake;
      socket.conn.onWake = (c) => {
        takeOob();
        update?.(c);
      };
      socket.onData = (chunk) => (data += text(chunk));
      socket.onEnd = () => {
        takeOob();
        socket.write(bytes(`data=${JSON.stringify(data)} oob=${JSON.stringify(oob)}\n`));
        socket.end();
      };
    });
    const r = await peer<{ reply: string }>(s.netns, ["urg-client", s.synackIp, 8101], 30_000);
    expect(r.reply).toBe(`data="beforeafter\\n" oob="X"\n`);
    const urgIn = s.events.filter((e) => e.type === "segment-in" && e.segment.dstPort === 8101 && (e.segment.flags & URG) !== 0);
    expect(urgIn.length).toBeGreaterThan(0);
    expect(s.events.some((e) => e.type === "urgent" && e.tuple.localPort === 8101 && /byte 'X' taken out of band/.test(e.detail))).toBe(true);
  }, 40_000);

  for (const inline of [false, true]) {
    it(`synack sends urgent data: the kernel reads the byte ${inline ? "in the stream (SO_OOBINLINE)" : "with recv(MSG_OOB)"}`, async () => {
      const port = inline ? 8103 : 8102;
      const server = await startIn(s.netns, ["python3", PEER_PY, "urg-server", String(port), ...(inline ? ["--inline"] : [])], /"ready"/);
      const conn = s.stack.stack.openConnection({ remoteAddress: IpAddress.v4(parseIpv4Address(s.kernelIp)!), remotePort: port });
      const socket = new LiveSocket(s.stack, conn);
      socket.write(bytes("before"));
      conn.send(bytes("X"), { oob: true });
      socket.write(bytes("after\n"));
      socket.end();
      const line = await server.waitFor(/"data"/, 20_000).catch((e: Error) => {
        throw new Error(`${e.message}\npeer: ${server.lines.join("\n")}\nstate ${conn.state}`);
      });
      expect(JSON.parse(line)).toMatchObject(inline ? { data: "beforeXafter\n", oob: "" } : { data: "beforeafter\n", oob: "X" });
      const urgOut = s.events.filter((e) => e.type === "segment-out" && e.segment.dstPort === port && (e.segment.flags & URG) !== 0);
      expect(urgOut.length).toBeGreaterThan(0);
      expect(urgOut.every((e) => e.type === "segment-out" && e.segment.urgentPointer > 0)).toBe(true);
    }, 40_000);
  }
});
