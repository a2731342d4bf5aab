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
import { bindNet, type SocketConnectOptions } from "./net.js";
import { checkStack } from "./net-validate.js";

export class SynackAgent extends Agent {
  readonly stack: Stack;

  constructor(stack: Stack, options?: AgentOptions) {
    super(options);
    this.stack = checkStack("new SynackAgent(stack)", stack);
  }

  /**
   * net.connect() with every option node:http's Agent hands it, as Node's createConnection:
   * the request's host, port, lookup, family, localAddress and timeout, and the agent's own
   * options, among them `noDelay` (true unless the agent was made with false: Node 18+ sends
   * http without Nagle) and, with `keepAlive`, TCP keep-alive after `keepAliveMsecs`.
   */
  override createConnection(options: ClientRequestArgs): Duplex {
    const connect = { ...options, port: options.port ?? options.defaultPort ?? 80, host: options.host ?? options.hostname ?? undefined } as unknown as SocketConnectOptions;
    return bindNet(this.stack).createConnection(connect);
  }
}
