/**
 * A listening socket as a stream of connections: `server.readable` (the WICG Direct
 * Sockets `TCPServerSocket` shape) and `for await (const socket of server)`.
 *
 * Connections are taken from TCP's accept queue only when the application asks for the
 * next one (the readable's high-water mark is 0), so an application that stops accepting
 * leaves them queued in TCP, where the accept queue's limit applies as on Linux (S7) and
 * the connection table shows them.
 */
import type { Listener } from "../tcp/listener.js";
import { checkPortNumber } from "./address.js";
import { InvalidArgumentError } from "./errors.js";
import type { SocketStack } from "./socket-stack.js";
import { checkSocketOptions, StreamSocket, type ConnectOptions } from "./stream-socket.js";
import { showValue } from "../show-value.js";

export interface ListenOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Accept-queue length (Linux caps it at 4096). Default 511, like Node. */
  backlog?: number;
  /** TCP Fast Open queue length (TCP_FASTOPEN); needs the stack's `tcp.fastOpen` server bit 0x2. */
  fastOpen?: number;
  /** Options applied to each accepted socket. */
  socket?: Omit<ConnectOptions, "hostname" | "port" | "localPort">;
}

export class StreamServer implements AsyncIterable<StreamSocket> {
  readonly readable: ReadableStream<StreamSocket>;
  readonly localPort: number;
  private readonly stack: SocketStack;
  private readonly listener: Listener;
  private readonly socketOptions: ListenOptions["socket"];
  private waiter: (() => void) | undefined;
  private controller!: ReadableStreamDefaultController<StreamSocket>;
  private isClosed = false;

  constructor(stack: SocketStack, options: ListenOptions = {}) {
    if (typeof options !== "object" || options === null) throw new InvalidArgumentError("listen() needs { port }");
    this.stack = stack;
    if (options.socket !== undefined) {
      if (typeof options.socket !== "object" || options.socket === null) throw new InvalidArgumentError(`listen()'s socket must be an object of socket options, got ${showValue(options.socket)}`);
      checkSocketOptions(options.socket);
    }
    this.socketOptions = options.socket;
    this.listener = stack.openListener(checkPortNumber("port", options.port ?? 0, true), options.backlog, undefined, options.fastOpen);
    this.localPort = this.listener.port;
    this.listener.onConnection = () => this.wake();
    this.readable = new ReadableStream<StreamSocket>(
      {
        start: (c) => {
          this.controller = c;
        },
        pull: () => this.pull(),
        cancel: () => this.close(),
      },
      { highWaterMark: 0 },
    );
  }

  /** Where the server listens: every local address ("0.0.0.0") on `localPort`. */
  get localAddress(): string {
    return "0.0.0.0";
  }

  /** Stops listening. Connections not yet accepted are reset, as Linux does. */
  close(): Promise<void> {
    if (!this.isClosed) {
      this.isClosed = true;
      this.stack.closeListener(this.listener);
      try {
        this.controller.close();
      } catch {
        // the readable was cancelled: already closed
      }
      this.wake();
    }
    return Promise.resolve();
  }

  /**
   * Yields accepted connections until the server is closed. Leaving the loop early does not
   * close the server (call `close()`), so a second loop can go on accepting.
   */
  [Symbol.asyncIterator](): AsyncIterator<StreamSocket, undefined> {
    const reader = this.readable.getReader();
    return {
      next: async (): Promise<IteratorResult<StreamSocket, undefined>> => {
        const r = await reader.read();
        if (r.done) {
          reader.releaseLock();
          return { done: true, value: undefined };
        }
        return { done: false, value: r.value };
      },
      return: (): Promise<IteratorResult<StreamSocket, undefined>> => {
        reader.releaseLock();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }

  private pull(): Promise<void> | undefined {
    if (this.acceptOne()) return undefined;
    return new Promise<void>((resolve) => {
      this.waiter = resolve;
    });
  }

  private acceptOne(): boolean {
    if (this.isClosed) return true;
    const conn = this.listener.accept();
    if (conn === undefined) return false;
    this.controller.enqueue(new StreamSocket(this.stack, conn, this.socketOptions));
    // The application may answer its new connection at once.
    this.stack.kick();
    return true;
  }

  private wake(): void {
    const w = this.waiter;
    if (w === undefined) return;
    if (this.isClosed || this.acceptOne()) {
      this.waiter = undefined;
      w();
    }
  }
}
