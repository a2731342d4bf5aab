/**
 * UDP in scenario files (S33): the actions, fault matches and checks validate with located
 * errors, and a file using them runs and its checks describe what happened.
 */
import { describe, expect, it } from "vitest";
import { loadScenarioText } from "../../src/scenario/load.js";
import { narrateRun } from "../../src/scenario/narrate.js";
import { failures, runToEnd } from "./helpers.js";

const FILE = `{
  "name": "udp-mine",
  "hosts": [
    { "name": "a", "address": "10.0.0.1" },
    { "name": "b", "address": "10.0.0.2" }
  ],
  "faults": [{ "from": "a", "to": "b", "match": { "protocol": "udp", "fragment": false }, "nth": [2], "action": "drop" }],
  "script": [
    { "at": 0, "host": "b", "do": "udp-bind", "port": 53, "as": "dns", "rcvbuf": 4096, "reading": false },
    { "at": 0, "host": "a", "do": "udp-send", "to": "b", "port": 53, "size": 100, "count": 3, "interval": "5ms" },
    { "at": "1s", "socket": "dns", "do": "udp-read", "count": 1 },
    { "at": "2s", "host": "b", "do": "netstat" }
  ],
  "expect": [
    { "expect": "udp", "socket": "dns", "read": 1, "readBytes": 100, "dropped": 0 },
    { "expect": "udp", "host": "a", "sent": 3 },
    { "expect": "drops", "link": "a->b", "reason": "rule", "equals": 1 },
    { "expect": "counters", "host": "b", "udp": { "inDatagrams": 2 } }
  ]
}`;

const withLine = (n: number, text: string): string => FILE.split("\n").map((l, i) => (i === n - 1 ? text : l)).join("\n");

describe("UDP scenario files", () => {
  it("load, run, and their checks hold", () => {
    const loaded = loadScenarioText(FILE, "u.json");
    if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
    const { run, results } = runToEnd(loaded.spec);
    expect(failures(results)).toEqual([]);
    const text = narrateRun(run).join("\n");
    expect(text).toMatch(/-- UDP #2 len=100 -+X  lost \(fault rule\)/);
    expect(text).toContain("#3 queued");
    expect(text).toContain("2 packets received");
  });

  it("a check that does not hold says what happened", () => {
    const loaded = loadScenarioText(withLine(18, `    { "expect": "counters", "host": "b", "udp": { "inDatagrams": 3, "rcvbufErrors": 0 } }`), "u.json");
    if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
    expect(failures(runToEnd(loaded.spec).results)).toEqual(["b counters: udp.inDatagrams = 3, udp.rcvbufErrors = 0: udp.inDatagrams = 2"]);
  });

  it.each([
    [9, `    { "at": 0, "host": "b", "do": "udp-bind", "port": 0, "as": "dns" },`, "u.json:9: script[0].port: expected an integer from 1 to 65535, got 0"],
    [10, `    { "at": 0, "host": "a", "do": "udp-send", "to": "b", "port": 53, "size": 70000 },`, "u.json:10: script[1].size: expected an integer from 0 to 65507, got 70000"],
    [10, `    { "at": 0, "host": "a", "do": "udp-send", "to": "c", "port": 53, "size": 1 },`, `u.json:10: script[1].to: no host named "c"; hosts are: a, b`],
    [10, `    { "at": 0, "host": "a", "do": "udp-send", "to": "b", "port": 53 },`, `u.json:10: script[1]: give either "size" (bytes per datagram) or "text" (a string) to send`],
    [11, `    { "at": "1s", "socket": "dsn", "do": "udp-read" },`, `u.json:11: script[2].socket: no UDP socket named "dsn" (name one with "as" in a udp-bind action); known: a, b, dns`],
    [7, `  "faults": [{ "from": "a", "to": "b", "match": { "protocol": "udp", "flags": "SYN" }, "action": "drop" }],`, `u.json:7: faults[0].match.flags: a UDP match takes only "fragment"; "flags" is about TCP segments`],
    [7, `  "faults": [{ "from": "a", "to": "b", "match": { "fragment": true }, "action": "drop" }],`, `u.json:7: faults[0].match.fragment: "fragment" needs "protocol": "udp" (TCP segments are never fragmented)`],
    [18, `    { "expect": "counters", "host": "b", "udp": { "rcvbufErrs": 0 } }`, `u.json:18: expect[3].udp.rcvbufErrs: unknown field; expected one of: inDatagrams, noPorts, inErrors, inCsumErrors, rcvbufErrors, outDatagrams, sndbufErrors, icmpErrorsReported, icmpErrorsIgnored`],
  ])("line %i wrong: a located error", (line, text, message) => {
    const r = loadScenarioText(withLine(line, text), "u.json");
    // Columns are checked by load.test.ts; here the line, the field and the message.
    expect(r.ok ? [] : r.errors.map((e) => e.replace(/^(u\.json:\d+):\d+:/, "$1:"))).toEqual([message]);
  });
});
