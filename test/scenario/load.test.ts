/**
 * Scenario files: JSON with positions, and validation errors that name the field, its
 * path and its line, so a user can fix a file without reading TypeScript.
 */
import { describe, expect, it } from "vitest";
import { parseJsonLocated } from "../../src/scenario/json-locate.js";
import { loadScenarioText } from "../../src/scenario/load.js";
import { parseTime } from "../../src/scenario/time.js";
import { validateScenario } from "../../src/scenario/validate.js";

const GOOD = `{
  "name": "mine",
  "hosts": [
    { "name": "client", "address": "10.0.0.1" },
    { "name": "server", "address": "10.0.0.2", "tcp": { "synAckRetries": 2 } }
  ],
  "links": [{ "between": ["client", "server"], "delay": "20ms", "loss": 0 }],
  "faults": [{ "from": "server", "to": "client", "match": { "flags": "SYN,ACK" }, "nth": [1], "action": "drop" }],
  "script": [
    { "at": 0, "host": "server", "do": "listen", "port": 80 },
    { "at": "100ms", "host": "client", "do": "connect", "to": "server", "port": 80 },
    { "at": "2s", "host": "client", "do": "send", "text": "hello" }
  ],
  "expect": [
    { "expect": "states", "conn": "client", "sequence": ["SYN_SENT", "ESTABLISHED"] },
    { "expect": "segment", "from": "server", "flags": "SYN,ACK", "nth": 2, "ack": "x+1" }
  ]
}`;

/** GOOD with one line replaced, for "this field is wrong" cases. */
const withLine = (n: number, text: string) => GOOD.split("\n").map((l, i) => (i === n - 1 ? text : l)).join("\n");

describe("JSON with positions", () => {
  it("records where every value starts", () => {
    const r = parseJsonLocated('{\n  "a": [1, {"b": true}]\n}');
    expect(r.ok && r.positions.get("a[1].b")).toEqual({ line: 2, column: 18 });
    expect(r.ok && r.value).toEqual({ a: [1, { b: true }] });
  });

  it("reports syntax errors with line and column", () => {
    const r = parseJsonLocated('{\n  "a": 1,\n  "b" 2\n}');
    expect(r).toEqual({ ok: false, message: `expected ':' after "b", found "2"`, position: { line: 3, column: 7 } });
    expect(parseJsonLocated('{"a": "x\ny"}')).toMatchObject({ ok: false, message: expect.stringContaining("control character") });
    // Characters nobody can see are named by code point (a quoted BOM looked like "").
    expect(parseJsonLocated('\ufeff{"a": 1}')).toMatchObject({ ok: false, message: "expected a value, found U+FEFF (a byte order mark: save the file as UTF-8 without BOM)" });
    expect(parseJsonLocated('{"a": \u0001}')).toMatchObject({ ok: false, message: "expected a value, found U+0001" });
    expect(parseJsonLocated("[1, 2")).toMatchObject({ ok: false, message: "expected ',' or ']' in a list, found the end of the file" });
    expect(parseJsonLocated('{"a": 1} x')).toMatchObject({ ok: false, message: "unexpected text after the JSON value" });
  });

  it("decodes escapes like JSON.parse", () => {
    const text = '"\\u00e9\\n\\t\\"\\\\/"';
    expect(parseJsonLocated(text)).toMatchObject({ ok: true, value: JSON.parse(text) });
  });
});

