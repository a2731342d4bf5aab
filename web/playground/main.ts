/**
 * The playground page: picks a scenario (built-in, a JSON file opened or dropped, the
 * knobs), runs it in the real engine in virtual time (model/session.ts), and draws the
 * views at one cursor that the timeline moves. The URL fragment holds the scenario, the
 * knobs and the what-ifs, so a view can be shared and replayed (also in Node).
 *
 * Keys, as in Wireshark's graph window: + / - zoom the diagram, arrows pan, 0 resets.
 * Space plays or pauses, n / p (or . / ,) step, f jumps to the next flagged packet.
 */
import { BUILTIN_SCENARIOS } from "../../src/scenario/builtin/index.js";
import { loadScenarioText } from "../../src/scenario/load.js";
import type { ScenarioSpec } from "../../src/scenario/model.js";
import { cwndSeries, hostStateAt, inflightSeries, mainConn, nextFlaggedStep, queueSeries, queuesAt, rttSeries, stepAtTime, stepOfEvent, timeSequence } from "./model/at.js";
import { jsonLinesOf, pcapngOf } from "./model/export.js";
import { applyChanges, decodeState, describeWhatIf, encodeState, scenarioOf, type Knobs, type PlaygroundState, type WhatIfAction } from "./model/knobs.js";
import { runSession, SessionRun, type Session } from "./model/session.js";
import { runInSlices } from "./model/slices.js";
import type { Millis } from "../../src/env.js";
import type { TimeAxis } from "./model/timeaxis.js";
import { TRY_THIS } from "./try-this.js";
import { clear, fmtTime, h } from "./views/dom.js";
import { renderFsm } from "./views/fsm.js";
import { renderQueues, renderWindow } from "./views/gauges.js";
import { axisOf, renderLadder } from "./views/ladder.js";
import { pngOf, svgText } from "./views/image.js";
import { renderInferredDetail, renderInferredLadder } from "./views/inferred.js";
import { inferCapture, mainStream, type InferredCapture, type InferredStream } from "./model/inferred.js";
import { renderDetail, renderInspector, renderNarration } from "./views/panes.js";
import { renderSeriesPlot, renderTimeSeq } from "./views/plots.js";
import { liveStreamUrl, startLive } from "./live.js";
import type { LiveSession } from "./model/live-session.js";
import { Textbook } from "./textbook.js";

interface View {
  state: PlaygroundState;
  session: Session;
  axis: TimeAxis;
  /** The run without the latest what-if, for the side-by-side comparison. */
  base?: { session: Session; axis: TimeAxis; title: string };
  cursor: number;
  selected?: number;
  zoom: number;
  playing: boolean;
}

declare global {
  interface Window {
    /** For tests and the curious: the run on screen. */
    playground?: {
      hash: string;
      scenario: string;
      steps: number;
      cursor: number;
      /** The whole run is drawn (a long run's first screen comes before it). */
      ready: boolean;
      /** performance.now() when the first load's views were first on screen, and when all of its run was. */
      drawnAt?: number;
      completeAt?: number;
    };
  }
}

