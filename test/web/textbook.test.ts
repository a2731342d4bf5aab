/**
 * Textbook mode's questions (web/playground/model/textbook.ts), read from real runs of the
 * built-in scenarios: the state the handshake asks about, the cwnd a loss asks about, and
 * the real answer always among the choices.
 */
import { describe, expect, it } from "vitest";
import { BUILTIN_SCENARIOS } from "../../src/scenario/builtin/index.js";
import { runSession, type Session } from "../../web/playground/model/session.js";
import { cwndChoices, isRight, questionAt, type Question } from "../../web/playground/model/textbook.js";

const session = (name: string): Session => runSession(BUILTIN_SCENARIOS.find((s) => s.name === name)!);
const allQuestions = (s: Session): Question[] => s.steps.map((_, k) => questionAt(s, k)).filter((q): q is Question => q !== undefined);

describe("textbook questions", () => {
  it("handshake: asks each state change the diagram offers a choice for, in order", () => {
    const qs = allQuestions(session("handshake"));
    expect(qs.filter((q) => q.kind === "state").map((q) => `${q.host} ${q.kind === "state" ? `${q.from}->${q.answer}` : ""}`)).toEqual([
      "client CLOSED->SYN_SENT",
      "server LISTEN->SYN_RCVD",
      "client SYN_SENT->ESTABLISHED",
      "server SYN_RCVD->ESTABLISHED",
    ]);
    const first = qs.find((q) => q.kind === "state" && q.from === "SYN_SENT")!;
    // The figure's arcs out of SYN_SENT: SYN_RCVD (simultaneous open), ESTABLISHED, CLOSED.
    expect(first.choices).toEqual(["SYN_RCVD", "ESTABLISHED", "CLOSED"]);
    expect(first.context).toMatch(/^client received SYN,ACK seq=y ack=x\+1/);
    expect(isRight(first, "ESTABLISHED")).toBe(true);
    expect(isRight(first, "SYN_RCVD")).toBe(false);
  });

  it("lost data: asks for cwnd after the retransmission timeout, and the answer is one of the choices", () => {
    const s = session("lost-data");
    const qs = allQuestions(s).filter((q) => q.kind === "cwnd");
    expect(qs.length).toBeGreaterThan(0);
    for (const q of qs) expect(q.choices).toContain(q.answer);
    const rto = qs.find((q) => q.reveal.includes("retransmission timeout"));
    expect(rto).toBeDefined();
    if (rto?.kind !== "cwnd") throw new Error("no cwnd question at the timeout");
    expect(rto.answer).toBeLessThan(rto.before);
    expect(rto.context).toMatch(/rto timer fired/);
    // Before the first loss ssthresh is not set; the question says so rather than print the engine's huge placeholder.
    expect(rto.prompt).toMatch(/^client's cwnd is \d+ bytes \(MSS \d+, ssthresh not set yet\)\. What is it after this\?$/);
  });

  it("every question of every built-in scenario has its real answer among at least two choices", () => {
    let count = 0;
    for (const spec of BUILTIN_SCENARIOS.filter((s) => !s.name.startsWith("udp"))) {
      for (const q of allQuestions(runSession(spec))) {
        count++;
        expect(q.choices.length, `${spec.name} step ${q.step}`).toBeGreaterThan(1);
        expect(q.choices as unknown[], `${spec.name} step ${q.step}`).toContain(q.answer);
      }
    }
    expect(count).toBeGreaterThan(50);
  });

  it("cwnd choices: sorted, each once, the real value included even when no rule of thumb gives it", () => {
    expect(cwndChoices(14600, 16060, 1460)).toEqual([1460, 7300, 10220, 14600, 16060, 29200]);
    expect(cwndChoices(14600, 12345, 1460)).toContain(12345);
  });
});
