import { IpAddress } from "../../src/wire/address.js";
import { describe, expect, it } from "vitest";
import { pair, SERVER_ADDR, CLIENT_ADDR } from "./fixtures.js";
import { flagNames } from "../../src/wire/tcp.js";

describe("smoke", () => {
  it("handshake, data both ways, close", () => {
    const { net, client, server, events } = pair();
    const listener = server.tcp.listen(80);
    const c = client.tcp.connect({ localAddr: IpAddress.v4(CLIENT_ADDR), remoteAddr: IpAddress.v4(SERVER_ADDR), remotePort: 80 });
    net.runUntil(() => c.state === "ESTABLISHED", 5000);
    net.runFor(100);
    const s = listener.accept()!;
    expect(s.state).toBe("ESTABLISHED");
    const data = new Uint8Array(100_000).map((_, i) => i & 0xff);
    let sent = 0;
    let got = 0;
    const recv: Uint8Array[] = [];
    for (let i = 0; i < 1000 && got < data.length; i++) {
      if (sent < data.length) sent += c.send(data.subarray(sent));
      net.runFor(5);
      const d = s.read();
      got += d.length;
      recv.push(d);
    }
    expect(got).toBe(data.length);
    c.close();
    net.runFor(100);
    s.close();
    net.run({ until: net.now + 200_000 });
    expect(c.state).toBe("CLOSED");
    expect(s.state).toBe("CLOSED");
    const lines = events.filter((e) => e.type === "segment-out" || e.type === "state").slice(0, 12).map((e) =>
      e.type === "segment-out" ? `${e.time} ${e.host} > ${flagNames(e.segment.flags)} seq=${e.segment.seq} ack=${e.segment.ack} len=${e.segment.payload.length}` : `${e.time} ${e.host} ${e.from}->${e.to}`,
    );
    console.log(lines.join("\n"));
  });
});