/** A capture file opened on the page: drawn as an inferred ladder, no engine run. */
interface Imported {
  capture: InferredCapture;
  stream: InferredStream;
  selected?: number;
  zoom: number;
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
let view: View | undefined;
let imported: Imported | undefined;
let firstLoad = true;
/** performance.now() when the first scenario's views were on screen (read by bench/page-load.js): its first screen, and all of it. */
let firstDrawnAt: number | undefined;
let completeAt: number | undefined;
/** Counts loads: a slice of a run that a newer load replaced stops. */
let loads = 0;
let timer: ReturnType<typeof setTimeout> | undefined;
let textbook: Textbook | undefined;

function start(): void {
  textbook = new Textbook((step) => setCursor(step));
  const select = $<HTMLSelectElement>("scenario");
  for (const spec of BUILTIN_SCENARIOS) select.append(h("option", { value: spec.name }, `${spec.name} — ${spec.title ?? ""}`));
  select.addEventListener("change", () => load({ scenario: select.value, knobs: readKnobs(), whatIfs: [] }));
  $("run").addEventListener("click", () => load({ ...(view?.state ?? { whatIfs: [] }), knobs: readKnobs() }));
  $("reset-knobs").addEventListener("click", () => {
    writeKnobs({});
    load({ ...(view?.state ?? { whatIfs: [] }), knobs: {}, whatIfs: [] });
  });
  $("clear-whatifs").addEventListener("click", () => view !== undefined && load({ ...view.state, whatIfs: [] }));
  $("prev").addEventListener("click", () => move(-1));
  $("next").addEventListener("click", () => move(+1));
  $("first").addEventListener("click", () => setCursor(0));
  $("last").addEventListener("click", () => view !== undefined && setCursor(view.session.steps.length - 1));
  $("flagged").addEventListener("click", () => {
    if (view === undefined) return;
    const k = nextFlaggedStep(view.session, view.cursor);
    if (k !== undefined) setCursor(k);
  });
  $("play").addEventListener("click", () => togglePlay());
  $<HTMLInputElement>("scrub").addEventListener("input", (e) => setCursor(Number((e.target as HTMLInputElement).value)));
  $("export-pcapng").addEventListener("click", () => view !== undefined && download(`${view.session.spec.name}.pcapng`, pcapngOf(view.session), "application/octet-stream"));
  $("export-json").addEventListener("click", () => view !== undefined && download(`${view.session.spec.name}.jsonl`, new TextEncoder().encode(jsonLinesOf(view.session)), "application/x-ndjson"));
  const baseName = (): string | undefined => (imported !== undefined ? imported.capture.name.replace(/\.(pcapng|pcap|cap)$/i, "") : view?.session.spec.name);
  $("export-svg").addEventListener("click", () => {
    const svg = document.getElementById("ladder");
    const base = baseName();
    if (svg !== null && base !== undefined) download(`${base}.svg`, new TextEncoder().encode(svgText(svg)), "image/svg+xml");
  });
  $("export-png").addEventListener("click", () => {
    const svg = document.getElementById("ladder");
    const base = baseName();
    if (!(svg instanceof SVGSVGElement) || base === undefined) return;
    const name = `${base}.png`;
    pngOf(svg).then(
      (png) => download(name, png, "image/png"),
      (e: unknown) => status(`PNG export failed: ${e instanceof Error ? e.message : String(e)}`, true),
    );
  });
  $<HTMLInputElement>("open-file").addEventListener("change", async (e) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (f !== undefined) await openFile(f);
  });
  $<HTMLSelectElement>("stream").addEventListener("change", (e) => {
    const id = Number((e.target as HTMLSelectElement).value);
    const st = imported?.capture.streams.find((x) => x.id === id);
    if (imported === undefined || st === undefined) return;
    imported = { capture: imported.capture, stream: st, zoom: imported.zoom };
    renderImported();
  });
  document.addEventListener("dragover", (e) => e.preventDefault());
  document.addEventListener("drop", async (e) => {
    e.preventDefault();
    const f = e.dataTransfer?.files[0];
    if (f !== undefined) await openFile(f);
  });
  document.addEventListener("keydown", onKey);
  const live = liveStreamUrl();
  if (live !== undefined) return enterLive(live);
  window.addEventListener("hashchange", () => {
    const st = decodeState(location.hash);
    if (view === undefined || encodeState(st) !== encodeState(view.state)) load(st, false);
  });
  const initial = decodeState(location.hash);
  writeKnobs(initial.knobs);
  load(initial, false);
}

