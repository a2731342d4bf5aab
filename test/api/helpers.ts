/**
 * Helpers for Web Streams tests in the simulator.
 */
import { SimDriver, type SimDriverOptions, type Stack } from "../../src/api/index.js";
import { concatBytes } from "../../src/wire/bytes.js";

export interface Pair {
  sim: SimDriver;
  client: Stack;
  server: Stack;
}

export function simPair(options: SimDriverOptions = {}, tcp: Parameters<SimDriver["addStack"]>[2] = {}): Pair {
  const sim = new SimDriver({ link: { delay: 5 }, ...options });
  const client = sim.addStack("client", "10.0.0.1", tcp);
  const server = sim.addStack("server", "10.0.0.2", tcp);
  return { sim, client, server };
}

/** Reads a stream to its end and returns every byte. */
export async function readAll(readable: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const reader = readable.getReader();
  const parts: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  reader.releaseLock();
  return concatBytes(parts);
}

export async function writeAll(writable: WritableStream<Uint8Array>, data: Uint8Array, chunk = 16 * 1024, close = true): Promise<void> {
  const writer = writable.getWriter();
  for (let off = 0; off < data.length; off += chunk) {
    await writer.ready;
    await writer.write(data.subarray(off, off + chunk));
  }
  if (close) await writer.close();
  writer.releaseLock();
}

/** Deterministic bytes that are not all alike, so a misplaced segment shows. */
export function pattern(n: number, seed = 1): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);
export const untext = (b: Uint8Array): string => new TextDecoder().decode(b);

/** What a promise settled with, without throwing. */
export async function outcome<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await p };
  } catch (error) {
    return { ok: false, error };
  }
}

export function codeOf(e: unknown): string | undefined {
  if (!(e instanceof Error)) return undefined;
  const c: unknown = Reflect.get(e, "code");
  return typeof c === "string" ? c : undefined;
}

/** Byte equality without a deep-equality diff (which is slow on megabytes). */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
