// TCP sockets as a pair of web byte streams, from the runtime's own API where it has one:
// Deno.listen/Deno.connect in Deno. Node and Bun have none (Bun.listen/Bun.connect are
// callback sockets), so there a node:net socket is wrapped by hand: a ReadableStream pulled
// from the paused socket, and a WritableStream whose close() is socket.end(). Node's own
// stream.Duplex.toWeb() does not do: its readable does not end on the peer's FIN until our
// own write side has finished too, which deadlocks a client waiting for the server to end TCP.
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { streamClasses } from '../../lib/streams/stream-classes';

/** A connected TCP socket as web streams, as Deno.connect gives it, and how to half-close it. */
export interface StreamSocket {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  /** Sends FIN and keeps reading, where `writable.close()` would close the whole socket (Deno). */
  readonly closeWrite?: () => Promise<void>;
}

/** A loopback TCP listener handing out accepted sockets as web streams. */
export interface StreamListener {
  readonly port: number;
  accept(): Promise<StreamSocket>;
  close(): void;
}

interface DenoConn {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  closeWrite(): Promise<void>;
}
interface DenoTcp {
  listen(options: { hostname: string; port: number }): { addr: { port: number }; accept(): Promise<DenoConn>; close(): void };
  connect(options: { hostname: string; port: number }): Promise<DenoConn>;
}

const deno = (globalThis as { Deno?: DenoTcp }).Deno;

/** Which TCP API the sockets come from in this runtime, for test names. */
export const STREAM_SOCKET_API = deno ? 'Deno.listen/Deno.connect' : 'node:net wrapped as web streams';

const fromDeno = (conn: DenoConn): StreamSocket =>
  ({ readable: conn.readable, writable: conn.writable, closeWrite: () => conn.closeWrite() });

function fromNode(socket: Socket): StreamSocket {
  // The library's stream classes: the globals, or the ponyfill of jest's ponyfill project.
  const { ReadableStream, WritableStream } = streamClasses();
  socket.pause();
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      socket.on('data', (chunk: Buffer) => {
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
        if ((controller.desiredSize ?? 0) <= 0) socket.pause();
      });
      socket.once('end', () => controller.close());
      socket.once('error', (err) => controller.error(err));
    },
    pull: () => void socket.resume(),
    cancel: () => void socket.destroy(),
  }, { highWaterMark: 0 });
  const writable = new WritableStream<Uint8Array>({
    write: (chunk) => new Promise<void>((resolve, reject) => socket.write(chunk, (err) => (err ? reject(err) : resolve()))),
    close: () => new Promise<void>((resolve) => socket.end(resolve)),
    abort: () => void socket.destroy(),
  });
  return { readable, writable };
}

/** Listens on 127.0.0.1, port chosen by the OS. */
export async function listenStreams(): Promise<StreamListener> {
  if (deno) {
    const listener = deno.listen({ hostname: '127.0.0.1', port: 0 });
    return { port: listener.addr.port, accept: async () => fromDeno(await listener.accept()), close: () => listener.close() };
  }
  const waiting: ((s: StreamSocket) => void)[] = [];
  const accepted: StreamSocket[] = [];
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const s = fromNode(socket);
    const taker = waiting.shift();
    if (taker) taker(s);
    else accepted.push(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    accept: () => {
      const ready = accepted.shift();
      return ready ? Promise.resolve(ready) : new Promise((resolve) => waiting.push(resolve));
    },
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

/** Connects to 127.0.0.1:`port`. */
export async function connectStream(port: number): Promise<StreamSocket> {
  if (deno) return fromDeno(await deno.connect({ hostname: '127.0.0.1', port }));
  const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  return fromNode(socket);
}
