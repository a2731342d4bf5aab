/** The drill runner's parts: lexer and parser, recvmsg()'s msghdr, the Python subset, the sysctl table. */
import { describe, expect, it } from "vitest";
import { DrillSyntaxError, DrillUnsupportedError } from "../../src/drill/errors.js";
import { parseScript, secondsToUsecs } from "../../src/drill/parser.js";
import { PyAssertionError, PyError, runPython, type PyValue } from "../../src/drill/python.js";
import { inqMessage, recvmsgOutputs } from "../../src/drill/cmsg.js";
import { parseMsgHdr } from "../../src/drill/msghdr.js";
import { applyCommand, corpusDefaults, windowScaleFor, type DrillSettings } from "../../src/drill/sysctl.js";

const pos = { file: "t.pkt", line: 1, column: 1 };

describe("parser", () => {
  it("refuses a header field its bits cannot hold, as packetdrill does (a window of 99999999 passed)", () => {
    expect(() => parseScript("0 < . 1:1(0) ack 1 win 99999999", "t.pkt")).toThrow("t.pkt:1:24: the window must be 0 to 65535 (a 16-bit field), got 99999999");
    expect(() => parseScript("0 < . 1:1(0) ack 4294967296 win 1", "t.pkt")).toThrow("the acknowledgement number must be 0 to 4294967295 (a 32-bit field), got 4294967296");
    expect(() => parseScript("0 < . 99999999999:99999999999(0) win 1", "t.pkt")).toThrow("the starting sequence number must be 0 to 4294967295");
    expect(() => parseScript("0 < U. 1:1(0) ack 1 win 1 urg 65536", "t.pkt")).toThrow("the urgent pointer must be 0 to 65535");
    expect(parseScript("0 < . 4294967295:4294967295(0) ack 4294967295 win 65535 urg 65535", "t.pkt").events).toHaveLength(1);
  });

  it("names a character it cannot read by code point when it cannot be seen", () => {
    expect(() => parseScript("0 \u0001close(3) = 0", "t.pkt")).toThrow("t.pkt:1:3: unexpected character U+0001");
    expect(() => parseScript("0 §close(3) = 0", "t.pkt")).toThrow('t.pkt:1:3: unexpected character "§"');
  });

  it("reads times as exact microseconds", () => {
    expect(secondsToUsecs(".1")).toBe(100_000);
    expect(secondsToUsecs("0.000001")).toBe(1);
    expect(secondsToUsecs("2")).toBe(2_000_000);
    const s = parseScript("0 close(3) = 0\n+.3~+.310 close(3) = 0\n* close(3) = 0\n1.5~2 close(3) = 0", "t.pkt");
    expect(s.events.map((e) => e.time)).toEqual([
      { kind: "absolute", at: 0 },
      { kind: "range", relative: true, from: 300_000, to: 310_000 },
      { kind: "any" },
      { kind: "range", relative: false, from: 1_500_000, to: 2_000_000 },
    ]);
  });

  it("reads packets: flags, ranges, ack, window, options in order, IP marks", () => {
    const s = parseScript("0 < [ect0] SEW 0:0(0) win 100 <mss 1000,nop,wscale 7,sackOK,TS val 1 ecr 0,sack 1:2 3:4,eol>\n0 > P. 1:11(10) ack 5 <...>", "t.pkt");
    const [a, b] = s.events.map((e) => e.action);
    expect(a).toMatchObject({ type: "tcp", direction: "in", flagText: "SEW", flags: 0x02 | 0x40 | 0x80, ip: { ecn: "ect0" }, win: 100 });
    expect(a?.type === "tcp" && a.options).toEqual([
      { kind: "mss", value: 1000 },
      { kind: "nop" },
      { kind: "wscale", value: 7 },
      { kind: "sackOK" },
      { kind: "ts", val: 1, ecr: 0 },
      { kind: "sack", blocks: [[1, 2], [3, 4]] },
      { kind: "eol" },
    ]);
    expect(b).toMatchObject({ direction: "out", flagText: "P.", seq: { start: 1, end: 11, len: 10 }, ack: 5, options: "any" });
  });

  it("joins a hex blob the lexer split, including one that came from a -D define", () => {
    const s = parseScript("0 < S 0:0(0) win 1 <FO COOKIE,nop>", "t.pkt", new Map([["COOKIE", "3021b9d889017eeb"]]));
    const a = s.events[0]!.action;
    expect(a.type === "tcp" && a.options).toEqual([{ kind: "fo", cookie: "3021b9d889017eeb" }, { kind: "nop" }]);
  });

  it("reads system calls: struct literals, |, errno and its note, blocking end times", () => {
    const s = parseScript("+0...0.040 poll([{fd=4, events=POLLIN|POLLOUT, revents=POLLOUT}], 1, 1000) = 1\n+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)", "t.pkt");
    expect(s.events[0]!.action).toMatchObject({ type: "syscall", name: "poll", end: 40_000, result: { type: "int", value: 1 } });
    expect(s.events[1]!.action).toMatchObject({ name: "connect", result: { type: "int", value: -1 }, errno: "EINPROGRESS", note: "Operation now in progress" });
  });

  it("keeps the options, the init command and the cleanup command apart from events", () => {
    const s = parseScript("--tolerance_usecs=7000\n--strict_segments\n`../common/defaults.sh`\n0 close(3) = 0\n`/tmp/restore.sh`\n", "t.pkt");
    expect(s.options.map((o) => [o.name, o.value])).toEqual([["tolerance_usecs", "7000"], ["strict_segments", undefined]]);
    expect(s.initCommand?.text).toBe("../common/defaults.sh");
    expect(s.cleanupCommand?.text).toBe("/tmp/restore.sh");
    expect(s.events).toHaveLength(1);
  });

  it("names file, line and column in errors", () => {
    expect(() => parseScript("0 close(3) = 0\n+0 > Q 0:0(0)", "x.pkt")).toThrow(new DrillSyntaxError("unknown TCP flag 'Q' in 'Q'", { file: "x.pkt", line: 2, column: 6 }));
    expect(() => parseScript("0 close(3", "x.pkt")).toThrow(/x\.pkt:1:10: expected ',', found end of script/);
    expect(() => parseScript('0 write(3, "abc', "x.pkt")).toThrow(/x\.pkt:1:12: unterminated string/);
  });
});

