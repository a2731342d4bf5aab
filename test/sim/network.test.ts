import { describe, expect, it } from "vitest";
import type { Endpoint, Transmit } from "../../src/endpoint.js";
import type { Millis } from "../../src/env.js";
import { SimConditionTimeoutError, SimEndpointError, SimLivelockError } from "../../src/sim/errors.js";
import { SimNetwork, type SimNetworkOptions } from "../../src/sim/network.js";
import { TraceHub } from "../../src/trace/events.js";
import { formatPacketLog, type PacketLogEntry } from "../../src/trace/packet-log.js";
import { A, B, C, Echo, ipPacket, Pinger, Sink, TraceLog } from "./helpers.js";

function pair(options: Partial<SimNetworkOptions> = {}) {
  const net = new SimNetwork({ seed: 1, ...options });
  const a = net.addHost("a", A, (tx) => new Sink(tx));
  const b = net.addHost("b", B, (tx) => new Echo(tx));
  return { net, a, b };
}

describe("SimNetwork: hosts and routing", () => {
  it("delivers by destination address after the default 1 ms, and back", () => {
    const { net, a, b } = pair();
    a.endpoint.transmit(ipPacket(A, B));
    const result = net.run();
    expect(b.endpoint.times).toEqual([1]);
    expect(a.endpoint.times).toEqual([2]);
    expect(result).toEqual({ now: 2, events: 2, idle: true });
    expect(a.stats).toEqual({ sent: 1, received: 1, polls: 0 });
    expect(b.stats).toEqual({ sent: 1, received: 1, polls: 0 });
  });

  it("drops and traces packets to an unknown address, or too short to have one", () => {
    const trace = new TraceLog();
    const { net, a } = pair({ trace });
    a.endpoint.transmit(ipPacket(A, C));
    a.endpoint.transmit(new Uint8Array(10));
    net.run();
    expect(net.stats.unroutable).toBe(2);
    expect(trace.links()).toEqual([
      { type: "link", time: 0, link: "a->10.0.0.3", action: "drop", reason: "no-route", bytes: 100 },
      { type: "link", time: 0, link: "a->?", action: "drop", reason: "malformed", bytes: 10 },
    ]);
  });

  it("refuses duplicate names and addresses, bad addresses and unknown host names", () => {
    const { net } = pair();
    expect(() => net.addHost("a", C, (tx) => new Sink(tx))).toThrow(/named "a"/);
    expect(() => net.addHost("c", A, (tx) => new Sink(tx))).toThrow(/10\.0\.0\.1 already belongs to "a"/);
    expect(() => net.addHost("c", -1, (tx) => new Sink(tx))).toThrow(RangeError);
    expect(() => net.setPath("a", "nobody", {})).toThrow(/no host named "nobody"/);
    expect(net.host("b").address).toBe(B);
    expect(net.hosts.map((h) => h.name)).toEqual(["a", "b"]);
  });

  it("gives each host factory its own deterministic random stream and the clock", () => {
    const draws: Record<string, number> = {};
    const make = () => {
      const net = new SimNetwork({ seed: 9 });
      for (const [name, addr] of [["x", A], ["y", B]] as const) {
        net.addHost(name, addr, (tx, ctx) => {
          draws[`${name}:${ctx.name}:${ctx.address}`] = ctx.rng.nextU32();
          expect(ctx.now()).toBe(0);
          return new Sink(tx);
        });
      }
      return { ...draws };
    };
    const first = make();
    expect(make()).toEqual(first);
    expect(first[`x:x:${A}`]).not.toBe(first[`y:y:${B}`]);
  });
});

