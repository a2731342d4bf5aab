/**
 * Connecting to a host name, for both socket APIs: the name's addresses come from a
 * `lookup` function (node:net's option, dns.lookup's signature), or from the stack's own
 * stub resolver over synack's UDP (`dns: { servers }`), and the connection attempts race
 * by RFC 8305 Happy Eyeballs (src/dns/happy-eyeballs.ts). Literals never get here, and
 * "localhost" is answered without a query (RFC 6761 6.3: ::1 and 127.0.0.1).
 *
 * Node's `autoSelectFamily` (default true since Node 20) switches the race on; with it off
 * both answers are awaited and only the first address is tried, as node:net does with a
 * single address from dns.lookup.
 */
import type { Millis } from "../env.js";
import type { Connection } from "../tcp/connection.js";
import type { TcpState } from "../trace/events.js";
import { IpAddress, parseIpAddress } from "../wire/address.js";
import { DnsError, getaddrinfoCode } from "../dns/errors.js";
import { HappyEyeballs, type Attempt, type Family } from "../dns/happy-eyeballs.js";
import { socketError, toSocketError, type SocketError } from "./errors.js";
import type { SocketStack } from "./socket-stack.js";
import { showValue } from "../show-value.js";

/** dns.lookup's signature: one address, or every address with `all: true`. */
export type LookupFunction = (
  hostname: string,
  options: { family?: number; all?: boolean },
  callback: (err: Error | null, address: string | ReadonlyArray<{ address: string; family: number }>, family?: number) => void,
) => void;

export interface NameConnectOptions {
  hostname: string;
  port: number;
  localPort?: number;
  /** 4 or 6: only that family's addresses; otherwise both. */
  family?: number;
  /** Race the families (RFC 8305); default true, as node:net's autoSelectFamily in Node 20. */
  autoSelectFamily?: boolean;
  /** Connection Attempt Delay (node:net's autoSelectFamilyAttemptTimeout); default 250 ms. */
  attemptDelay?: Millis;
  lookup?: LookupFunction;
  /** An attempt to `address` is starting (node:net emits 'connectionAttempt'). */
  onAttempt?: (address: IpAddress) => void;
}

/** Why no connection came of it: the name could not be resolved, or every attempt failed. */
export type NameConnectFailure = { kind: "lookup"; error: Error } | { kind: "connect"; failures: Array<{ error: Error; address: IpAddress }> };

export type NameConnectCallback = (result: { connection: Connection; address: IpAddress } | NameConnectFailure) => void;

const PRE_ESTABLISHED: ReadonlySet<TcpState> = new Set<TcpState>(["SYN_SENT", "SYN_RCVD", "LISTEN"]);

interface ConnAttempt extends Attempt {
  connection: Connection;
}

/** RFC 6761 6.3: "localhost" and names under it are the loopback addresses, never asked of DNS. */
export function isLocalhost(name: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, "");
  return n === "localhost" || n.endsWith(".localhost");
}

/** Resolves `hostname` and connects; the callback runs once. Returns a cancel function. */
export function connectByName(stack: SocketStack, opts: NameConnectOptions, callback: NameConnectCallback): () => void {
  const families: Family[] = opts.family === 4 ? [4] : opts.family === 6 ? [6] : [6, 4];
  const auto = opts.autoSelectFamily !== false;
  const lookupErrors = new Set<Error>();
  /** Which address each connection error is about. */
  const where = new Map<Error, IpAddress>();
  let cancelLookup = (): void => {};
  const race = new HappyEyeballs<ConnAttempt>({
    timers: { now: () => stack.now(), setTimer: (at, fn) => stack.driver.setTimer(at, fn) },
    families,
    ...(opts.attemptDelay !== undefined ? { attemptDelay: opts.attemptDelay } : {}),
    ...(auto ? {} : { maxAttempts: 1, resolutionDelay: Infinity }),
    start: (address, done) => {
      opts.onAttempt?.(address);
      const failed = (e: Error): Error => {
        where.set(e, address);
        return e;
      };
      let connection: Connection;
      try {
        connection = stack.openConnection({ remoteAddress: address, remotePort: opts.port, ...(opts.localPort !== undefined ? { localPort: opts.localPort } : {}) });
      } catch (e) {
        // No route to this family, say: the race goes on with the next address at once.
        throw failed(toSocketError(e));
      }
      connection.onWake = () => {
        if (connection.error !== undefined) done(failed(toSocketError(connection.error)));
        else if (!PRE_ESTABLISHED.has(connection.state)) done(connection.isClosed() ? failed(socketError("ECONNABORTED", "the connection closed before it was established")) : undefined);
      };
      return {
        connection,
        cancel: () => {
          // RFC 8305 6: the losers are dropped (close in SYN_SENT sends nothing, RFC 9293 3.10.4).
          connection.onWake = undefined;
          connection.close();
          stack.kick();
        },
      };
    },
    finished: (result) => {
      cancelLookup();
      if ("winner" in result) {
        callback({ connection: result.winner.connection, address: result.address });
        return;
      }
      const failures = result.errors.flatMap((error) => {
        const address = where.get(error);
        return address === undefined ? [] : [{ error, address }];
      });
      if (failures.length > 0) callback({ kind: "connect", failures });
      else callback({ kind: "lookup", error: pickLookupError([...lookupErrors], opts.hostname) });
    },
  });
  const answer = (family: Family, addresses: IpAddress[]): void => race.answered(family, addresses);
  const fail = (family: Family, error: Error): void => {
    lookupErrors.add(error);
    race.failed(family, error);
  };
  cancelLookup = startLookup(stack, opts, families, auto, answer, fail);
  return () => {
    cancelLookup();
    race.cancel();
  };
}

