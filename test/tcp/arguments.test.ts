/** Bad arguments and settings get a typed error with a stable code, and change nothing. */
import { IpAddress, parseIpAddress } from "../../src/wire/address.js";
import { describe, expect, it } from "vitest";
import { resolveConfig, LINUX_DEFAULTS } from "../../src/tcp/config.js";
import { Harness, LOCAL_ADDR, REMOTE_ADDR, established } from "./harness.js";

const invalid = expect.objectContaining({ code: "ERR_INVALID_ARG_VALUE" });

describe("argument validation", () => {
  it("connect() rejects bad ports and addresses", () => {
    const h = new Harness();
    for (const remotePort of [0, -1, 65536, 1.5, Number.NaN]) {
      expect(() => h.host.tcp.connect({ localAddr: IpAddress.v4(LOCAL_ADDR), remoteAddr: IpAddress.v4(REMOTE_ADDR), remotePort })).toThrow(invalid);
    }
    expect(() => h.host.tcp.connect({ localAddr: IpAddress.v4(LOCAL_ADDR), remoteAddr: (2 ** 32) as unknown as IpAddress, remotePort: 80 })).toThrow(invalid);
    // A number is not an address any more: the engine takes IpAddress only.
    expect(() => h.host.tcp.connect({ localAddr: LOCAL_ADDR as unknown as IpAddress, remoteAddr: IpAddress.v4(REMOTE_ADDR), remotePort: 80 })).toThrow(invalid);
    // Both ends of a connection are of one family.
    expect(() => h.host.tcp.connect({ localAddr: IpAddress.v4(LOCAL_ADDR), remoteAddr: parseIpAddress("fd00::2")!, remotePort: 80 })).toThrow(invalid);
    expect(() => h.host.tcp.connect({ localAddr: IpAddress.v4(LOCAL_ADDR), localPort: 70000, remoteAddr: IpAddress.v4(REMOTE_ADDR), remotePort: 80 })).toThrow(invalid);
    // Not a parameter bag at all.
    for (const p of [undefined, null, "x", 5]) expect(() => h.host.tcp.connect(p as never)).toThrow(invalid);
    expect(h.host.tcp.allConnections()).toHaveLength(0);
  });

  it("closeListener, inUse and setClock refuse what is not theirs", () => {
    const h = new Harness();
    const l = h.host.tcp.listen(80);
    for (const v of [undefined, null, {}, { closed: true, toString: false }]) expect(() => h.host.tcp.closeListener(v as never)).toThrow(invalid);
    expect(h.host.tcp.allListeners()).toEqual([l]);
    for (const v of [undefined, null, "x"]) expect(() => h.host.tcp.inUse(v as never)).toThrow(invalid);
    const now = h.host.tcp.now();
    for (const v of [undefined, 5, {}]) expect(() => h.host.tcp.setClock(v as never)).toThrow(invalid);
    // The clock it had still answers.
    expect(h.host.tcp.now()).toBe(now);
  });

  it("listen() rejects bad ports and backlogs, and a port already listening (EADDRINUSE)", () => {
    const h = new Harness();
    expect(() => h.host.tcp.listen(0)).toThrow(invalid);
    expect(() => h.host.tcp.listen(80, -1)).toThrow(invalid);
    h.host.tcp.listen(80);
    expect(() => h.host.tcp.listen(80)).toThrow(expect.objectContaining({ code: "EADDRINUSE" }));
  });

  it("send() and read() reject wrong types", () => {
    const { conn } = established();
    expect(() => conn.send("text" as unknown as Uint8Array)).toThrow(invalid);
    expect(() => conn.read(-1)).toThrow(invalid);
    expect(conn.state).toBe("ESTABLISHED");
  });

  it("switches take true or false only, and options objects; a refused call changes nothing", () => {
    const { conn, h } = established();
    const odd: unknown[] = ["x", 0, 1, null, {}, { toString: false }];
    for (const v of odd) {
      expect(() => conn.setNoDelay(v as boolean)).toThrow(invalid);
      expect(() => conn.setCork(v as boolean)).toThrow(invalid);
      expect(() => conn.setOobInline(v as boolean)).toThrow(invalid);
      expect(() => conn.setZerocopy(v as boolean)).toThrow(invalid);
      expect(() => conn.readOob(v as boolean)).toThrow(invalid);
      expect(() => conn.setKeepAlive(v as boolean, h.now)).toThrow(invalid);
      expect(() => conn.send(new Uint8Array(1), { more: v as boolean })).toThrow(invalid);
    }
    // Truthy strings were taken as "on": keep-alive read "x" as enabled while `keepAlive` said false.
    expect(conn.keepAlive).toBe(false);
    for (const v of [null, "x", 5]) expect(() => conn.send(new Uint8Array(1), v as { more?: boolean })).toThrow(invalid);
    expect(() => conn.setKeepAlive(true, h.now, null as unknown as object)).toThrow(invalid);
    // A time that is not one armed a keep-alive timer at NaN, which hung the timer queue.
    for (const now of [Number.NaN, Infinity, -1, "5"]) expect(() => conn.setKeepAlive(true, now as number)).toThrow(invalid);
    // A valid idle with an invalid interval: neither is set, keep-alive stays off.
    expect(() => conn.setKeepAlive(true, h.now, { idle: 5000, interval: -1 })).toThrow(invalid);
    expect(conn.keepAlive).toBe(false);
    expect(conn.ka?.idle).not.toBe(5000);
    for (const v of [-1, 1.5, "x", Number.NaN]) expect(() => conn.sendRoom(v as number)).toThrow(invalid);
    for (const v of [2 ** 40, -1, 1.5]) expect(() => conn.setTimestamping(v)).toThrow(invalid);
    expect(conn.sendBuffer.length).toBe(0);
    expect(conn.state).toBe("ESTABLISHED");
  });

  it("settings are validated with the name of the bad field", () => {
    expect(resolveConfig()).toEqual(LINUX_DEFAULTS);
    expect(() => resolveConfig({ msl: -1 })).toThrow(/msl/);
    expect(() => resolveConfig({ windowScaleShift: 15 })).toThrow(/windowScaleShift/);
    expect(() => resolveConfig({ receiveBufferSize: 0 })).toThrow(invalid);
    expect(() => resolveConfig({ maxRto: 10, minRto: 200 })).toThrow(/maxRto/);
    expect(() => resolveConfig({ ephemeralPorts: [5000, 4000] })).toThrow(/ephemeralPorts/);
    expect(() => resolveConfig({ synCookies: "sometimes" as "always" })).toThrow(/synCookies/);
  });
});
