/**
 * The stub resolver against a fake DNS server host in the simulator, in virtual time:
 * retries after silence (5 s per try, 2 attempts, as glibc), answers that are not ours
 * ignored (RFC 5452 9.1), failures with Node's dns codes.
 */
import { describe, expect, it } from "vitest";
import { SimDriver } from "../../src/api/index.js";
import type { Stack } from "../../src/api/stack.js";
import type { DnsError } from "../../src/dns/errors.js";
import type { Answer, RecordFamily, ResolverConfig } from "../../src/dns/resolver.js";
import { TYPE_A, TYPE_AAAA } from "../../src/dns/message.js";
import { fakeDns, fakeDnsTcp, type Zone } from "./fake-server.js";
import { serveZone } from "../../src/dns/zone-server.js";

const ZONE: Zone = {
  "web.test": { a: ["10.0.0.2"], aaaa: ["fd00::2"], ttl: 60 },
  "www.test": { cname: "alias.test" },
  "alias.test": { cname: "web.test" },
  "v4only.test": { a: ["10.0.0.2", "10.0.0.3"] },
};

function setup(dns: Partial<ResolverConfig> = {}, servers = ["10.0.0.53"]) {
  const sim = new SimDriver({ link: { delay: 5 } });
  const client = sim.addStack("client", "10.0.0.1", { dns: { servers, ...dns } });
  const server = sim.addStack("dns", "10.0.0.53");
  const spare = sim.addStack("dns2", "10.0.0.54");
  const fake = fakeDns(server, ZONE);
  const fake2 = fakeDns(spare, ZONE);
  return { sim, client, server, fake, fake2 };
}

function ask(stack: Stack, name: string, family: RecordFamily): Promise<{ error: DnsError | undefined; answer: Answer | undefined; at: number }> {
  return new Promise((resolve) => {
    stack.dns!.query(name, family, (error, answer) => resolve({ error, answer, at: stack.now() }));
  });
}

describe("stub resolver over synack's UDP", () => {
  it("asks A and AAAA and returns the addresses; one query each, 10 ms round trip", async () => {
    const { client, fake } = setup();
    const a = await ask(client, "web.test", 4);
    expect(a.error).toBeUndefined();
    expect(a.answer!.addresses.map(String)).toEqual(["10.0.0.2"]);
    expect(a.answer!.ttl).toBe(60);
    expect(a.at).toBe(10);
    const aaaa = await ask(client, "web.test", 6);
    expect(aaaa.answer!.addresses.map(String)).toEqual(["fd00::2"]);
    expect(fake.queries.map((q) => q.type)).toEqual([TYPE_A, TYPE_AAAA]);
  });

  it("follows a CNAME chain inside the answer", async () => {
    const { client } = setup();
    const r = await ask(client, "WWW.test.", 4);
    expect(r.answer!.addresses.map(String)).toEqual(["10.0.0.2"]);
  });

  it("uses a fresh random ID and source port for every query (RFC 5452)", async () => {
    const { client, fake } = setup({ cache: false });
    for (let i = 0; i < 4; i++) await ask(client, "web.test", 4);
    expect(new Set(fake.queries.map((q) => q.id)).size).toBe(4);
    expect(new Set(fake.queries.map((q) => q.port)).size).toBe(4);
  });

  it("retries after 5 s when the first query is dropped", async () => {
    const { client, fake } = setup();
    fake.script.push("silent");
    const r = await ask(client, "web.test", 4);
    expect(r.answer!.addresses.map(String)).toEqual(["10.0.0.2"]);
    expect(fake.queries.map((q) => q.time)).toEqual([5, 5005]);
    expect(r.at).toBe(5010);
  });

  it("ignores an answer with the wrong ID and takes the retry's", async () => {
    const { client, fake } = setup();
    fake.script.push("wrong-id");
    const r = await ask(client, "web.test", 4);
    expect(r.error).toBeUndefined();
    expect(client.dns!.stats.ignored).toBe(1);
    expect(r.at).toBe(5010);
  });

  it("times out with ETIMEOUT after attempts x servers x timeout (2 x 5 s)", async () => {
    const { client, fake } = setup();
    fake.script.push("silent", "silent");
    const r = await ask(client, "web.test", 4);
    expect(r.error?.code).toBe("ETIMEOUT");
    expect(r.at).toBe(10_000);
    expect(fake.queries).toHaveLength(2);
  });

  it("goes to the next server after a timeout, in resolv.conf order", async () => {
    const { client, fake, fake2 } = setup({ timeout: 2000 }, ["10.0.0.53", "10.0.0.54"]);
    fake.script.push("silent");
    const r = await ask(client, "web.test", 4);
    expect(r.error).toBeUndefined();
    expect(fake.queries.map((q) => q.time)).toEqual([5]);
    expect(fake2.queries.map((q) => q.time)).toEqual([2005]);
  });

  it("NXDOMAIN is ENOTFOUND at once; an empty answer is ENODATA", async () => {
    const { client, fake } = setup();
    const nx = await ask(client, "nope.test", 4);
    expect(nx.error?.code).toBe("ENOTFOUND");
    expect(nx.error?.hostname).toBe("nope.test");
    expect(nx.at).toBe(10);
    const nodata = await ask(client, "v4only.test", 6);
    expect(nodata.error?.code).toBe("ENODATA");
    expect(fake.queries).toHaveLength(2);
  });

  it("SERVFAIL moves to the next try at once; ESERVFAIL when every try fails", async () => {
    const { client, fake } = setup();
    fake.script.push("servfail", "servfail");
    const r = await ask(client, "web.test", 4);
    expect(r.error?.code).toBe("ESERVFAIL");
    expect(r.at).toBe(20);
  });

  it("a truncated answer (TC) is asked again over TCP of the same server (RFC 7766 5)", async () => {
    const { client, server, fake } = setup();
    const tcp = fakeDnsTcp(server, ZONE);
    fake.script.push("truncated");
    const r = await ask(client, "web.test", 6);
    expect(r.error).toBeUndefined();
    expect(r.answer!.addresses.map(String)).toEqual(["fd00::2"]);
    expect([tcp.connections, client.dns!.stats.tcpRetries, fake.queries.length]).toEqual([1, 1, 1]);
    // UDP round trip 10 ms, then the handshake and the exchange over TCP, 10 ms each.
    expect(r.at).toBe(30);
  });

  it("a truncated answer (TC) with nobody on TCP, or an unreadable one with our ID, is EBADRESP", async () => {
    const { client, fake } = setup();
    fake.script.push("truncated", "garbage");
    const r = await ask(client, "web.test", 4);
    expect(r.error?.code).toBe("EBADRESP");
  });

  it("a closed port (ICMP port unreachable) is ECONNREFUSED without waiting", async () => {
    const { client } = setup({}, ["10.0.0.54:5353"]);
    const r = await ask(client, "web.test", 4);
    expect(r.error?.code).toBe("ECONNREFUSED");
    expect(r.at).toBeLessThan(100);
  });

  it("keeps answers for their TTL, then asks again", async () => {
    const { sim, client, fake } = setup();
    await ask(client, "web.test", 4);
    await ask(client, "web.test", 4);
    expect(fake.queries).toHaveLength(1);
    expect(client.dns!.stats.cacheHits).toBe(1);
    await sim.sleep(61_000);
    await ask(client, "web.test", 4);
    expect(fake.queries).toHaveLength(2);
  });

  it("refuses bad settings and names with typed errors", async () => {
    expect(() => setup({ attempts: 0 })).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => setup({}, ["not-an-address"])).toThrow(expect.objectContaining({ code: "EINVAL" }));
    const { client } = setup();
    const r = await ask(client, `${"x".repeat(64)}.test`, 4);
    expect(r.error?.code).toBe("EINVAL");
    // Refused at the call: a callback that is not a function used to be called, and throw, in a later turn.
    const dns = client.dns!;
    expect(() => dns.query("a.test", 4, undefined as never)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => dns.query(undefined as never, 4, () => {})).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => dns.query("a.test", 5 as never, () => {})).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(dns.stats.queries).toBe(0);
  });
});

