/**
 * Textbook mode on the page: with it on, stepping forward first asks the question
 * model/textbook.ts finds (the next state, or cwnd after an ACK or a loss), checks the
 * answer against the run's real next event, keeps the score, and then steps. Keyboard:
 * t toggles the mode, 1..9 pick a choice (or Tab to it and press Enter).
 */
import { isRight, questionAt, type Choice, type Question } from "./model/textbook.js";
import type { Session } from "./model/session.js";
import { clear, h } from "./views/dom.js";

export class Textbook {
  private on = false;
  private right = 0;
  private asked = 0;
  /** Steps whose question was answered in this run: stepping back and forth does not ask again. */
  private readonly answered = new Set<number>();
  private current: Question | undefined;
  private readonly box = document.getElementById("quiz") as HTMLElement;
  private readonly toggle = document.getElementById("textbook") as HTMLInputElement;

  constructor(private readonly goTo: (step: number) => void) {
    this.toggle.addEventListener("change", () => this.setEnabled(this.toggle.checked));
    this.showScore();
  }

  get enabled(): boolean {
    return this.on;
  }

  setEnabled(on: boolean): void {
    this.on = on;
    this.toggle.checked = on;
    if (!on) this.close();
    this.showScore();
  }

  /** A new run: a new score. */
  reset(): void {
    this.right = 0;
    this.asked = 0;
    this.answered.clear();
    this.close();
    this.showScore();
  }

  get open(): boolean {
    return this.current !== undefined;
  }

  /** Called before stepping forward from `cursor`; true when a question now waits for its answer. */
  intercept(session: Session, cursor: number, untraced: ReadonlySet<string>): boolean {
    if (!this.on) return false;
    if (this.current !== undefined) return true;
    const q = questionAt(session, cursor, untraced);
    if (q === undefined || this.answered.has(q.step)) return false;
    this.ask(q);
    return true;
  }

  /** Keys while a question is open: 1..9 choose. Returns true when it used the key. */
  onKey(e: KeyboardEvent): boolean {
    const q = this.current;
    if (q === undefined || !/^[1-9]$/.test(e.key)) return false;
    const choice = q.choices[Number(e.key) - 1];
    if (choice === undefined) return false;
    this.answer(choice);
    return true;
  }

  private ask(q: Question): void {
    this.current = q;
    clear(this.box);
    this.box.hidden = false;
    this.box.removeAttribute("data-result");
    this.box.setAttribute("data-kind", q.kind);
    const choices = h("div", { class: "quiz-choices", role: "group", "aria-label": "your answer" });
    q.choices.forEach((c, i) => {
      const b = h("button", { type: "button", "data-choice": String(c) }, `${i + 1}. ${q.kind === "cwnd" ? `${c} bytes` : String(c)}`);
      b.addEventListener("click", () => this.answer(c));
      choices.append(b);
    });
    this.box.append(h("h3", { id: "quiz-title" }, "Predict the next step"), h("p", { class: "quiz-context" }, q.context), h("p", { class: "quiz-prompt" }, q.prompt), choices, h("p", { class: "muted" }, "Keys 1–9 choose."));
    (choices.firstElementChild as HTMLElement | null)?.focus();
  }

  private answer(choice: Choice): void {
    const q = this.current;
    if (q === undefined) return;
    this.current = undefined;
    const ok = isRight(q, choice);
    this.asked++;
    if (ok) this.right++;
    this.answered.add(q.step);
    clear(this.box);
    this.box.setAttribute("data-result", ok ? "right" : "wrong");
    this.box.append(
      h("h3", { id: "quiz-title" }, ok ? "✓ Right" : "✗ Not quite"),
      h("p", { class: "quiz-reveal", role: "status" }, `${ok ? "" : `You said ${q.kind === "cwnd" ? `${choice} bytes` : String(choice)}. `}What happened: ${q.reveal}.`),
    );
    this.showScore();
    this.goTo(q.step);
    (document.getElementById("next") as HTMLElement | null)?.focus();
  }

  private close(): void {
    this.current = undefined;
    this.box.hidden = true;
    this.box.removeAttribute("data-result");
    clear(this.box);
  }

  private showScore(): void {
    const el = document.getElementById("score") as HTMLElement;
    el.textContent = this.on ? `score ${this.right} / ${this.asked}` : "";
    el.setAttribute("data-right", String(this.right));
    el.setAttribute("data-asked", String(this.asked));
  }
}