/** Live mode: the views follow a running stack's connections; nothing to choose, run or change. */
function enterLive(url: string): void {
  document.querySelectorAll<HTMLElement>(".controls, .whatif-list, details.try, #textbook-label").forEach((el) => (el.hidden = true));
  $("live-bar").hidden = false;
  document.querySelector("header .sub")!.textContent = "Live: a running synack stack's connections, drawn from its trace events as they happen (real time, real packets).";
  $("title").textContent = "live: waiting for a connection";
  $("description").textContent = "The views follow the running stack's connections as its trace events arrive. Pick one below; the newest is followed until you do.";
  $("seed").textContent = "-";
  $("hash").textContent = "-";
  startLive(url, { show: showLive, status });
}

/** Draws a live connection's latest state; the cursor stays where the user left it unless it was at the newest step. */
function showLive(session: LiveSession): void {
  const prev = view;
  const same = prev !== undefined && prev.session.spec.name === session.spec.name;
  const follow = !same || prev.cursor >= prev.session.steps.length - 1;
  const v: View = { state: { knobs: {}, whatIfs: [] }, session, axis: axisOf(session), cursor: follow ? session.steps.length - 1 : prev.cursor, zoom: prev?.zoom ?? 1, playing: same && prev.playing };
  if (same && prev.selected !== undefined) v.selected = prev.selected;
  view = v;
  $("title").textContent = session.spec.title ?? session.spec.name;
  $("description").textContent = session.spec.description ?? "";
  $<HTMLInputElement>("scrub").max = String(Math.max(0, session.steps.length - 1));
  setCursor(v.cursor);
}

/** Hosts a live session draws from what the stack saw, without their own state. */
function untracedOf(s: Session): ReadonlySet<string> {
  return "untraced" in s ? (s as LiveSession).untraced : new Set();
}

/** A JSON scenario, or a pcap / pcapng capture (anything that does not start with "{"). */
async function openFile(f: File): Promise<void> {
  const bytes = new Uint8Array(await f.arrayBuffer());
  const text = new TextDecoder().decode(bytes.subarray(0, 64)).trimStart();
  if (text.startsWith("{") || /\.json$/i.test(f.name)) openJson(new TextDecoder().decode(bytes), f.name);
  else openCapture(bytes, f.name);
}

function openCapture(bytes: Uint8Array, name: string): void {
  let capture: InferredCapture;
  try {
    capture = inferCapture(bytes, name);
  } catch (e) {
    status(`${name}: ${e instanceof Error ? e.message : String(e)}`, true);
    return;
  }
  const stream = mainStream(capture);
  if (stream === undefined) {
    status(`${name}: no TCP packets in it`, true);
    return;
  }
  stopPlay();
  view = undefined;
  loads++; // a run still going is not drawn over the capture
  imported = { capture, stream, zoom: 1 };
  const pick = $<HTMLSelectElement>("stream");
  clear(pick);
  for (const st of capture.streams) pick.append(h("option", { value: st.id }, `tcp.stream ${st.id}: ${st.ends[0]} ↔ ${st.ends[1]} (${st.packets.length} packets)`));
  pick.value = String(stream.id);
  $("stream-pick").hidden = false;
  // Nothing to step through or change in a capture: the timeline and what-ifs go away.
  document.querySelectorAll<HTMLElement>(".timeline, .whatif-list, details.try").forEach((el) => (el.hidden = true));
  const other = capture.otherFrames + capture.notIpv4;
  status(`opened ${name}: ${capture.streams.length} TCP conversation(s)${other > 0 ? `, ${other} other frame(s) not drawn` : ""}`);
  renderImported();
}

