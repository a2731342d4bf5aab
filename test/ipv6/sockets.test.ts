/**
 * Both socket APIs over IPv6 and dual-stack (docs/ipv6-plan.md step 7), in virtual time:
 * Web Streams connect({ hostname: "fd00::2" }), node:net family reporting, "::" listeners
 * that take IPv4 as ::ffff:a.b.c.d unless ipv6Only, server.address(), and `lookup`.
 */
import { describe, expect, it } from "vitest";
import { SimDriver } from "../../src/api/index.js";
import { bindNet, type Socket } from "../../src/node/net.js";

async function readAll(readable: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  const reader = readable.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return text;
    text += new TextDecoder().decode(value);
  }
}

function once<T = void>(emitter: { once(ev: string, fn: (v: T) => void): unknown }, ev: string): Promise<T> {
  return new Promise((resolve) => emitter.once(ev, resolve));
}

describe("Web Streams over IPv6", () => {
  it("echoes over connect({ hostname: 'fd00::2' }) and reports IPv6 endpoints", async () => {
    const sim = new SimDriver({ seed: 1, link: { delay: 10 } });
    const alice = sim.addStack("alice", "fd00::1");
    const bob = sim.addStack("bob", "fd00::2");
    const server = bob.listen({ port: 7 });
    void (async () => {
      for await (const s of server) void s.readable.pipeTo(s.writable);
    })();
    const socket = alice.connect({ hostname: "fd00::2", port: 7 });
    const info = await socket.opened;
    expect([info.localAddress, info.remoteAddress, info.remotePort]).toEqual(["fd00::1", "fd00::2", 7]);
    const w = socket.writable.getWriter();
    await w.write(new TextEncoder().encode("hello over IPv6"));
    await w.close();
    expect(await readAll(socket.readable)).toBe("hello over IPv6");
    // The table shows the IPv6 endpoints in brackets.
    expect(alice.formatTable()).toContain("[fd00::2]:7");
    // Refused over IPv6 as over IPv4.
    await expect(alice.connect({ hostname: "fd00::2", port: 81 }).opened).rejects.toMatchObject({ code: "ECONNREFUSED" });
    // "[fd00::2]" as URLs write it is accepted too.
    expect((await alice.connect({ hostname: "[fd00::2]", port: 7 }).opened).remoteAddress).toBe("fd00::2");
  });
});

describe("node:net over IPv6 and dual-stack", () => {
  function dual(): { sim: SimDriver; client: ReturnType<SimDriver["addStack"]>; server: ReturnType<SimDriver["addStack"]> } {
    const sim = new SimDriver({ seed: 2, link: { delay: 5 } });
    const client = sim.addStack("client", ["10.0.0.1", "fd00::1"]);
    const server = sim.addStack("server", ["10.0.0.2", "fd00::2"]);
    return { sim, client, server };
  }

  async function connectAndAccept(net: ReturnType<typeof bindNet>, srv: ReturnType<ReturnType<typeof bindNet>["createServer"]>, host: string): Promise<[Socket, Socket]> {
    const accepted = once<Socket>(srv, "connection");
    const c = net.connect({ port: 80, host });
    await once(c, "connect");
    return [c, await accepted];
  }

  it("a '::' listener takes both families and shows an IPv4 peer as ::ffff:a.b.c.d", async () => {
    const { client, server } = dual();
    const srv = bindNet(server).createServer();
    srv.listen({ port: 80, host: "::" });
    await once(srv, "listening");
    expect(srv.address()).toEqual({ address: "::", family: "IPv6", port: 80 });
    const net = bindNet(client);
    const [c6, s6] = await connectAndAccept(net, srv, "fd00::2");
    expect([c6.remoteAddress, c6.remoteFamily, c6.localFamily]).toEqual(["fd00::2", "IPv6", "IPv6"]);
    expect([s6.remoteAddress, s6.remoteFamily]).toEqual(["fd00::1", "IPv6"]);
    const [c4, s4] = await connectAndAccept(net, srv, "10.0.0.2");
    expect([c4.remoteAddress, c4.remoteFamily]).toEqual(["10.0.0.2", "IPv4"]);
    expect([s4.remoteAddress, s4.remoteFamily, s4.localAddress]).toEqual(["::ffff:10.0.0.1", "IPv6", "::ffff:10.0.0.2"]);
    for (const s of [c6, s6, c4, s4]) s.destroy();
    srv.close();
  });

  it("ipv6Only refuses IPv4, and a '0.0.0.0' listener refuses IPv6", async () => {
    const { client, server } = dual();
    const net = bindNet(client);
    const v6 = bindNet(server).createServer();
    v6.listen({ port: 80, host: "::", ipv6Only: true });
    await once(v6, "listening");
    const refused = net.connect({ port: 80, host: "10.0.0.2" });
    expect(((await once<Error & { code: string }>(refused, "error")).code)).toBe("ECONNREFUSED");
    v6.close();
    const v4 = bindNet(server).createServer();
    v4.listen({ port: 80, host: "0.0.0.0" });
    await once(v4, "listening");
    expect(v4.address()).toEqual({ address: "0.0.0.0", family: "IPv4", port: 80 });
    const refused6 = net.connect({ port: 80, host: "fd00::2" });
    expect((await once<Error & { code: string }>(refused6, "error")).code).toBe("ECONNREFUSED");
    v4.close();
  });

  it("connect() resolves a name through the lookup option, per family", async () => {
    const { client, server } = dual();
    const srv = bindNet(server).createServer();
    srv.listen(80);
    await once(srv, "listening");
    const asked: Array<[string, number | undefined]> = [];
    const lookup = (name: string, opts: { family?: number }, cb: (err: Error | null, address: string, family: number) => void): void => {
      asked.push([name, opts.family]);
      if (name !== "server.test") return cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: "ENOTFOUND" }), "", 0);
      cb(null, opts.family === 4 ? "10.0.0.2" : "fd00::2", opts.family === 4 ? 4 : 6);
    };
    const net = bindNet(client);
    const c6 = net.connect({ port: 80, host: "server.test", lookup });
    await once(c6, "connect");
    expect([c6.remoteAddress, c6.remoteFamily]).toEqual(["fd00::2", "IPv6"]);
    const c4 = net.connect({ port: 80, host: "server.test", family: 4, lookup });
    await once(c4, "connect");
    expect(c4.remoteAddress).toBe("10.0.0.2");
    const bad = net.connect({ port: 80, host: "nowhere.test", lookup });
    expect((await once<Error & { code: string }>(bad, "error")).code).toBe("ENOTFOUND");
    expect(asked).toEqual([["server.test", undefined], ["server.test", 4], ["nowhere.test", undefined]]);
    for (const s of [c6, c4]) s.destroy();
    srv.close();
  });
});