describe("SimNetwork: paths", () => {
  it("setPath impairs one direction only", () => {
    const { net, a, b } = pair();
    net.setPath(a, b, { delay: 10 });
    a.endpoint.transmit(ipPacket(A, B));
    net.run();
    expect(b.endpoint.times).toEqual([10]);
    expect(a.endpoint.times).toEqual([11]);
  });

  it("connect sets both directions, each with its own queue and stats", () => {
    const { net, a, b } = pair();
    net.connect("a", "b", { delay: 20 });
    a.endpoint.transmit(ipPacket(A, B));
    net.run();
    expect(a.endpoint.times).toEqual([40]);
    expect(net.path(a, b).stats.offered).toBe(1);
    expect(net.path(b, a).stats.offered).toBe(1);
  });

  it("a path changed mid-run applies to packets sent afterwards", () => {
    const { net, a, b } = pair();
    net.at(0, () => a.endpoint.transmit(ipPacket(A, B)));
    net.at(5, () => net.setPath(a, b, { loss: 1 }));
    net.at(6, () => a.endpoint.transmit(ipPacket(A, B)));
    net.run();
    expect(b.endpoint.times).toEqual([1]);
  });

  it("routes a packet a host sends to itself through its own loopback path", () => {
    const { net, a } = pair();
    a.endpoint.transmit(ipPacket(A, A));
    net.run();
    expect(a.endpoint.times).toEqual([1]);
  });

  it("delivers in order of arrival time, FIFO among equal times", () => {
    const { net, a, b } = pair();
    net.setPath(a, b, { delay: 0, rate: 12_000_000 });
    for (let i = 0; i < 3; i++) a.endpoint.transmit(ipPacket(A, B, 1500, i));
    a.endpoint.transmit(ipPacket(A, B, 1500, 9)); // queued behind the others
    net.run();
    expect(b.endpoint.received.map((r) => [r.time, r.packet[20]])).toEqual([
      [1, 0],
      [2, 1],
      [3, 2],
      [4, 9],
    ]);
  });
});

