/**
 * Host names for node:net's connect(): the name goes through node:net's `lookup` option
 * when given, otherwise through the stack's stub resolver (`dns: { servers }`), and the
 * attempts race by Happy Eyeballs (`autoSelectFamily`, on by default as in Node 20). The
 * failures look like Node's: "getaddrinfo ENOTFOUND name" for a name that does not exist,
 * "getaddrinfo EAI_AGAIN name" when no server answered, the lookup function's own error
 * as it was, "connect ECONNREFUSED addr:port" when the one attempt failed, and an
 * AggregateError whose code is the first attempt's when several did (Node's
 * NodeAggregateError from internalConnectMultiple).
 */
import type { Stack } from "../api/stack.js";
import { connectByName, type LookupFunction } from "../api/name-connect.js";
import { formatAddress } from "../api/address.js";
import { toSocketError } from "../api/errors.js";
import { DnsError, getaddrinfoCode } from "../dns/errors.js";
import type { Connection } from "../tcp/connection.js";
import type { IpAddress } from "../wire/address.js";
import { errnoError, lookupError, type NetError } from "./net-errors.js";

export interface NameOptions {
  port: number;
  localPort?: number;
  family?: number;
  lookup?: LookupFunction;
  autoSelectFamily?: boolean;
  autoSelectFamilyAttemptTimeout?: number;
}

/** Resolves `host` and connects; `done` gets the winning connection or the error to destroy with. */
export function connectSocketByName(
  stack: Stack, host: string, options: NameOptions, onAttempt: (address: IpAddress) => void,
  done: (result: { connection: Connection; address: IpAddress } | { error: Error }) => void,
): () => void {
  return connectByName(
    stack,
    {
      hostname: host,
      port: options.port,
      ...(options.localPort !== undefined ? { localPort: options.localPort } : {}),
      ...(options.family !== undefined ? { family: options.family } : {}),
      ...(options.lookup !== undefined ? { lookup: options.lookup } : {}),
      ...(options.autoSelectFamily !== undefined ? { autoSelectFamily: options.autoSelectFamily } : {}),
      ...(options.autoSelectFamilyAttemptTimeout !== undefined ? { attemptDelay: options.autoSelectFamilyAttemptTimeout } : {}),
      onAttempt,
    },
    (result) => {
      if ("connection" in result) done(result);
      else if (result.kind === "lookup") done({ error: result.error instanceof DnsError ? lookupError(host, result.error, getaddrinfoCode(result.error)) : result.error });
      else done({ error: connectError(result.failures, options.port) });
    },
  );
}

function connectError(failures: ReadonlyArray<{ error: Error; address: IpAddress }>, port: number): NetError {
  const each = failures.map(({ error, address }) => errnoError(toSocketError(error).code, "connect", { address: formatAddress(address), port }, error));
  if (each.length === 1) return each[0]!;
  const aggregate = new AggregateError(each) as AggregateError & NetError;
  aggregate.code = each[0]!.code;
  return aggregate;
}
