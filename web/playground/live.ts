/**
 * The page's live mode (issue 11, item 7). When the page is served by `synack tun --web`
 * (or `synack tunnel --web`), the server marks it with a meta tag naming its event stream;
 * the page then reads the stream with EventSource (which reconnects by itself and resumes
 * after the last id it saw), keeps what arrives (model/live-feed.ts), offers the
 * connections seen so far in a picker with their states, and hands the selected one to the
 * playground's views as a Session (model/live-session.ts), redrawn as events arrive.
 */
import { LIVE_META } from "../../src/trace/live-protocol.js";
import { LiveLog } from "./model/live-feed.js";
import { liveSession, type LiveSession } from "./model/live-session.js";
import { clear, h } from "./views/dom.js";

export interface LiveHooks {
  /** Draw this session; `follow`: the newest event is the one to show. */
  show(session: LiveSession): void;
  status(text: string, error?: boolean): void;
}

/** The stream's URL when the page is served live, else undefined. */
export function liveStreamUrl(): string | undefined {
  const meta = document.querySelector<HTMLMetaElement>(`meta[name="${LIVE_META}"]`);
  return meta?.content !== undefined && meta.content !== "" ? new URL(meta.content, location.href).toString() : undefined;
}

/**
 * How long arrivals are gathered before the views are redrawn (a burst of a thousand events
 * is one redraw); at least twice the last redraw's time, so a long transfer does not keep
 * the page busy redrawing.
 */
const REDRAW_MS = 150;

export function startLive(url: string, hooks: LiveHooks): LiveLog {
  const log = new LiveLog();
  const picker = document.getElementById("live-conn") as HTMLSelectElement;
  const info = document.getElementById("live-status") as HTMLElement;
  /** The connection the user picked; empty: follow the newest. */
  let chosen = "";
  let pending: ReturnType<typeof setTimeout> | undefined;
  let shownKey = "";
  let lastCost = 0;

  const redraw = (): void => {
    pending = undefined;
    const t0 = performance.now();
    draw();
    lastCost = performance.now() - t0;
  };
  const draw = (): void => {
    const conns = log.connections();
    const keep = picker.value;
    clear(picker);
    picker.append(h("option", { value: "" }, conns.length === 0 ? "waiting for a connection…" : `newest (${conns.length} seen)`));
    for (const c of conns) {
      const t = c.tuple;
      picker.append(h("option", { value: c.key, "data-state": c.state }, `${t.remoteAddr.toString()}:${t.remotePort} ⇄ ${t.localAddr.toString()}:${t.localPort} · ${c.state}`));
    }
    picker.value = conns.some((c) => c.key === keep) ? keep : "";
    const key = chosen !== "" ? chosen : (conns[0]?.key ?? "");
    const hello = log.hello;
    info.textContent = hello === undefined ? "connecting…" : `${hello.host} on ${hello.link}: ${log.messages} messages, ${conns.length} connection(s)${hello.history.dropped > 0 ? `; the server's history had dropped ${hello.history.dropped} older messages` : ""}`;
    if (key === "") return;
    const session = liveSession(log, key);
    if (session === undefined) return;
    shownKey = key;
    hooks.show(session);
    publish(log, shownKey);
  };
  const schedule = (): void => {
    pending ??= setTimeout(redraw, Math.max(REDRAW_MS, 2 * lastCost));
  };
  picker.addEventListener("change", () => {
    chosen = picker.value;
    redraw();
  });

  const source = new EventSource(url);
  source.onmessage = (m: MessageEvent<string>) => {
    if (log.add(m.data, m.lastEventId)) schedule();
  };
  source.onerror = () => {
    // EventSource retries on its own (the server asked for 1 s); say so meanwhile.
    info.textContent = source.readyState === EventSource.CLOSED ? "the stream closed" : "the stream was interrupted; reconnecting…";
    publish(log, shownKey);
  };
  source.onopen = () => publish(log, shownKey);
  window.addEventListener("pagehide", () => source.close());
  publish(log, shownKey);
  hooks.status("live: following the stack's trace events");
  return log;
}

/** For tests and the curious: what the live feed holds. */
function publish(log: LiveLog, selected: string): void {
  window.live = {
    messages: log.messages,
    rejected: log.rejected,
    connections: log.connections().map((c) => ({ key: c.key, state: c.state })),
    selected,
  };
}

declare global {
  interface Window {
    live?: { messages: number; rejected: number; connections: Array<{ key: string; state: string }>; selected: string };
  }
}