describe("SimNetwork: actions and run limits", () => {
  it("runs actions at their time and refuses actions in the past", () => {
    const { net } = pair();
    const at: Millis[] = [];
    net.at(30, (now) => at.push(now));
    net.at(10, (now) => at.push(now));
    net.after(20, (now) => at.push(now));
    net.run();
    expect(at).toEqual([10, 20, 30]);
    expect(() => net.at(29, () => {})).toThrow(/cannot schedule/);
    expect(() => net.at(Infinity, () => {})).toThrow(RangeError);
    // Refused at the call rather than thrown from the run when its time comes.
    const code = expect.objectContaining({ code: "ERR_INVALID_ARG_VALUE" });
    expect(() => net.at(40, 5 as never)).toThrow(code);
    expect(() => net.after(5, undefined as never)).toThrow(code);
    expect(() => net.at({ toString: false } as never, () => {})).toThrow(code);
    expect(() => net.run()).not.toThrow();
  });

  it("a trace subscriber must be a function", () => {
    const hub = new TraceHub();
    expect(() => hub.subscribe("log" as never)).toThrow(expect.objectContaining({ code: "ERR_INVALID_ARG_VALUE" }));
    expect(hub.enabled).toBe(false);
  });

  it("run() until idle stops at the last event", () => {
    const { net } = pair();
    net.at(42, () => {});
    expect(net.run()).toEqual({ now: 42, events: 1, idle: true });
    expect(net.run()).toEqual({ now: 42, events: 0, idle: true });
  });

  it("run({ until }) leaves later work queued, sets the clock to until, and resumes", () => {
    const { net, a, b } = pair();
    net.setPath(a, b, { delay: 100 });
    a.endpoint.transmit(ipPacket(A, B));
    expect(net.run({ until: 50 })).toEqual({ now: 50, events: 0, idle: false });
    expect(b.endpoint.received).toEqual([]);
    expect(net.run({ until: 100 })).toEqual({ now: 100, events: 1, idle: false });
    expect(b.endpoint.times).toEqual([100]);
    expect(net.run({ until: 500 })).toEqual({ now: 500, events: 1, idle: true });
    expect(() => net.run({ until: 400 })).toThrow(RangeError);
  });

  it("an event exactly at until is processed", () => {
    const { net } = pair();
    let ran = false;
    net.at(10, () => (ran = true));
    net.run({ until: 10 });
    expect(ran).toBe(true);
  });

  it("runFor lets that much virtual time pass even when idle", () => {
    const { net } = pair();
    net.runFor(250);
    expect(net.now).toBe(250);
    net.runFor(0);
    expect(net.now).toBe(250);
  });

  it("runUntil returns the time the condition first held", () => {
    const { net, a } = pair();
    net.at(5, () => a.endpoint.transmit(ipPacket(A, B)));
    expect(net.runUntil(() => a.endpoint.received.length > 0, 1000)).toBe(7);
    expect(net.runUntil(() => true)).toBe(7); // already true: no time passes
  });

  it("runUntil throws with a reason when the limit passes or the network goes idle first", () => {
    const { net } = pair();
    net.at(5000, () => {});
    const err = (() => {
      try {
        net.runUntil(() => false, 1000);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(SimConditionTimeoutError);
    expect((err as SimConditionTimeoutError).code).toBe("SIM_CONDITION_TIMEOUT");
    expect(String(err)).toMatch(/limit/);
    expect(net.now).toBe(1000);
    net.runFor(5000);
    expect(() => net.runUntil(() => false, 1000)).toThrow(/idle/);
    expect(() => net.runUntil(() => false, Infinity)).toThrow(/idle/);
    expect(net.now).toBe(7000); // an unlimited wait that went idle leaves the clock where work ended
    expect(() => net.runUntil(() => true, -1)).toThrow(RangeError);
  });

  it("reports a livelock when two echoes bounce a packet forever", () => {
    const net = new SimNetwork({ seed: 1 });
    const a = net.addHost("a", A, (tx) => new Echo(tx));
    net.addHost("b", B, (tx) => new Echo(tx));
    a.endpoint.transmit(ipPacket(A, B));
    const run = () => net.run({ maxEvents: 500 });
    expect(run).toThrow(SimLivelockError);
    expect(run).toThrow(/livelock/);
    expect(() => net.runUntil(() => false, 1e9, 100)).toThrow(SimLivelockError);
  });

  it("reports a livelock that makes no progress in time, saying so", () => {
    const net = new SimNetwork({ seed: 1, maxEvents: 100 });
    net.addHost("a", A, (tx) => new Echo(tx));
    net.setPath("a", "a", { delay: 0 });
    net.at(3, () => net.host("a").endpoint.receive(3, ipPacket(A, A)));
    expect(() => net.run()).toThrow(/events all happened at 3 ms: virtual time is not moving/);
  });

  it("allows exactly maxEvents events", () => {
    const { net } = pair();
    for (let i = 0; i < 5; i++) net.at(i, () => {});
    expect(net.run({ maxEvents: 5 }).events).toBe(5);
  });
});

/** An endpoint whose timer is set from outside, to exercise the deadline contract. */
class Timer implements Endpoint {
  deadline: Millis = Infinity;
  readonly polls: Millis[] = [];
  /** What poll sets the deadline to; by default it clears the timer. */
  afterPoll: (now: Millis) => Millis = () => Infinity;
  onReceive: (now: Millis) => void = () => {};
  constructor(readonly transmit: Transmit) {}
  receive(now: Millis): void {
    this.onReceive(now);
  }
  poll(now: Millis): void {
    this.polls.push(now);
    this.deadline = this.afterPoll(now);
  }
  nextDeadline(): Millis {
    return this.deadline;
  }
}

describe("SimNetwork: endpoint deadlines", () => {
  it("polls a timer endpoint exactly at its deadlines and delivers what it sends", () => {
    const net = new SimNetwork({ seed: 1 });
    const p = net.addHost("p", A, (tx) => new Pinger(tx, A, B, 3, 10, 5));
    const e = net.addHost("e", B, (tx) => new Echo(tx));
    net.run();
    expect(p.endpoint.polledAt).toEqual([5, 15, 25]);
    expect(e.endpoint.times).toEqual([6, 16, 26]);
    expect(p.endpoint.times).toEqual([7, 17, 27]);
    expect(p.stats.polls).toBe(3);
  });

  it("re-reads a host's deadline after it receives a packet", () => {
    const net = new SimNetwork({ seed: 1 });
    const t = net.addHost("t", A, (tx) => new Timer(tx));
    t.endpoint.onReceive = (now) => (t.endpoint.deadline = now + 5); // e.g. a delayed ACK
    net.at(0, () => t.endpoint.transmit(ipPacket(A, A)));
    net.run();
    expect(t.endpoint.polls).toEqual([6]);
  });

  it("re-reads deadlines after an application action and at the start of each run", () => {
    const net = new SimNetwork({ seed: 1 });
    const t = net.addHost("t", A, (tx) => new Timer(tx));
    net.at(10, () => (t.endpoint.deadline = 30));
    net.run();
    expect(t.endpoint.polls).toEqual([30]);
    t.endpoint.deadline = 45; // changed between runs, by test code
    net.run();
    expect(t.endpoint.polls).toEqual([30, 45]);
  });

  it("delivers queued packets before polling timers due at the same instant", () => {
    const net = new SimNetwork({ seed: 1 });
    const order: string[] = [];
    const t = net.addHost("t", A, (tx) => new Timer(tx));
    t.endpoint.onReceive = () => order.push("receive");
    t.endpoint.afterPoll = () => (order.push("poll"), Infinity);
    t.endpoint.deadline = 1;
    t.endpoint.transmit(ipPacket(A, A)); // arrives at 1 too
    net.run();
    expect(order).toEqual(["receive", "poll"]);
  });

  it("polls hosts with equal deadlines in the order they were added", () => {
    const net = new SimNetwork({ seed: 1 });
    const order: string[] = [];
    for (const [name, addr] of [["x", B], ["y", A], ["z", C]] as const) {
      const h = net.addHost(name, addr, (tx) => new Timer(tx));
      h.endpoint.deadline = 7;
      h.endpoint.afterPoll = () => (order.push(name), Infinity);
    }
    net.run();
    expect(order).toEqual(["x", "y", "z"]);
  });

  it("polls a deadline already in the past at the current time, never going back", () => {
    const net = new SimNetwork({ seed: 1 });
    const t = net.addHost("t", A, (tx) => new Timer(tx));
    net.at(20, () => (t.endpoint.deadline = 5));
    net.run();
    expect(t.endpoint.polls).toEqual([20]);
  });

  it("keeps polling while the deadline moves forward, even if still due", () => {
    const net = new SimNetwork({ seed: 1 });
    const t = net.addHost("t", A, (tx) => new Timer(tx));
    t.endpoint.deadline = 1;
    t.endpoint.afterPoll = () => (t.endpoint.deadline < 10 ? t.endpoint.deadline + 2 : Infinity);
    net.at(10, () => {});
    net.run();
    // Polled at 1 (-> 3), 3 (-> 5), 5 (-> 7), 7 (-> 9), 9 (-> 11), then 11 (-> Infinity).
    expect(t.endpoint.polls).toEqual([1, 3, 5, 7, 9, 11]);
  });

  it("names the host whose poll leaves a due deadline where it was", () => {
    const net = new SimNetwork({ seed: 1 });
    net.addHost("good", B, (tx) => new Sink(tx));
    const t = net.addHost("stuck", A, (tx) => new Timer(tx));
    t.endpoint.deadline = 4;
    t.endpoint.afterPoll = () => 4; // a timer that is due but never fires
    const err = (() => {
      try {
        net.run();
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(SimEndpointError);
    expect((err as SimEndpointError).host).toBe("stuck");
    expect((err as SimEndpointError).code).toBe("SIM_ENDPOINT_DEADLINE");
    expect(String(err)).toMatch(/"stuck".*did not move it forward from 4/);
    expect(t.endpoint.polls).toEqual([4]); // polled once, not forever
  });

  it("names the host whose deadline goes backwards after a poll, or is NaN", () => {
    const net = new SimNetwork({ seed: 1 });
    const t = net.addHost("back", A, (tx) => new Timer(tx));
    t.endpoint.deadline = 4;
    t.endpoint.afterPoll = () => 2;
    expect(() => net.run()).toThrow(/"back"/);

    const net2 = new SimNetwork({ seed: 1 });
    const n = net2.addHost("nan", A, (tx) => new Timer(tx));
    n.endpoint.deadline = Number.NaN;
    expect(() => net2.run()).toThrow(/"nan".*NaN/);
  });
});

describe("SimNetwork: packet log and determinism", () => {
  /** A busy, heavily impaired scenario: 3 hosts, pings both ways, every impairment on. */
  function scenario(seed: number, withThirdHost = false): PacketLogEntry[] {
    const net = new SimNetwork({ seed, packetLog: true });
    net.addHost("a", A, (tx) => new Pinger(tx, A, B, 200, 3));
    net.addHost("b", B, (tx) => new Echo(tx));
    const impaired = { delay: 5, jitter: 4, loss: 0.1, duplicate: 0.05, reorder: 0.1, reorderDelay: 7, corrupt: 0.05, rate: 1_000_000, queueLimit: 3 };
    net.connect("a", "b", impaired);
    if (withThirdHost) {
      net.addHost("c", C, (tx) => new Pinger(tx, C, B, 300, 1));
      // No corruption here: a corrupted source address could make b echo to a, which is
      // genuinely new a<->b traffic rather than a randomness leak.
      net.connect("c", "b", { ...impaired, corrupt: 0 });
    }
    net.run();
    return net.packetLog;
  }

  it("logs sends and deliveries with time, hosts and a private copy of the bytes", () => {
    const entries: PacketLogEntry[] = [];
    const net = new SimNetwork({ seed: 1, packetLog: (e) => entries.push(e) });
    const a = net.addHost("a", A, (tx) => new Sink(tx));
    net.addHost("b", B, (tx) => new Sink(tx));
    const p = ipPacket(A, B);
    a.endpoint.transmit(p);
    a.endpoint.transmit(ipPacket(A, C));
    net.run();
    expect(entries.map((e) => [e.time, e.event, e.from, e.to])).toEqual([
      [0, "send", "a", "b"],
      [0, "send", "a", "10.0.0.3"],
      [1, "deliver", "a", "b"],
    ]);
    expect(entries[0]!.bytes).toEqual(p);
    expect(entries[0]!.bytes).not.toBe(p);
    expect(net.packetLog).toEqual([]); // a recorder function replaces the built-in log
  });

  it("replays byte for byte with the same seed", () => {
    const first = scenario(7);
    expect(first.length).toBeGreaterThan(500);
    expect(scenario(7)).toEqual(first);
    expect(formatPacketLog(scenario(7))).toBe(formatPacketLog(first));
  });

  it("differs with another seed", () => {
    expect(formatPacketLog(scenario(8))).not.toBe(formatPacketLog(scenario(7)));
  });

  it("gives each path its own randomness: adding a host does not change what a and b see", () => {
    const key = (e: PacketLogEntry) => `${e.time} ${e.event} ${e.from}->${e.to} ${e.bytes.join(",")}`;
    const between = (log: PacketLogEntry[]) => log.filter((e) => e.from !== "c" && (e.to === "a" || e.to === "b")).map(key);
    const alone = between(scenario(7));
    const crowded = scenario(7, true);
    expect(crowded.some((e) => e.from === "c")).toBe(true);
    // c's pings and b's echoes to c are new traffic on b, yet the a<->b exchange is unchanged.
    expect(between(crowded)).toEqual(alone);
  });
});