/**
 * Feeds the race with each family's addresses: from `localhost`, the caller's lookup or
 * the stack's resolver. Every answer arrives on a later turn, never inside connect().
 */
function startLookup(
  stack: SocketStack, opts: NameConnectOptions, families: Family[], auto: boolean,
  answer: (family: Family, addresses: IpAddress[]) => void, fail: (family: Family, error: Error) => void,
): () => void {
  const name = opts.hostname;
  const byFamily = (list: IpAddress[]): void => {
    for (const f of families) {
      const mine = list.filter((a) => a.family === f);
      if (mine.length > 0) answer(f, mine);
      else fail(f, new DnsError("ENODATA", `${name}: no IPv${f} address`, { hostname: name }));
    }
  };
  if (isLocalhost(name)) {
    return stack.driver.setTimer(stack.now(), () => byFamily([IpAddress.LOOPBACK6, IpAddress.LOOPBACK4]));
  }
  if (opts.lookup !== undefined) return askLookup(stack, opts.lookup, name, families, auto, byFamily, (e) => {
    for (const f of families) fail(f, e);
  });
  const resolver = stack.dns;
  if (resolver === undefined) {
    return stack.driver.setTimer(stack.now(), () => {
      const e = new DnsError("ENOTFOUND", `${name}: not an IP address literal, and the stack has no DNS servers (dns: { servers: [...] })`, { hostname: name });
      for (const f of families) fail(f, e);
    });
  }
  // RFC 8305 3: both queries go out together, AAAA first.
  const cancels = families.map((f) =>
    resolver.query(name, f, (error, result) => {
      if (error !== undefined) fail(f, error);
      else answer(f, result?.addresses ?? []);
    }),
  );
  return () => {
    for (const c of cancels) c();
  };
}

/** Calls node:net's `lookup` (with `all: true` for the race) and hands on what it answered. */
function askLookup(
  stack: SocketStack, lookup: LookupFunction, name: string, families: Family[], auto: boolean,
  found: (list: IpAddress[]) => void, failed: (e: Error) => void,
): () => void {
  let live = true;
  let inCall = true;
  const onResult = (err: Error | null, result: string | ReadonlyArray<{ address: string; family: number }>, family: number | undefined): void => {
    if (!live) return;
    live = false;
    if (err !== null && err !== undefined) return failed(err);
    const list = typeof result === "string" ? [{ address: result, family: family ?? 0 }] : Array.isArray(result) ? result : [];
    const parsed: IpAddress[] = [];
    for (const entry of list) {
      const a = typeof entry?.address === "string" ? parseIpAddress(entry.address) : undefined;
      if (a === undefined) return failed(new DnsError("EBADRESP", `lookup returned ${showValue(entry?.address)} for ${name}: not an IP address`, { hostname: name }));
      parsed.push(a);
    }
    found(parsed);
  };
  const options = { ...(families.length === 1 ? { family: families[0] } : {}), ...(auto ? { all: true } : {}) };
  try {
    lookup(name, options, (err, result, family) => {
      // A lookup that answers before returning (a cache, a test's table) is heard on a later turn.
      if (inCall) stack.driver.setTimer(stack.now(), () => onResult(err, result, family));
      else onResult(err, result, family);
    });
  } catch (e) {
    // node:net lets a throwing lookup throw; here it becomes the socket's error instead.
    stack.driver.setTimer(stack.now(), () => onResult(e instanceof Error ? e : new Error(String(e)), [], undefined));
  }
  inCall = false;
  return () => {
    live = false;
  };
}

/** Of both families' failures, the telling one: a server problem beats "no such record". */
function pickLookupError(errors: Error[], hostname: string): Error {
  const quiet = (e: Error): boolean => e instanceof DnsError && (e.code === "ENODATA" || e.code === "ENOTFOUND");
  const loud = errors.find((e) => !quiet(e));
  if (loud !== undefined) return loud;
  const notFound = errors.find((e) => e instanceof DnsError && e.code === "ENOTFOUND");
  return notFound ?? errors[0] ?? new DnsError("ENOTFOUND", `${hostname}: no address`, { hostname });
}

/**
 * A failure as one SocketError (the Web Streams API's form): ENOTFOUND or EAI_AGAIN as
 * getaddrinfo would say it, or the first attempt's error (node:net's aggregate takes its
 * code too), with every attempt in the message.
 */
export function nameFailureError(hostname: string, failure: NameConnectFailure): SocketError {
  if (failure.kind === "lookup") {
    const e = failure.error;
    const code = e instanceof DnsError ? getaddrinfoCode(e) : "ENOTFOUND";
    return socketError(code, `${hostname}: ${e.message}`, e);
  }
  const first = failure.failures[0]!;
  const each = failure.failures.map((f) => `${f.address.toString()}: ${toSocketError(f.error).code}`).join(", ");
  return socketError(toSocketError(first.error).code, `${hostname}: no connection (${each})`, first.error);
}
