/** The tiny authoritative server's answers: records, NODATA, NXDOMAIN, CNAME chains, refusals. */
import { describe, expect, it } from "vitest";
import { SimDriver } from "../../src/api/index.js";
import { answerFromZone, serveZone } from "../../src/dns/zone-server.js";
import { TYPE_A, TYPE_AAAA, decodeMessage, encodeQuery, type DnsMessage } from "../../src/dns/message.js";

const zone = { "web.test": { a: ["10.0.0.2"], aaaa: ["fd00::2"], ttl: 30 }, "www.test.": { cname: "web.test" }, "v4.test": { a: ["10.0.0.3"] }, "bad.test": { a: ["fd00::1"] } };
const query = (name: string, type: number): DnsMessage => {
  const r = decodeMessage(encodeQuery(42, name, type));
  if (!r.ok) throw new Error(r.reason);
  return r.value;
};
const summary = (m: DnsMessage) => ({ id: m.header.id, aa: m.header.authoritative, rcode: m.header.rcode, answers: m.answers.map((r) => `${r.name} ${r.ttl} ${r.address?.toString() ?? `CNAME ${r.target}`}`) });

describe("answerFromZone", () => {
  it("answers A and AAAA, follows CNAMEs, NODATA for a missing type, NXDOMAIN for a missing name", () => {
    expect(summary(answerFromZone(query("WEB.test", TYPE_AAAA), zone))).toEqual({ id: 42, aa: true, rcode: 0, answers: ["WEB.test 30 fd00::2"] });
    expect(summary(answerFromZone(query("www.test", TYPE_A), zone)).answers).toEqual(["www.test 300 CNAME web.test", "web.test 30 10.0.0.2"]);
    expect(summary(answerFromZone(query("v4.test", TYPE_AAAA), zone))).toMatchObject({ rcode: 0, answers: [] });
    expect(summary(answerFromZone(query("nope.test", TYPE_A), zone))).toMatchObject({ rcode: 3, answers: [] });
  });

  it("FORMERR for a response or several questions; a zone address of the wrong family is EINVAL", () => {
    const q = query("web.test", TYPE_A);
    expect(answerFromZone({ ...q, header: { ...q.header, response: true } }, zone).header.rcode).toBe(1);
    expect(answerFromZone({ ...q, questions: [q.questions[0]!, q.questions[0]!] }, zone).header.rcode).toBe(1);
    expect(() => answerFromZone(query("bad.test", TYPE_A), zone)).toThrow(expect.objectContaining({ code: "EINVAL" }));
  });
});

describe("serveZone", () => {
  it("refuses a zone with a bad address when it starts, not when a query arrives", () => {
    const ns = new SimDriver().addStack("ns", "10.0.0.53");
    expect(() => serveZone(ns.host.udp, { "bad.test": { aaaa: ["10.0.0.1"] } })).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(ns.host.udp.sockets()).toEqual([]);
  });
});