describe("recvmsg()'s msghdr and control messages", () => {
  const msghdr = (text: string) => {
    const call = parseScript(`0 recvmsg(4, ${text}, 0) = 10`, "t.pkt").events[0]!.action;
    if (call.type !== "syscall") throw new Error("not a call");
    return parseMsgHdr(call.args[1], pos, "recvmsg");
  };
  const inq = "{cmsg_level=SOL_TCP, cmsg_type=TCP_CM_INQ, cmsg_data=7}";
  const checks = (text: string, inqValue: number | undefined) =>
    recvmsgOutputs(msghdr(text), inqValue === undefined ? [] : [inqMessage(inqValue)], pos).map((o) => [o.what, o.expected.type === "int" ? o.expected.value : o.expected.type, o.actual]);

  it("checks msg_flags, the number of messages, then each field", () => {
    expect(checks(`{msg_iov(1)=[{..., 10}], msg_flags=0, msg_control=[${inq}]}`, 7)).toEqual([
      ["msg_flags", 0, 0],
      ["control messages", 1, 1],
      ["TCP_CM_INQ cmsg_level", "word", 6],
      ["TCP_CM_INQ cmsg_type", "word", 36],
      ["TCP_CM_INQ cmsg_data", 7, 7],
    ]);
  });

  it("a message the call wrote but the script did not expect shows in the count", () => {
    expect(checks("{msg_iov(1)=[{..., 10}], msg_control=[]}", 3)).toEqual([["control messages", 0, 1]]);
    expect(checks(`{msg_iov(1)=[{..., 10}], msg_control=[${inq}]}`, undefined)).toEqual([["control messages", 1, 0]]);
  });

  it("without msg_control the message is dropped and msg_flags has MSG_CTRUNC (0x8), as put_cmsg does", () => {
    expect(checks("{msg_iov(1)=[{..., 10}], msg_flags=0}", 3)).toEqual([["msg_flags", 0, 8]]);
    expect(checks("{msg_iov(1)=[{..., 10}], msg_flags=0}", undefined)).toEqual([["msg_flags", 0, 0]]);
  });

  it("any other control message is unsupported, not a failure", () => {
    expect(() => checks("{msg_iov(1)=[{..., 10}], msg_control=[{cmsg_level=SOL_SOCKET, cmsg_type=SO_MARK, cmsg_data=1}]}", 1)).toThrow(DrillUnsupportedError);
  });
});

describe("the Python subset of %{ }% blocks", () => {
  const run = (code: string, scope: Record<string, PyValue> = {}) => {
    const printed: string[] = [];
    const s = new Map(Object.entries(scope));
    runPython(code, s, (l) => printed.push(l));
    return { printed, scope: s };
  };
  it("asserts with chained comparisons, masks and % formatting", () => {
    expect(() => run("assert 98000 <= x <= 110000, 'x=%d' % x", { x: 100_000 })).not.toThrow();
    expect(() => run("assert 98000 <= x <= 110000, 'x=%d us' % x", { x: 120_000 })).toThrow(new PyAssertionError("98000 <= x <= 110000", "x=120000 us"));
    expect(() => run("assert (o & 0x20) != 0, o", { o: 0x21 })).not.toThrow();
    expect(() => run("assert o & 4 == 4", { o: 3 })).toThrow(PyAssertionError); // Python binds & tighter than ==
  });
  it("keeps variables, supports += and ; and \\ continuations, prints", () => {
    const { printed, scope } = run("cwnd = 10; cwnd += 2\nprint(cwnd)\nassert cwnd == 12 and not cwnd == 11, \\\n  cwnd");
    expect(printed).toEqual(["12"]);
    expect(scope.get("cwnd")).toBe(12);
  });
  it("refuses what it does not know instead of passing", () => {
    expect(() => run("assert undefined_name == 1")).toThrow(new PyError("name 'undefined_name' is not defined"));
    expect(() => run("import os")).toThrow(PyError);
    expect(() => run("assert [1] == 1")).toThrow(PyError);
  });
});

