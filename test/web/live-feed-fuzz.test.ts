/**
 * The live view's page reads whatever the server's event stream carries. A message it does
 * not understand (a newer or older server, a damaged frame) is counted, never thrown, and
 * the page can still draw every connection it has seen. The damaged messages start from a
 * real run's frames, with one value anywhere in them replaced by any JSON value, so the
 * fuzzer gets past the message kinds.
 */
import fc from "fast-check";
import { beforeAll, describe, expect, it, vi } from "vitest";
import { LiveLog } from "../../web/playground/model/live-feed.js";
import { liveSession } from "../../web/playground/model/live-session.js";
import { countFromEnv, timeoutFor } from "../env-count.js";
import { feedOf } from "./live-frames.js";

const RUNS = countFromEnv("LIVE_FUZZ_RUNS", 200);
// A raised count gets time in proportion (the 60 s of vitest.config.ts are for 200).
vi.setConfig({ testTimeout: timeoutFor(RUNS, 200) });

let frames: Array<{ id: string; data: string }> = [];

beforeAll(async () => {
  frames = await feedOf("lost-data");
  expect(frames.length).toBeGreaterThan(10);
});

/** `value` with the node at `path` (indices into each level's keys, modulo their count) replaced by `by`. */
function replaced(value: unknown, path: number[], by: unknown): unknown {
  if (path.length === 0 || typeof value !== "object" || value === null) return by;
  const keys = Object.keys(value);
  if (keys.length === 0) return by;
  const key = keys[path[0]! % keys.length]!;
  const copy: Record<string, unknown> = Array.isArray(value) ? ([...value] as unknown as Record<string, unknown>) : { ...(value as Record<string, unknown>) };
  copy[key] = replaced((value as Record<string, unknown>)[key], path.slice(1), by);
  return copy;
}

const damage = fc.record({ frame: fc.nat(), path: fc.array(fc.nat(), { maxLength: 4 }), by: fc.jsonValue({ maxDepth: 2 }) });

describe("the live view's page under damaged messages", () => {
  it("counts what it cannot read, never throws, and draws every connection it saw", () => {
    fc.assert(
      fc.property(fc.array(damage, { minLength: 1, maxLength: 6 }), fc.boolean(), (changes, withRaw) => {
        const sent = frames.map((f) => ({ ...f }));
        for (const c of changes) {
          const f = sent[c.frame % sent.length]!;
          f.data = JSON.stringify(replaced(JSON.parse(f.data), c.path, c.by));
        }
        // Sometimes a frame cut short too, as a dropped connection leaves it.
        if (withRaw) sent.push({ id: String(sent.length + 1), data: frames[1]!.data.slice(0, 17) });
        const log = new LiveLog();
        for (const f of sent) log.add(f.data, f.id);
        // What was not damaged still counts as read: a damaged message costs only itself.
        expect(log.messages + log.rejected).toBeGreaterThanOrEqual(sent.length - changes.length - 2);
        for (const c of log.connections()) liveSession(log, c.key);
      }),
      { numRuns: RUNS },
    );
  });
});