/** Draws the imported capture; the views that need the engine's state say why they are empty. */
function renderImported(): void {
  const im = imported;
  if (im === undefined) return;
  const c = im.capture;
  $("title").textContent = `${c.name} — inferred from the capture`;
  $("description").textContent =
    `A ${c.format} file: the ladder is inferred from the packets alone, labelled with Wireshark's tcp.analysis flags. No engine ran, so there are no states, queues, windows, timers or reasons: a capture shows what was on the wire, not why.`;
  $("hash").textContent = "-";
  $("seed").textContent = "-";
  for (const id of ["whatifs", "try-this"]) clear($(id));
  const ladders = $("ladders");
  clear(ladders);
  const pane = h("div", { class: "ladder-pane" }, h("h3", {}, `inferred: tcp.stream ${im.stream.id}, ${im.stream.ends[0]} ↔ ${im.stream.ends[1]}`));
  pane.append(
    renderInferredLadder(im.stream, {
      zoom: im.zoom,
      ...(im.selected !== undefined ? { selected: im.selected } : {}),
      onSelect: (frame) => {
        im.selected = frame;
        renderImported();
      },
    }),
  );
  ladders.append(pane);
  for (const id of ["fsms", "gauges", "inspector", "plots", "narration"]) {
    const el = $(id);
    clear(el);
    el.append(h("p", { class: "muted" }, "Not available for a capture: this view needs the engine's state."));
  }
  const detail = $("detail");
  clear(detail);
  const p = im.stream.packets.find((x) => x.frame === im.selected);
  detail.append(p !== undefined ? renderInferredDetail(c, im.stream, p) : h("p", { class: "muted" }, "Click a packet to see its fields, Wireshark's flags and its bytes."));
  $("time").textContent = `${im.stream.packets.length} packets`;
  window.playground = { hash: "", scenario: `capture:${c.name}`, steps: im.stream.packets.length, cursor: 0, ready: true };
}

function openJson(text: string, name: string): void {
  const r = loadScenarioText(text, name);
  if (!r.ok) {
    status(r.errors.join("; "), true);
    return;
  }
  load({ json: JSON.stringify(r.spec), knobs: readKnobs(), whatIfs: [] });
}

function status(text: string, error = false): void {
  const el = $("status");
  el.textContent = text;
  el.className = error ? "error" : "";
}

/**
 * Runs the scenario a state names and shows it; with what-ifs, also the run without the last
 * one. A long run is drawn in two goes (model/slices.ts): its first screen, then all of it.
 * `landAt`: put the cursor at this time once the run reaches it.
 */
