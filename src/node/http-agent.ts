/**
 * Node's http client over synack: an http.Agent whose connections are synack sockets, so
 * `http.request({ agent })` (and keep-alive connection reuse) runs over a synack Stack.
 * For the server side, feed sockets to an http.Server: `server.emit("connection", socket)`.
 */
import { Agent, type AgentOptions, type ClientRequestArgs } from "node:http";
import type { Duplex } from "node:stream";
import type { Stack } from "../api/stack.js";
import { Socket } from "./net.js";

export class SynackAgent extends Agent {
  readonly stack: Stack;

  constructor(stack: Stack, options?: AgentOptions) {
    super(options);
    this.stack = stack;
  }

  override createConnection(options: ClientRequestArgs): Duplex {
    const port = Number(options.port ?? options.defaultPort ?? 80);
    const host = options.host ?? options.hostname ?? this.stack.address;
    return new Socket({ stack: this.stack }).connect({ port, host: host ?? this.stack.address });
  }
}
