/**
 * Node's http client over synack: an http.Agent whose connections are synack sockets, so
 * `http.request({ agent })` (and keep-alive connection reuse) runs over a synack Stack.
 * Host names resolve as node:net's connect() does on synack (the request's `lookup`, or
 * the stack's DNS servers, with Happy Eyeballs). For the server side, feed sockets to an
 * http.Server: `server.emit("connection", socket)`.
 */
import { Agent, type AgentOptions, type ClientRequestArgs } from "node:http";
import type { Duplex } from "node:stream";
import type { Stack } from "../api/stack.js";
import type { LookupFunction } from "../api/name-connect.js";
import { Socket, type SocketConnectOptions } from "./net.js";

/** The request options node:http hands on to net.connect for name resolution. */
interface NameOptions {
  lookup?: unknown;
  family?: unknown;
  autoSelectFamily?: unknown;
  autoSelectFamilyAttemptTimeout?: unknown;
}

export class SynackAgent extends Agent {
  readonly stack: Stack;

  constructor(stack: Stack, options?: AgentOptions) {
    super(options);
    this.stack = stack;
  }

  override createConnection(options: ClientRequestArgs): Duplex {
    const port = Number(options.port ?? options.defaultPort ?? 80);
    const host = options.host ?? options.hostname ?? this.stack.address;
    const o = options as NameOptions;
    const connect: SocketConnectOptions = {
      port,
      host: host ?? this.stack.address,
      ...(typeof o.lookup === "function" ? { lookup: o.lookup as LookupFunction } : {}),
      ...(typeof o.family === "number" ? { family: o.family } : {}),
      ...(typeof o.autoSelectFamily === "boolean" ? { autoSelectFamily: o.autoSelectFamily } : {}),
      ...(typeof o.autoSelectFamilyAttemptTimeout === "number" ? { autoSelectFamilyAttemptTimeout: o.autoSelectFamilyAttemptTimeout } : {}),
    };
    return new Socket({ stack: this.stack }).connect(connect);
  }
}