function load(state: PlaygroundState, push = true, landAt?: Millis): void {
  const spec = scenarioOf(state);
  if (spec === undefined) {
    status(`no scenario named "${state.scenario ?? "?"}"`, true);
    return;
  }
  stopPlay();
  imported = undefined;
  $("stream-pick").hidden = true;
  document.querySelectorAll<HTMLElement>(".timeline, .whatif-list, details.try").forEach((el) => (el.hidden = false));
  const gen = ++loads;
  const first = firstLoad;
  firstLoad = false;
  const t0 = performance.now();
  const run = new SessionRun(applyChanges(spec, state.knobs, state.whatIfs));
  textbook?.reset();
  const fragment = encodeState(state);
  if (push && location.hash.slice(1) !== fragment) history.pushState(null, "", `#${fragment}`);
  else if (!push && location.hash.slice(1) !== fragment) history.replaceState(null, "", `#${fragment}`);
  if (state.scenario !== undefined) $<HTMLSelectElement>("scenario").value = state.scenario;
  let shown: View | undefined;
  let firstAt: number | undefined;
  let listed = false;
  /** Draws this load's session: its first part, then all of it, keeping the cursor the user moved meanwhile. */
  const show = (session: Session): number => {
    const v: View = shown !== undefined && view === shown ? { ...shown, session, axis: axisOf(session) } : { state, session, axis: axisOf(session), cursor: 0, zoom: view?.zoom ?? 1, playing: false };
    if (session.complete && state.whatIfs.length > 0) {
      const base = runSession(applyChanges(spec, state.knobs, state.whatIfs.slice(0, -1)));
      v.base = { session: base, axis: axisOf(base), title: state.whatIfs.length > 1 ? "before the last what-if" : "as written" };
    }
    if (landAt !== undefined && (session.complete || session.endTime >= landAt)) {
      v.cursor = stepAtTime(session, landAt);
      landAt = undefined;
    }
    shown = v;
    view = v;
    $("title").textContent = `${spec.name}${spec.title !== undefined ? ` — ${spec.title}` : ""}`;
    $("description").textContent = spec.description ?? "";
    $("seed").textContent = String(session.seed);
    $<HTMLInputElement>("scrub").max = String(Math.max(0, session.steps.length - 1));
    if (!listed) {
      listed = true;
      renderWhatIfs(state);
      renderTryThis(spec);
    }
    setCursor(v.cursor);
    return performance.now();
  };
  $("hash").textContent = "…";
  runInSlices(run, {
    screenPx: window.innerHeight / (view?.zoom ?? 1),
    cancelled: () => gen !== loads,
    yieldThen,
    now: () => performance.now(),
    first: (partial) => {
      firstAt = show(partial);
      if (first) firstDrawnAt = firstAt;
    },
    progress: (r) => status(`running the rest: ${fmtTime(r.now)} of virtual time so far, ${r.eventCount} events; the first screen was drawn ${firstAt !== undefined && first ? `${firstAt.toFixed(0)} ms after the page was opened` : `in ${((firstAt ?? t0) - t0).toFixed(0)} ms`}`),
    done: (session) => {
      const ms = performance.now() - t0;
      const r0 = performance.now();
      const drawn = show(session);
      if (first) {
        firstDrawnAt ??= drawn;
        completeAt = drawn;
      }
      // The event-log hash is the slow part of a big run: shown once the views are on screen.
      requestAnimationFrame(() =>
        setTimeout(() => {
          if (view?.session === session) $("hash").textContent = session.hash;
        }, 0),
      );
      const ran = `ran ${session.events.length} events, ${session.segments.length} segments in ${ms.toFixed(0)} ms (virtual end ${fmtTime(session.endTime)})`;
      // On the first load, performance.now() counts from the navigation: how long until the views were drawn.
      const early = firstAt !== undefined ? `, the first screen ${first ? `${firstAt.toFixed(0)} ms after the page was opened` : `after ${(firstAt - t0).toFixed(0)} ms`}` : "";
      status(`${ran}; drawn in ${(drawn - r0).toFixed(0)} ms${first ? `, ${drawn.toFixed(0)} ms after the page was opened` : ""}${early}`);
    },
  });
}

/** Runs `fn` as a new task once the browser has had its turn: a message to itself, which a hidden tab does not slow to one a second as it does timers. */
const yieldChannel = new MessageChannel();
const yielded: Array<() => void> = [];
yieldChannel.port1.onmessage = () => yielded.shift()?.();
function yieldThen(fn: () => void): void {
  yielded.push(fn);
  yieldChannel.port2.postMessage(null);
}

function renderWhatIfs(state: PlaygroundState): void {
  const box = $("whatifs");
  clear(box);
  if (state.whatIfs.length === 0) box.append(h("span", { class: "muted" }, "none: click a packet in the diagram, then choose what happens to it"));
  for (const w of state.whatIfs) box.append(h("span", { class: "chip" }, describeWhatIf(w)));
  $("clear-whatifs").hidden = state.whatIfs.length === 0;
}

function renderTryThis(spec: ScenarioSpec): void {
  const box = $("try-this");
  clear(box);
  for (const item of TRY_THIS[spec.name] ?? []) {
    const li = h("li", {}, item.text);
    if (item.state !== undefined) {
      const b = h("button", { type: "button" }, "try it");
      const target = item.state;
      b.addEventListener("click", () => {
        const st = { scenario: spec.name, knobs: { ...readKnobs(), ...(target.knobs ?? {}) }, whatIfs: target.whatIfs ?? [] };
        writeKnobs(st.knobs);
        load(st);
      });
      li.append(" ", b);
    }
    box.append(li);
  }
}

