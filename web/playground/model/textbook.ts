/**
 * Textbook mode (issue 11, learn by doing): before the timeline steps on, the page asks the
 * learner what comes next and checks the answer against the run's real next event.
 *
 * Two kinds of question, both read from the trace between the cursor and the next step:
 *   - the next step is a state change of a drawn host: "which state does it enter?", with
 *     the arcs RFC 9293's diagram draws from its current state as the choices (plus the
 *     real one when the run takes an arc the figure leaves out, such as a reset);
 *   - the sender's cwnd changes on the way (an ACK, a loss, a timeout): "what is cwnd
 *     now?", with the real value among the usual candidates (unchanged, one MSS more,
 *     doubled, halved as Reno does, times 0.7 as CUBIC does, one MSS after a timeout).
 * Pure functions of the Session: the page only shows them and keeps the score.
 */
import type { Millis } from "../../../src/env.js";
import type { TcpState, TraceEvent } from "../../../src/trace/events.js";
import { mainConn } from "./at.js";
import { diagramTargets } from "./rfc9293-diagram.js";
import type { Session } from "./session.js";

interface Common {
  host: string;
  /** The step the answer is revealed at (the cursor moves there once answered). */
  step: number;
  /** What just happened, and what is asked. */
  context: string;
  prompt: string;
  /** Shown once answered: the real event's own explanation. */
  reveal: string;
}

export type Question =
  | (Common & { kind: "state"; from: TcpState; answer: TcpState; choices: TcpState[] })
  | (Common & { kind: "cwnd"; before: number; answer: number; choices: number[] });

export type Choice = TcpState | number;

/** The engine's ssthresh before the first loss is "infinite": a huge number (as at.ts draws it). */
const NO_SSTHRESH = 1e15;

/** The question to ask before moving from step `cursor` to the next one, if there is one. */
export function questionAt(session: Session, cursor: number, untraced: ReadonlySet<string> = new Set()): Question | undefined {
  const from = session.steps[cursor];
  const to = session.steps[cursor + 1];
  if (from === undefined || to === undefined) return undefined;
  const context = describe(session, from);
  const next = session.events[to]!;
  if (next.type === "state" && !untraced.has(next.host) && session.columns.some((c) => c.name === next.host)) {
    const choices = [...new Set([...diagramTargets(next.from), next.to])];
    // A question with one possible answer teaches nothing.
    if (choices.length > 1)
      return {
        kind: "state", host: next.host, step: cursor + 1, context, from: next.from, answer: next.to, choices,
        prompt: `${next.host} is in ${next.from}. Which state does it enter next?`,
        reveal: `${next.host}: ${next.from} → ${next.to} (${next.cause})`,
      };
  }
  const addrs = new Set(session.columns.map((c) => c.address.key));
  for (let i = from + 1; i <= to; i++) {
    const e = session.events[i]!;
    if (e.type !== "cwnd" || untraced.has(e.host) || !addrs.has(e.tuple.remoteAddr.key)) continue;
    const before = cwndBefore(session, e, from, i);
    if (before === undefined || before.cwnd === e.cwnd) continue;
    return {
      kind: "cwnd", host: e.host, step: cursor + 1, context, before: before.cwnd, answer: e.cwnd,
      choices: cwndChoices(before.cwnd, e.cwnd, before.mss),
      prompt: `${e.host}'s cwnd is ${before.cwnd} bytes (MSS ${before.mss}${before.ssthresh < NO_SSTHRESH ? `, ssthresh ${before.ssthresh}` : ", ssthresh not set yet"}). What is it after this?`,
      reveal: `${e.host}: cwnd ${before.cwnd} → ${e.cwnd} bytes (${e.cause})`,
    };
  }
  return undefined;
}

/** cwnd and ssthresh just before event `i`: the connection's previous cwnd event, or the snapshot before this instant. */
function cwndBefore(session: Session, e: Extract<TraceEvent, { type: "cwnd" }>, cursorEvent: number, i: number): { cwnd: number; ssthresh: number; mss: number } | undefined {
  const conn = mainConn(session, e.host, (session.events[cursorEvent]!.time - 1e-6) as Millis);
  const mss = conn?.sendMss ?? 1460;
  for (let j = i - 1; j >= 0; j--) {
    const p = session.events[j]!;
    if (p.type === "cwnd" && p.host === e.host && p.tuple.remotePort === e.tuple.remotePort && p.tuple.localPort === e.tuple.localPort) return { cwnd: p.cwnd, ssthresh: p.ssthresh, mss };
  }
  return conn !== undefined ? { cwnd: conn.cwnd, ssthresh: conn.ssthresh, mss } : undefined;
}

/** The real value among the usual candidates, in increasing order, each once. */
export function cwndChoices(before: number, answer: number, mss: number): number[] {
  const candidates = [before, before + mss, 2 * before, Math.floor(before / 2), Math.floor(before * 0.7), mss, answer];
  return [...new Set(candidates.filter((c) => c > 0))].sort((a, b) => a - b);
}

export function isRight(q: Question, choice: Choice): boolean {
  return choice === q.answer;
}

/** What happened at event `index`, in words, as the question's lead-in. */
function describe(session: Session, index: number): string {
  const e = session.events[index]!;
  switch (e.type) {
    case "segment-in": {
      const id = session.arrivalAt.get(index);
      return `${e.host} received ${id !== undefined ? session.segments[id]!.label : "a segment"}.`;
    }
    case "segment-out": {
      const id = session.segmentAt.get(index);
      return `${e.host} sent ${id !== undefined ? session.segments[id]!.label : "a segment"}.`;
    }
    case "timer-fired":
      return `${e.host}'s ${e.timer} timer fired.`;
    case "state":
      return `${e.host} entered ${e.to}.`;
    case "app":
      return `${e.host} called ${e.call}.`;
    case "drop":
      return `${e.host} dropped a segment (${e.reason}).`;
    default:
      return `${"host" in e ? `${e.host}: ` : ""}${e.type}.`;
  }
}
