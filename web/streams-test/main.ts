/**
 * The browser test page: the runtime-neutral core (src/api on the simulator) running in a
 * real browser. Two simulated hosts talk through connect() and listen(); the page reports
 * what happened on `window.synackResult` (read by test/browser) and on the page itself.
 */
import { SimDriver, type StreamSocket } from "../../src/api/index.js";

export interface PageResult {
  ok: boolean;
  /** What the client read back from the echo server, as text. */
  echoed: string;
  /** Bytes of the large transfer that arrived, and whether they matched. */
  bigBytes: number;
  bigIntact: boolean;
  retransmits: number;
  openedRemote: string;
  refusedCode: string | undefined;
  tableStates: string[];
  virtualMs: number;
  userAgent: string;
  error?: string;
}

declare global {
  interface Window {
    synackResult?: PageResult;
  }
}

const log = (line: string): void => {
  const el = document.getElementById("log");
  if (el !== null) el.textContent += `${line}\n`;
};

async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const reader = readable.getReader();
  const parts: Uint8Array[] = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    n += value.length;
  }
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = 7;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

async function run(): Promise<PageResult> {
  const sim = new SimDriver({ seed: 42, link: { delay: 10, loss: 0.02 } });
  const alice = sim.addStack("alice", "10.0.0.1");
  const bob = sim.addStack("bob", "10.0.0.2");

  // Bob: an echo service on port 7 and a sink on port 9 that reports what it read.
  const echo = bob.listen({ port: 7 });
  void (async () => {
    for await (const s of echo) void s.readable.pipeTo(s.writable);
  })();
  const sink = bob.listen({ port: 9 });
  const sinkRead: Promise<Uint8Array> = (async () => {
    for await (const s of sink) return readAll((s as StreamSocket).readable);
    return new Uint8Array(0);
  })();

  // Echo: write, half-close, read the answer to its end.
  const a = alice.connect({ hostname: "10.0.0.2", port: 7 });
  const info = await a.opened;
  log(`connected ${info.localAddress}:${info.localPort} -> ${info.remoteAddress}:${info.remotePort}`);
  const tableStates = alice.table().map((r) => r.state);
  const writer = a.writable.getWriter();
  await writer.write(new TextEncoder().encode("hello from the browser"));
  await writer.close();
  const echoed = new TextDecoder().decode(await readAll(a.readable));
  log(`echoed: ${echoed}`);

  // 256 KB to the sink over the lossy link.
  const big = pattern(256 * 1024);
  const b = alice.connect({ hostname: "10.0.0.2", port: 9 });
  const w = b.writable.getWriter();
  for (let off = 0; off < big.length; off += 16 * 1024) {
    await w.ready;
    await w.write(big.subarray(off, off + 16 * 1024));
  }
  await w.close();
  const got = await sinkRead;
  let intact = got.length === big.length;
  for (let i = 0; intact && i < big.length; i++) intact = got[i] === big[i];
  const retransmits = b.connection.inspect().retransmits;
  log(`sink got ${got.length} bytes, intact: ${intact}, retransmissions: ${retransmits}`);

  // Nobody listens on port 81: ECONNREFUSED.
  let refusedCode: string | undefined;
  try {
    await alice.connect({ hostname: "10.0.0.2", port: 81 }).opened;
  } catch (e) {
    const code: unknown = e instanceof Error ? Reflect.get(e, "code") : undefined;
    refusedCode = typeof code === "string" ? code : undefined;
  }
  log(`port 81: ${refusedCode ?? "no error?"}`);
  await echo.close();
  await sink.close();

  const ok = echoed === "hello from the browser" && intact && refusedCode === "ECONNREFUSED";
  return {
    ok, echoed, bigBytes: got.length, bigIntact: intact, retransmits, openedRemote: info.remoteAddress,
    refusedCode, tableStates, virtualMs: sim.now(), userAgent: navigator.userAgent,
  };
}

const status = document.getElementById("status");
run().then(
  (result) => {
    window.synackResult = result;
    if (status !== null) status.textContent = result.ok ? "passed" : "FAILED";
  },
  (e: unknown) => {
    const message = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    window.synackResult = {
      ok: false, echoed: "", bigBytes: 0, bigIntact: false, retransmits: 0, openedRemote: "", refusedCode: undefined,
      tableStates: [], virtualMs: 0, userAgent: navigator.userAgent, error: message,
    };
    if (status !== null) status.textContent = `FAILED: ${message}`;
  },
);
