/**
 * Urgent data through synack's node:net Socket (its own additions: sendUrgent(), the
 * 'urgent' event, setOobInline()), in virtual time.
 */
import { describe, expect, it } from "vitest";
import { SimDriver } from "../../src/api/index.js";
import { bindNet, type Socket } from "../../src/node/net.js";

function serve(inline: boolean): Promise<{ sim: SimDriver; client: Socket; got: () => { data: string; urgent: number[] } }> {
  const sim = new SimDriver({ link: { delay: 10 } });
  const a = sim.addStack("a", "10.0.0.1");
  const b = sim.addStack("b", "10.0.0.2");
  let data = "";
  const urgent: number[] = [];
  bindNet(b).createServer((s) => {
    s.setOobInline(inline);
    s.on("urgent", (byte: number) => urgent.push(byte));
    s.on("data", (d: Buffer) => (data += d.toString("latin1")));
  }).listen(23);
  const client = bindNet(a).connect({ port: 23, host: "10.0.0.2" });
  return new Promise((resolve) => client.once("connect", () => resolve({ sim, client, got: () => ({ data, urgent }) })));
}

describe("sendUrgent and the 'urgent' event", () => {
  it("the last byte of sendUrgent() arrives out of band, in order with what was written before and after", async () => {
    const { sim, client, got } = await serve(false);
    client.write("ls -l\r\n");
    client.sendUrgent(Uint8Array.of(0xff, 0xf4)); // a telnet IAC IP, the byte after IAC urgent
    client.write("after");
    await sim.sleep(200);
    expect(got().urgent).toEqual([0xf4]);
    expect(got().data).toBe("ls -l\r\n\xffafter");
    client.destroy();
  });

  it("with setOobInline() the urgent byte stays in the data too", async () => {
    const { sim, client, got } = await serve(true);
    client.write("abc");
    client.sendUrgent("!");
    client.write("def");
    await sim.sleep(200);
    expect(got().urgent).toEqual(["!".charCodeAt(0)]);
    expect(got().data).toBe("abc!def");
    client.destroy();
  });

  it("needs at least one byte", async () => {
    const { client } = await serve(false);
    expect(() => client.sendUrgent("")).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_VALUE" }));
    client.destroy();
  });
});