describe("sysctl and shell lines", () => {
  const apply = (text: string) => {
    const s: DrillSettings = { tcp: {} };
    applyCommand(text, s, pos);
    return s.tcp;
  };
  it("the corpus's defaults.sh maps to Linux's numbers (wscale 8 for a 15 MiB tcp_rmem)", () => {
    expect(apply("../common/defaults.sh")).toEqual(corpusDefaults().tcp);
    expect(corpusDefaults().tcp.windowScaleShift).toBe(8);
    expect(windowScaleFor(6 * 1024 * 1024)).toBe(7); // Linux's own default tcp_rmem
  });
  it("maps sysctl and set_sysctls.py lines, quoted values and continuations included", () => {
    expect(apply('sysctl -q net.ipv4.tcp_timestamps=0\n../common/set_sysctls.py /proc/sys/net/ipv4/tcp_wmem="4096 50000 4194304" \\\n /proc/sys/net/ipv4/tcp_syn_retries=2')).toEqual({ timestamps: false, sendBufferSize: 50000, sendBufferMax: 4194304, synRetries: 2 });
  });
  it("maps tcp_ecn 0, 1 and 2 to the ecn setting (RFC 3168), with defaults.sh's 0", () => {
    expect(apply("sysctl -q net.ipv4.tcp_ecn=1")).toEqual({ ecn: 1 });
    expect(apply("sysctl -q net.ipv4.tcp_ecn=2")).toEqual({ ecn: 2 });
    expect(apply("sysctl -q net.ipv4.tcp_ecn=0")).toEqual({ ecn: 0 });
    expect(corpusDefaults().tcp.ecn).toBe(0);
  });
  it("maps tcp_congestion_control to reno, cubic or bbr and names any other algorithm as missing", () => {
    expect(apply("sysctl -q net.ipv4.tcp_congestion_control=bbr")).toEqual({ congestionControl: "bbr" });
    expect(apply("sysctl -q net.ipv4.tcp_congestion_control=reno")).toEqual({ congestionControl: "reno" });
    expect(() => apply("sysctl -q net.ipv4.tcp_congestion_control=vegas")).toThrow(/congestion control "vegas"/);
  });
  it("treats knobs of machinery synack lacks as no-ops only where every value behaves alike", () => {
    expect(apply("ethtool -K tun0 tso off gso off\nip tcp_metrics flush all > /dev/null 2>&1")).toEqual({});
  });
  it("maps tcp_tso_win_divisor to the sender's TSO deferral (the slow-start scripts set 100 to turn it off)", () => {
    expect(apply("sysctl -q net.ipv4.tcp_tso_win_divisor=100")).toEqual({ tsoWinDivisor: 100 });
    expect(apply("sysctl -q net.ipv4.tcp_tso_win_divisor=0")).toEqual({ tsoWinDivisor: 0 });
  });
  it("maps the fq qdisc to pacing (Linux's TCP stamps departure times, fq keeps them) at Linux's pacing ratios only", () => {
    expect(apply("tc qdisc replace dev tun0 root fq\nsysctl -q net/ipv4/tcp_pacing_ss_ratio=200 net.ipv4.tcp_pacing_ca_ratio=120")).toEqual({ pacing: true });
    expect(apply("tc qdisc replace dev tun0 root pfifo")).toEqual({});
  });
  it("names the missing feature for anything else", () => {
    expect(() => apply("sysctl -q net.ipv4.tcp_ecn=3")).toThrow(new DrillUnsupportedError("Accurate ECN (tcp_ecn=3)", pos));
    expect(() => apply("sysctl -q net.ipv4.tcp_no_such_thing=1")).toThrow(/sysctl net\.ipv4\.tcp_no_such_thing/);
    expect(() => apply("tc qdisc replace dev tun0 root pfifo limit 0")).toThrow(/qdisc "pfifo limit 0"/);
    expect(() => apply("sysctl -q net.ipv4.tcp_pacing_ss_ratio=150")).toThrow(/tcp_pacing_ss_ratio/);
    expect(() => apply("rm -rf /")).toThrow(/shell command "rm -rf \/"/);
  });
});