function move(d: number): void {
  if (view === undefined) return;
  // Textbook mode asks first; the answer moves the cursor.
  if (d > 0 && textbook?.intercept(view.session, view.cursor, untracedOf(view.session)) === true) return stopPlay();
  setCursor(view.cursor + d);
}

function setCursor(k: number): void {
  if (view === undefined) return;
  view.cursor = Math.max(0, Math.min(view.session.steps.length - 1, k));
  render();
}

function togglePlay(): void {
  if (view === undefined) return;
  if (view.playing) stopPlay();
  else {
    view.playing = true;
    $("play").textContent = "⏸ pause";
    tick();
  }
}

function stopPlay(): void {
  if (timer !== undefined) clearTimeout(timer);
  timer = undefined;
  if (view !== undefined) view.playing = false;
  $("play").textContent = "▶ play";
}

/** Playback is a UI animation over the finished run: one step per tick, scaled by speed. */
function tick(): void {
  if (view === undefined || !view.playing) return;
  // At the end of a run still going, wait for more steps instead of stopping.
  if (view.cursor >= view.session.steps.length - 1 && view.session.complete) return stopPlay();
  move(1);
  if (!view.playing) return;
  const speed = Number($<HTMLSelectElement>("speed").value) || 1;
  timer = setTimeout(tick, 400 / speed);
}