describe("names outside letters, digits and hyphens (RFC 2181 11: any octets are a label)", () => {
  it("a name with a space, a control character or non-ASCII letters is asked and answered from serveZone, not left to time out", async () => {
    const sim = new SimDriver({ link: { delay: 5 } });
    const client = sim.addStack("client", "10.0.0.1", { dns: { servers: ["10.0.0.53"] } });
    const ns = sim.addStack("dns", "10.0.0.53");
    serveZone(ns.host.udp, { "a b.test": { a: ["10.0.0.7"] }, "tab\t.test": { a: ["10.0.0.8"] }, "bücher.test": { a: ["10.0.0.9"] }, "back\\\\slash.test": { a: ["10.0.0.10"] } });
    // RFC 1035 5.1's escapes, as glibc's getaddrinfo reads them: "\032" is a space, "\\" one backslash.
    for (const [name, address] of [["a b.test", "10.0.0.7"], ["a\\032b.test", "10.0.0.7"], ["TAB\t.test", "10.0.0.8"], ["bücher.test.", "10.0.0.9"], ["back\\\\slash.test", "10.0.0.10"]]) {
      const asked = client.now();
      const r = await ask(client, name!, 4);
      expect(r.error, name).toBeUndefined();
      expect(r.answer!.addresses.map(String), name).toEqual([address]);
      expect(r.at - asked, name).toBeLessThanOrEqual(10); // one round trip (none for the escaped form: cached), not the 5 s timeout
    }
    // Different octets are different names: "bucher" is not "bücher".
    expect((await ask(client, "bucher.test", 4)).error?.code).toBe("ENOTFOUND");
  });
});

describe("internationalised names (RFC 5890, as Node's dns.lookup asks)", () => {
  it("asks for a non-ASCII label in its xn-- form, so a real server that holds the A-label answers", async () => {
    const sim = new SimDriver({ link: { delay: 5 } });
    const client = sim.addStack("client", "10.0.0.1", { dns: { servers: ["10.0.0.53"] } });
    const fake = fakeDns(sim.addStack("dns", "10.0.0.53"), { "xn--bcher-kva.test": { a: ["10.0.0.9"] } });
    const r = await ask(client, "BÜCHER.test", 4);
    expect(r.answer!.addresses.map(String)).toEqual(["10.0.0.9"]);
    expect(fake.queries.map((q) => q.name)).toEqual(["xn--bcher-kva.test"]);
  });
});
