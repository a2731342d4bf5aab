/**
 * The closing and many-connection tests of the interop suite, for either family: the same
 * kernel peers (peer.py, bound to 0.0.0.0 or ::) and the same synack sockets, so IPv6 is
 * held to exactly what IPv4 is. kernel.test.ts and kernel6.test.ts call it.
 */
import { createHash, randomFillSync } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { LiveSocket } from "../../src/node/services/live.js";
import type { IpAddress } from "../../src/wire/address.js";
import { MIB, peer, PEER_PY, runIn, startIn, until, type SynackOnTun } from "./harness.js";

export interface FamilyFixture {
  family: 4 | 6;
  /** The running stack (set in the suite's beforeAll). */
  s: () => SynackOnTun;
  /** synack's address as the kernel's peers are given it. */
  synack: string;
  /** synack's address as `ss` prints it ("10.7.21.2" or "[fd07:22::2]"). */
  synackInSs: string;
  kernel: number | IpAddress;
  /** Where the kernel's listeners bind: "0.0.0.0" or "::". */
  bind: string;
  /** Ports port+1 .. port+4 are used for the kernel's and synack's listeners. */
  port: number;
}

/** Registers the tests; `fixture` is read when they run (after beforeAll). */
export function closingAndManyTests(fixture: () => FamilyFixture, family: 4 | 6): void {
  describe(`closing (IPv${family})`, () => {
    it("the kernel half-closes first and keeps reading: the echo comes back whole, then EOF", async () => {
      const f = fixture();
      const r = await peer<{ sent: number; sentSha: string; received: number; receivedSha: string }>(f.s().netns, ["echo-halfclose", f.synack, 7, 4 * MIB]);
      expect(r.received).toBe(r.sent);
      expect(r.receivedSha).toBe(r.sentSha);
    }, 60_000);

    it("synack half-closes first and keeps reading: the kernel's answer arrives after synack's FIN", async () => {

      const f = fixture();
      const sink = await startIn(f.s().netns, ["python3", "-u", PEER_PY, "sink", String(f.port + 1), "--reply", "--bind", f.bind], /ready/);
      try {
        const data = new Uint8Array(2 * MIB);
        randomFillSync(data);
        const answer = await new Promise<string>((resolve, reject) => {
          const sock = f.s().stack.connect(f.kernel, f.port + 1);
          let text = "";
          sock.onData = (c) => (text += new TextDecoder().decode(c));
          sock.onEnd = () => {
            resolve(text);
            sock.close();
          };
          sock.onClose = (e) => e !== undefined && reject(e);
          sock.write(data);
          sock.end();
        });
        expect(answer.trim()).toBe(`${data.length} ${createHash("sha256").update(data).digest("hex")}`);
      } finally {
        sink.stop();
      }
    }, 60_000);

    it("the kernel closes first: synack goes CLOSE_WAIT -> LAST_ACK -> CLOSED and the kernel holds TIME_WAIT", async () => {

      const f = fixture();
      let sock: LiveSocket | undefined;
      const states: string[] = [];
      const listener = f.s().stack.listen(f.port + 2, (x) => {
        sock = x;
        x.onData = () => {};
        x.onEnd = () => {
          states.push(x.state);
          x.end();
        };
        x.onClose = (e) => states.push(e === undefined ? "CLOSED" : `CLOSED ${e.code}`);
      });
      try {
        const r = await peer<{ closed: boolean }>(f.s().netns, ["close-first", f.synack, f.port + 2]);
        expect(r.closed).toBe(true);
        await until(() => states.includes("CLOSED"), 5000, "synack's side to close");
        expect(states).toEqual(["CLOSE_WAIT", "CLOSED"]);
        expect(sock!.conn.error).toBeUndefined();
        const ss = await runIn(f.s().netns, ["ss", "-tan", "state", "time-wait"]);
        expect(ss.stdout).toContain(`${f.synackInSs}:${f.port + 2}`);
      } finally {
        f.s().stack.host.tcp.closeListener(listener);
      }
    }, 30_000);

    it("synack closes first: the kernel reads EOF, synack passes FIN_WAIT_2 and holds TIME_WAIT", async () => {

      const f = fixture();
      // The kernel closes 0.5 s after the EOF, so its ACK of our FIN leaves alone (no FIN_WAIT_1 -> TIME_WAIT shortcut).
      const sink = await startIn(f.s().netns, ["python3", "-u", PEER_PY, "sink", String(f.port + 3), "--close-delay", "0.5", "--bind", f.bind], /ready/);
      try {
        const sock = f.s().stack.connect(f.kernel, f.port + 3);
        await new Promise<void>((resolve) => (sock.onConnect = resolve));
        sock.write(new TextEncoder().encode("hello kernel\n"));
        sock.close();
        const line = await sink.waitFor(/received/);
        expect(JSON.parse(line)).toMatchObject({ received: 13 });
        await until(() => sock.conn.state === "TIME_WAIT", 5000, "TIME_WAIT");
        const states = f.s().events.filter((e) => e.type === "state" && e.tuple.localPort === sock.conn.tuple.localPort && e.tuple.remotePort === f.port + 3).map((e) => (e.type === "state" ? e.to : ""));
        expect(states).toEqual(["SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "TIME_WAIT"]);
        expect(sock.conn.error).toBeUndefined();
      } finally {
        sink.stop();
      }
    }, 30_000);
  });

  describe(`many connections (IPv${family})`, () => {
    it("200 concurrent kernel clients each get their echo", async () => {
      const f = fixture();
      const r = await peer<{ ok: number; count: number; errors: string[] }>(f.s().netns, ["many", f.synack, 7, 200, 20_000], 90_000);
      expect(r.errors).toEqual([]);
      expect(r.ok).toBe(200);
    }, 90_000);

    it("200 concurrent synack clients each get their echo from the kernel", async () => {

      const f = fixture();
      const server = await startIn(f.s().netns, ["python3", "-u", PEER_PY, "echo-server", String(f.port + 4), "--bind", f.bind], /ready/);
      try {
        const data = new Uint8Array(20_000);
        randomFillSync(data);
        const one = (): Promise<boolean> =>
          new Promise((resolve, reject) => {
            const sock = f.s().stack.connect(f.kernel, f.port + 4);
            const parts: Uint8Array[] = [];
            sock.onData = (c) => parts.push(c);
            sock.onEnd = () => {
              sock.close();
              resolve(Buffer.concat(parts).equals(data));
            };
            sock.onClose = (e) => e !== undefined && reject(e);
            sock.write(data);
            sock.end();
          });
        const results = await Promise.all(Array.from({ length: 200 }, one));
        expect(results.filter((x) => x).length).toBe(200);
      } finally {
        server.stop();
      }
    }, 90_000);
  });
}