function render(): void {
  const v = view;
  if (v === undefined) return;
  const s = v.session;
  const idx = s.steps[v.cursor] ?? 0;
  const t = s.events[idx]?.time ?? 0;
  $<HTMLInputElement>("scrub").value = String(v.cursor);
  $("time").textContent = `${fmtTime(t)} · step ${v.cursor + 1} of ${s.steps.length}`;
  const ladders = $("ladders");
  const scrollTop = ladders.scrollTop;
  clear(ladders);
  const main = h("div", { class: "ladder-pane" });
  if (v.base !== undefined) main.append(h("h3", {}, "what if: " + describeWhatIf(v.state.whatIfs[v.state.whatIfs.length - 1]!)));
  const ladderOpts = {
    cursor: v.cursor,
    zoom: v.zoom,
    onSelect: (id: number) => {
      v.selected = id;
      render();
    },
    onStep: (i: number) => setCursor(stepOfEvent(s, i)),
    ...(v.selected !== undefined ? { selected: v.selected } : {}),
  };
  main.append(renderLadder(s, v.axis, ladderOpts));
  ladders.append(main);
  if (v.base !== undefined) {
    const b = v.base;
    const pane = h("div", { class: "ladder-pane compare" }, h("h3", {}, b.title));
    const svg = renderLadder(b.session, b.axis, { cursor: stepAtTime(b.session, t), zoom: v.zoom, title: b.title });
    svg.id = "ladder-base";
    pane.append(svg);
    ladders.append(pane);
  }
  ladders.scrollTop = scrollTop;
  const cursorLine = document.getElementById("cursor-line");
  if (cursorLine !== null) {
    const y = Number(cursorLine.getAttribute("y1"));
    if (y < ladders.scrollTop + 20 || y > ladders.scrollTop + ladders.clientHeight - 20) ladders.scrollTop = Math.max(0, y - ladders.clientHeight / 2);
  }

  const untraced = untracedOf(s);
  const hosts = s.columns.map((c) => c.name);
  const traced = hosts.filter((host) => !untraced.has(host));
  const fsms = $("fsms");
  clear(fsms);
  for (const host of hosts) {
    if (untraced.has(host)) {
      fsms.append(h("div", { class: "fsm-box" }, h("h4", {}, `${host}: `, h("span", { class: "state-name muted", "data-host": host }, "not traced")), h("p", { class: "muted" }, `Only the stack reports its state; ${host}'s is not visible from here.`)));
      continue;
    }
    const st = hostStateAt(s, host, idx);
    const just = st.last !== undefined && s.events[st.last.index]!.time === t;
    fsms.append(h("div", { class: "fsm-box" }, h("h4", {}, `${host}: `, h("span", { class: "state-name", "data-host": host }, st.state)), renderFsm(host, st, just)));
  }
  const gauges = $("gauges");
  clear(gauges);
  for (const host of traced) {
    const q = queuesAt(s, host, idx);
    if (q.length > 0) gauges.append(renderQueues(host, q));
  }
  for (const host of traced) gauges.append(renderWindow(host, mainConn(s, host, t)));
  const insp = $("inspector");
  clear(insp);
  for (const host of traced) insp.append(renderInspector(host, mainConn(s, host, t), t));

  const plots = $("plots");
  clear(plots);
  const end = Math.max(s.endTime, 1);
  for (const host of hosts) {
    const cw = cwndSeries(s, host);
    if (cw[0]!.points.length > 1) plots.append(renderSeriesPlot(`cwnd-${host}`, `${host}: cwnd and ssthresh (bytes)`, cw, end, t));
  }
  for (const host of hosts) {
    const ts = timeSequence(s, host);
    if (ts.segments.length > 0) plots.append(renderTimeSeq(`tseq-${host}`, `${host}: time-sequence (Stevens)`, ts, end, t));
  }
  for (const host of hosts) {
    const rtt = rttSeries(s, host);
    if (rtt[0]!.points.length > 0) plots.append(renderSeriesPlot(`rtt-${host}`, `${host}: RTT, SRTT, RTO (ms)`, rtt, end, t, " ms"));
  }
  for (const host of hosts) {
    const inf = inflightSeries(s, host);
    if (inf[0]!.points.some((p) => p.v > 0)) plots.append(renderSeriesPlot(`inflight-${host}`, `${host}: bytes in flight`, inf, end, t));
  }
  for (const host of hosts) {
    const qs = queueSeries(s, host);
    if (qs[0]!.points.length > 0) plots.append(renderSeriesPlot(`queues-${host}`, `${host}: listener queues`, qs, end, t));
  }

  const narr = $("narration");
  clear(narr);
  narr.append(renderNarration(s.rows, hosts, t));
  const now = narr.querySelector(".nrow.now:last-of-type") ?? narr.lastElementChild?.lastElementChild;
  if (now instanceof HTMLElement) narr.scrollTop = now.offsetTop - narr.clientHeight / 2;

  const detail = $("detail");
  clear(detail);
  const sel = v.selected !== undefined ? s.segments[v.selected] : undefined;
  if (sel === undefined) detail.append(h("p", { class: "muted" }, "Click a packet in the diagram (or Tab to it and press Enter) to see its fields, the stack's reason, and what-ifs."));
  else
    detail.append(
      renderDetail(s, sel, {
        onWhy: (i) => setCursor(stepOfEvent(s, i)),
        ...(untraced.size === 0
          ? { onWhatIf: (a: WhatIfAction) => whatIf(sel.id, a) }
          : { noWhatIf: "No what-ifs on a live connection: a what-if re-runs the scenario from its seed with one packet changed, and real packets between real hosts cannot be replayed. Try it on a simulated scenario." }),
      }),
    );
  window.playground = {
    get hash() {
      return s.hash;
    },
    get drawnAt() {
      return firstDrawnAt;
    },
    get completeAt() {
      return completeAt;
    },
    scenario: s.spec.name,
    steps: s.steps.length,
    cursor: v.cursor,
    ready: s.complete,
  };
}

function whatIf(id: number, action: WhatIfAction): void {
  if (view === undefined) return;
  const r = view.session.segments[id]!;
  const w = { action, from: r.from, to: r.to, ...r.match };
  // Land on the moment the changed packet was sent.
  load({ ...view.state, whatIfs: [...view.state.whatIfs, w] }, true, r.time);
}

