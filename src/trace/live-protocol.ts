/**
 * What `synack tun --web` (and `synack tunnel --web`) send to the live view's page, one
 * JSON object per server-sent event. The Node side writes these (src/node/live-web.ts);
 * the page reads them (web/playground/model/live-feed.ts). Types only: JSON shapes, so
 * both sides agree without sharing code that needs either runtime.
 *
 *   - `event`: one trace event as jsonl.ts writes it (payload length only: the bytes travel
 *     once, in the packet messages);
 *   - `packet`: an IP packet as it crossed the link, base64, for the analysis flags and the
 *     hex view;
 *   - `snapshot`: the stack's read-only view of the connections the last batch of events
 *     touched (ConnectionInfo with the tuple as in jsonl.ts, non-finite numbers as null)
 *     and of its listeners, taken once the batch is done, stamped with the batch's time.
 *
 * Every message has an id (its place in the stream); the `hello` that opens each
 * connection to the stream is not stored and has none.
 */
import type { JsonValue } from "./jsonl.js";

export type JsonObject = { [key: string]: JsonValue };

export type LiveMessage =
  | { kind: "event"; event: JsonObject }
  | { kind: "packet"; time: number; dir: "in" | "out"; base64: string }
  | { kind: "snapshot"; time: number; host: string; listeners: JsonObject[]; conns: JsonObject[] };

export interface LiveHello {
  kind: "hello";
  /** The stack's name in the events (their `host`). */
  host: string;
  /** Its addresses, and a name for whoever is on the other end of the link ("kernel", "peer"). */
  addresses: string[];
  peerName: string;
  link: string;
  /** What the server keeps for pages that connect later: the ids it still holds and its caps. */
  history: { first: number; last: number; maxMessages: number; maxBytes: number; dropped: number };
}

/** The path of the event stream under the page's URL. */
export const LIVE_EVENTS_PATH = "/live/events";
/** The meta tag the server puts in the page it serves, so the page knows to go live. */
export const LIVE_META = "synack-live";
