/** The live stream's frames of a built-in run, for the page-side tests of the live view. */
import { LiveEventStream, LiveFeed } from "../../src/node/live-web.js";
import { BUILTIN_SCENARIOS } from "../../src/scenario/builtin/index.js";
import { ScenarioRun } from "../../src/scenario/runner.js";

/**
 * The server's side of a run as the live stream carries it: its events, and the packets it
 * sent and received. Packets are stamped when they were sent (those it received: 10 ms
 * before they arrived), as a loaded machine stamps packets ahead of the engine's events.
 */
export async function feedOf(name: string): Promise<Array<{ id: string; data: string }>> {
  const stream = new LiveEventStream();
  const feed = new LiveFeed(stream, "server");
  let clock = 0;
  const run = new ScenarioRun(BUILTIN_SCENARIOS.find((s) => s.name === name)!, {
    onEvent: (e) => ("host" in e && e.host === "server" ? feed.sink.emit(e) : undefined),
    recorder: (p) => {
      if (p.event !== "send" || (p.from !== "server" && p.to !== "server")) return;
      clock = p.time;
      feed.packet(p.from === "server" ? "out" : "in", p.bytes);
    },
  });
  feed.attach({ now: () => clock, host: run.tcpHost("server")! });
  run.finish();
  await Promise.resolve();
  return stream.framesAfter().map((f) => ({ id: /^id: (\d+)/.exec(f)![1]!, data: f.slice(f.indexOf("data: ") + 6, -2) }));
}