function onKey(e: KeyboardEvent): void {
  const target = e.target as HTMLElement | null;
  if (target !== null && (target.tagName === "INPUT" || target.tagName === "SELECT" || target.tagName === "TEXTAREA")) return;
  if (imported !== undefined) {
    const z = e.key === "+" || e.key === "=" ? imported.zoom * 1.25 : e.key === "-" ? imported.zoom / 1.25 : e.key === "0" ? 1 : undefined;
    if (z !== undefined) {
      imported.zoom = Math.max(0.2, Math.min(8, z));
      renderImported();
    }
    return;
  }
  if (view === undefined) return;
  if (textbook?.onKey(e) === true) {
    e.preventDefault();
    return;
  }
  const ladders = $("ladders");
  switch (e.key) {
    case "+":
    case "=":
      view.zoom = Math.min(8, view.zoom * 1.25);
      break;
    case "-":
      view.zoom = Math.max(0.2, view.zoom / 1.25);
      break;
    case "0":
      view.zoom = 1;
      ladders.scrollTop = 0;
      ladders.scrollLeft = 0;
      break;
    case "ArrowDown":
      ladders.scrollTop += 60;
      e.preventDefault();
      return;
    case "ArrowUp":
      ladders.scrollTop -= 60;
      e.preventDefault();
      return;
    case "ArrowLeft":
      ladders.scrollLeft -= 60;
      e.preventDefault();
      return;
    case "ArrowRight":
      ladders.scrollLeft += 60;
      e.preventDefault();
      return;
    case "n":
    case ".":
      return move(1);
    case "p":
    case ",":
      return move(-1);
    case "f":
      $("flagged").click();
      return;
    case "t":
      if (!$("textbook-label").hidden && textbook !== undefined) textbook.setEnabled(!textbook.enabled);
      return;
    case " ":
      if (target?.tagName === "BUTTON" || target?.getAttribute("role") === "button") return;
      e.preventDefault();
      togglePlay();
      return;
    default:
      return;
  }
  render();
}

const KNOB_IDS = ["seed", "loss", "delay", "jitter", "reorder", "duplicate", "corrupt", "mtu", "sndbuf", "rcvbuf"] as const;

function readKnobs(): Knobs {
  const k: Knobs = {};
  for (const id of KNOB_IDS) {
    const v = $<HTMLInputElement>(`k-${id}`).value.trim();
    if (v !== "" && Number.isFinite(Number(v))) k[id] = Number(v);
  }
  const cookies = $<HTMLSelectElement>("k-cookies").value;
  if (cookies === "overflow" || cookies === "always" || cookies === "never") k.cookies = cookies;
  const nagle = $<HTMLSelectElement>("k-nagle").value;
  if (nagle === "on" || nagle === "off") k.nagle = nagle === "on";
  const cc = $<HTMLSelectElement>("k-cc").value;
  if (cc === "cubic" || cc === "reno") k.cc = cc;
  return k;
}

function writeKnobs(k: Knobs): void {
  for (const id of KNOB_IDS) $<HTMLInputElement>(`k-${id}`).value = k[id] !== undefined ? String(k[id]) : "";
  $<HTMLSelectElement>("k-cookies").value = k.cookies ?? "";
  $<HTMLSelectElement>("k-nagle").value = k.nagle === undefined ? "" : k.nagle ? "on" : "off";
  $<HTMLSelectElement>("k-cc").value = k.cc ?? "";
}

function download(name: string, bytes: Uint8Array | Blob, type: string): void {
  const url = URL.createObjectURL(bytes instanceof Blob ? bytes : new Blob([bytes as BlobPart], { type }));
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

try {
  start();
} catch (e) {
  status(`the playground failed to start: ${e instanceof Error ? e.message : String(e)}`, true);
  throw e;
}
