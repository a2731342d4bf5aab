/**
 * F-RTO (RFC 5682 section 3.1, SACK-enhanced, as Linux's tcp_process_loss): the verdicts,
 * and a spurious timeout in the simulator undone without resending what arrived.
 */
import { describe, expect, it } from "vitest";
import { Frto, type FrtoAck } from "../../src/tcp/loss/frto.js";
import { spuriousTimeout } from "../../src/scenario/builtin/data.js";
import { failures, runToEnd } from "../scenario/helpers.js";

const ack = (over: Partial<FrtoAck>): FrtoAck => ({ originalDelivered: false, unaAdvanced: false, recovered: false, duplicateOrSack: false, canSendNew: true, ...over });

describe("Frto verdicts", () => {
  it("an ACK for data never resent says the timeout was spurious (step 3.b, FLAG_ORIG_SACK_ACKED)", () => {
    const f = new Frto();
    f.onTimeout(true, false);
    expect(f.onAck(ack({ originalDelivered: true, unaAdvanced: true }))).toBe("spurious");
    expect(f.active).toBe(false);
  });

  it("the first ACK that advances lets new data go (step 2.b); a duplicate after it says the loss was real (step 3.a)", () => {
    const f = new Frto();
    f.onTimeout(true, false);
    expect(f.onAck(ack({ unaAdvanced: true }))).toBe("send-new");
    f.newDataSent = true;
    expect(f.onAck(ack({ unaAdvanced: true }))).toBe("none");
    expect(f.onAck(ack({ duplicateOrSack: true }))).toBe("real");
    expect(f.active).toBe(false);
  });

  it("falls back to conventional recovery without new data to send, when recovered, when off, or with an MTU probe out", () => {
    const noData = new Frto();
    noData.onTimeout(true, false);
    expect(noData.onAck(ack({ unaAdvanced: true, canSendNew: false }))).toBe("none");
    expect(noData.active).toBe(false);
    const recovered = new Frto();
    recovered.onTimeout(true, false);
    expect(recovered.onAck(ack({ unaAdvanced: true, recovered: true }))).toBe("none");
    const off = new Frto();
    off.onTimeout(false, false);
    expect(off.onAck(ack({ originalDelivered: true }))).toBe("none");
    const probing = new Frto();
    probing.onTimeout(true, true);
    expect(probing.active).toBe(false);
  });
});

describe("a spurious timeout in the simulator (ACKs held 400 ms, no timestamps)", () => {
  const retransmissions = (frto: boolean) => {
    const spec = { ...spuriousTimeout, hosts: spuriousTimeout.hosts.map((h) => (h.name === "client" ? { ...h, tcp: { ...h.tcp, frto } } : h)) };
    const { run, results } = runToEnd(spec);
    const out = run.events.filter((e) => e.type === "segment-out" && e.host === "client" && e.retransmit);
    return { results, count: out.length };
  };

  it("F-RTO undoes it: one retransmission, every check holds", () => {
    const { results, count } = retransmissions(true);
    expect(failures(results)).toEqual([]);
    expect(count).toBe(1);
  });

  it("step 2.b sends two new segments at the first ACK that advances, not one (Linux tcp_process_loss: 2 * mss of new data)", () => {
    const spec = structuredClone(spuriousTimeout);
    const { run } = runToEnd(spec);
    const client = run.events.filter((e) => "host" in e && e.host === "client");
    const step = client.findIndex((e) => e.type === "loss" && e.action === "frto");
    expect(step).toBeGreaterThan(0);
    // What the client sent between that ACK's arrival and the F-RTO step (the ACKs all arrive in one instant).
    const ackAt = client.slice(0, step).map((e) => e.type === "segment-in").lastIndexOf(true);
    const sent = client.slice(ackAt + 1, step).filter((e) => e.type === "segment-out");
    expect(sent.map((e) => e.type === "segment-out" && !e.retransmit && e.segment.payload.length > 0)).toEqual([true, true]);
  });

  it("without F-RTO the whole window is resent", () => {
    const { results, count } = retransmissions(false);
    expect(count).toBeGreaterThan(5);
    expect(failures(results).some((f) => f.includes("F-RTO"))).toBe(true);
  });
});
