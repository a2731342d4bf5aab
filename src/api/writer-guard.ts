/**
 * A workaround for Node 20's WritableStream (nodejs/node#57272, fixed in later Node lines):
 * once a stream's close has begun, its writer's write() throws ERR_INTERNAL_ASSERTION
 * ("a bug in Node.js"), synchronously, from inside Node, where the Streams standard rejects
 * the write with a TypeError. For a socket that is an application's ordinary mistake, a
 * write after close(), and a `write(x).catch(...)` could not catch it.
 *
 * The writers `stream` hands out reject such a write as the standard does; every other call
 * goes to the platform's writer unchanged. Elsewhere (browsers, later Node) nothing changes
 * but who builds that rejection.
 */
export function guardWritesAfterClose<T>(stream: WritableStream<T>, closeBegan: () => boolean): void {
  const getWriter = stream.getWriter.bind(stream);
  Object.defineProperty(stream, "getWriter", {
    configurable: true,
    value: (): WritableStreamDefaultWriter<T> => {
      const writer = getWriter();
      const write = writer.write.bind(writer);
      Object.defineProperty(writer, "write", {
        configurable: true,
        value: (chunk: T): Promise<void> => {
          if (!closeBegan()) return write(chunk);
          return Promise.reject(Object.assign(new TypeError("Invalid state: WritableStream is closed"), { code: "ERR_INVALID_STATE" }));
        },
      });
      return writer;
    },
  });
}