describe("scenario files", () => {
  it("accepts a good file", () => {
    const r = loadScenarioText(GOOD, "mine.json");
    expect(r.ok).toBe(true);
  });

  it.each([
    [withLine(10, `    { "at": 0, "host": "server", "do": "listen", "port": "eighty" },`), `mine.json:10:58: script[0].port: expected an integer from 1 to 65535, got "eighty"`],
    [withLine(4, `    { "name": "client", "address": "10.0.0.300" },`), `mine.json:4:36: hosts[0].address: expected a dotted IPv4 address such as "10.0.0.1", got "10.0.0.300"`],
    [withLine(8, `  "faults": [{ "from": "server", "to": "clinet", "action": "drop" }],`), `mine.json:8:40: faults[0].to: no host named "clinet"; hosts are: client, server`],
    [withLine(8, `  "faults": [{ "from": "server", "to": "client", "match": { "flags": "SYN+FOO" }, "action": "drop" }],`), `mine.json:8:70: faults[0].match.flags: expected TCP flags such as "SYN" or "SYN,ACK" (names: SYN FIN RST PSH ACK URG ECE CWR), got "SYN+FOO"`],
    // A GiB took a minute and 5 GB of memory, near Node's heap limit (found by test/scenario/fuzz.test.ts).
    [withLine(12, `    { "at": "2s", "host": "client", "do": "send", "bytes": 1000000000 }`), `mine.json:12:60: script[2].bytes: expected an integer from 1 to 67108864, got 1000000000`],
    [withLine(12, `    { "at": "2 seconds", "host": "client", "do": "send", "text": "hello" }`), `mine.json:12:13: script[2].at: expected a time (milliseconds, or a string such as "2.5s", "100ms", "2min") up to 2^42 ms (about 139 years), got "2 seconds"`],
    // Times past the simulated clock's end passed here and crashed the run (exit 3).
    [withLine(12, `    { "at": 1e15, "host": "client", "do": "send", "text": "hello" }`), `mine.json:12:13: script[2].at: expected a time (milliseconds, or a string such as "2.5s", "100ms", "2min") up to 2^42 ms (about 139 years), got 1000000000000000`],
    [withLine(12, `    { "at": "2000000h", "host": "client", "do": "send", "text": "hello" }`), `mine.json:12:13: script[2].at: expected a time`],
    [withLine(7, `  "links": [{ "between": ["client", "server"], "delay": "2000000h", "loss": 0 }],`), `mine.json:7:57: links[0].delay: expected a time`],
    [withLine(7, `  "links": [{ "between": ["client", "server"], "mtu": 20 }],`), `mine.json:7:55: links[0].mtu: expected a number from 68 to 9007199254740991, got 20`],
    [withLine(8, `  "faults": [{ "from": "server", "to": "client", "action": "delay", "by": "2000000h" }],`), `mine.json:8:75: faults[0].by: expected a time`],
    [withLine(5, `    { "name": "server", "address": "10.0.0.2", "tcp": { "synAckRetrys": 2 } }`), `mine.json:5:73: hosts[1].tcp.synAckRetrys: unknown TCP setting; known settings:`],
    [withLine(5, `    { "name": "server", "address": "10.0.0.2", "tcp": { "synAckRetries": -1 } }`), `mine.json:5:74: hosts[1].tcp.synAckRetries: TCP setting synAckRetries must be an integer in 0..255, got -1`],
    [withLine(15, `    { "expect": "states", "conn": "nobody", "sequence": ["SYN_SENT"] },`), `mine.json:15:35: expect[0].conn: no connection named "nobody"`],
    [withLine(16, `    { "expect": "segment", "from": "server", "flags": "SYN,ACK", "nth": 0 }`), `mine.json:16:73: expect[1].nth: counts from 1 (the first), or from -1 (the last)`],
    [withLine(11, `    { "at": "100ms", "host": "client", "do": "conect", "to": "server", "port": 80 },`), `mine.json:11:46: script[1].do: expected one of listen, connect, send`],
    [withLine(2, `  "name": "mine", "colour": "red",`), `mine.json:2:29: colour: unknown field; expected one of: name, title`],
  ])("names the field, path and line of a mistake (%#)", (text, message) => {
    const r = loadScenarioText(text, "mine.json");
    expect(r.ok).toBe(false);
    expect(r.ok ? "" : r.errors.join("\n")).toContain(message);
  });

  it("refuses more than 256 hosts (2,000 ran for minutes: a path per pair, a column per host)", () => {
    const hosts = Array.from({ length: 257 }, (_, i) => ({ name: `h${i}`, address: `10.0.${i >> 7}.${(i & 127) + 1}` }));
    const r = validateScenario({ name: "crowd", hosts, script: [] });
    expect(r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`)).toEqual(["hosts: a scenario has at most 256 hosts (each pair gets a simulated path of its own), got 257"]);
    expect(validateScenario({ name: "crowd", hosts: hosts.slice(0, 256), script: [] }).ok).toBe(true);
  });

  it("says a scenario has no hosts rather than list none", () => {
    const r = validateScenario({ name: "empty", hosts: [], links: [{ between: ["client", "server"] }], script: [] });
    expect(r.ok ? [] : r.issues.map((i) => i.message)).toContain(`no host named "client": the scenario has no hosts`);
  });

  it("reports every problem, not just the first", () => {
    const r = validateScenario({ name: "", hosts: [{ name: "a", address: "x" }], script: [{ at: -1, do: "listen", host: "b", port: 0 }] });
    expect(r.ok ? [] : r.issues.map((i) => i.path)).toEqual(["name", "hosts[0].address", "script[0].at", "script[0].host", "script[0].port"]);
  });

  it("places an error about a missing field at the object that lacks it", () => {
    const r = loadScenarioText(withLine(8, `  "faults": [{ "from": "server", "to": "client" }],`), "f.json");
    expect(r.ok ? [] : r.errors).toEqual([`f.json:8:14: faults[0].action: expected one of drop, delay, corrupt, duplicate, got nothing`]);
  });

  it("checks a link's aqm and the ecn expectation", () => {
    const r = validateScenario({
      name: "q",
      hosts: [{ name: "a", address: "10.0.0.1" }, { name: "b", address: "10.0.0.2" }],
      links: [{ from: "a", to: "b", aqm: { markAbove: -1 } }],
      script: [],
      expect: [{ expect: "ecn", host: "a", action: "ce-seen", equals: 1 }],
    });
    expect(r.ok ? [] : r.issues.map((i) => i.path)).toEqual(["links[0].aqm.markAbove", "links[0].aqm", "expect[0].action"]);
  });

  it("reports JSON syntax errors with their position", () => {
    expect(loadScenarioText('{ "name": "x", }', "bad.json")).toEqual({ ok: false, errors: [`bad.json:1:16: invalid JSON: expected a property name in double quotes, found "}"`] });
  });

  it("rejects scripts that act on hosts of the wrong kind", () => {
    const r = validateScenario({
      name: "k",
      hosts: [{ name: "a", address: "10.0.0.1" }, { name: "b", address: "10.0.0.2", kind: "raw" }],
      script: [{ at: 0, do: "listen", host: "b", port: 80 }, { at: 0, do: "syn-flood", host: "a", target: "b", port: 80, count: 1 }],
    });
    expect(r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      `script[0].host: host "b" is a raw host; this needs a tcp host`,
      `script[1].host: host "a" is a tcp host; this needs a raw host`,
    ]);
  });
});

describe("times", () => {
  it.each([
    [40, 40],
    ["40", 40],
    ["100ms", 100],
    ["2.5s", 2500],
    ["2min", 120_000],
    ["2m", 120_000],
    ["1h", 3_600_000],
    ["-1", undefined],
    [-1, undefined],
    ["soon", undefined],
    [Infinity, undefined],
    [2 ** 42, 2 ** 42], // the simulated clock's end (MAX_CLOCK_MS)
    [2 ** 42 + 1, undefined],
    ["1221679h", 4_398_044_400_000],
    ["1221680h", undefined],
  ] as const)("%s -> %s", (input, ms) => {
    expect(parseTime(input)).toBe(ms);
  });
});
