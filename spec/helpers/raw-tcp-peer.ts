// A WebSocket peer over real TCP that does the opening handshake by hand and then reads and
// writes raw frames on a net.Socket (it may stop reading altogether): for specs where the
// side under test must meet a real socket, and the peer must do what no library would.
import { createHash } from 'node:crypto';
import { connect as netConnect, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { framesOf } from './wire';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** Collects a socket's bytes up to the end of an HTTP head; the rest (frames) comes back too. */
function readHead(socket: Socket): Promise<{ head: string; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.off('error', reject);
      socket.pause();
      resolve({ head: buf.subarray(0, end).toString('latin1'), rest: buf.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.once('error', reject);
  });
}

/**
 * A raw client: connects, sends the RFC 6455 §1.2 upgrade request, and resolves once the 101
 * is in. The socket is left paused (not reading); `rest` holds any frame bytes that came with the 101.
 */
export async function rawClient(port: number, path = '/'): Promise<{ socket: Socket; rest: Buffer }> {
  const socket = netConnect({ host: '127.0.0.1', port, allowHalfOpen: true });
  socket.on('error', () => undefined);
  socket.write([
    `GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade',
    `Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13', '', '',
  ].join('\r\n'));
  const { head, rest } = await readHead(socket);
  if (!head.startsWith('HTTP/1.1 101 ')) throw new Error(`expected a 101, got: ${head}`);
  return { socket, rest };
}

/**
 * A raw server: answers every upgrade request with a 101 (the accept key computed as RFC 6455
 * §4.2.2 says) and hands each socket, paused, to whoever waits in `nextSocket()`.
 */
export async function rawWebSocketServer(): Promise<{ port: number; url: string; nextSocket(): Promise<Socket>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const ready: Socket[] = [];
  const waiting: Array<(s: Socket) => void> = [];
  const server: NetServer = createNetServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    void readHead(socket).then(({ head }) => {
      const key = /^sec-websocket-key:\s*(.*)$/im.exec(head)?.[1]?.trim() ?? '';
      const accept = createHash('sha1').update(key + GUID).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      const w = waiting.shift();
      if (w) w(socket);
      else ready.push(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `ws://127.0.0.1:${port}`,
    nextSocket: () => {
      const s = ready.shift();
      return s ? Promise.resolve(s) : new Promise((resolve) => waiting.push(resolve));
    },
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

/** Writes `bytes` to `socket` and resolves once they were handed to the operating system. */
export function writeAll(socket: Socket, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => socket.write(bytes, (err) => (err ? reject(err) : resolve())));
}

/** Resolves once `socket` has closed. */
export function closedOf(socket: Socket): Promise<void> {
  return socket.closed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve()));
}

/**
 * Reads what the other side sends on `socket` (from now on, after `already`), until it has
 * sent a close frame or ended TCP. Resolves with every byte received.
 */
export function readUntilClose(socket: Socket, already: Uint8Array = new Uint8Array(0)): Promise<Uint8Array> {
  return new Promise((resolve) => {
    let got = Buffer.from(already);
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      socket.off('data', onData);
      resolve(new Uint8Array(got));
    };
    const onData = (chunk: Buffer): void => {
      got = Buffer.concat([got, chunk]);
      if (framesOf(got).some((f) => f.opcode === 8)) finish();
    };
    socket.on('data', onData);
    socket.once('end', finish);
    socket.once('close', finish);
    socket.resume();
    if (framesOf(got).some((f) => f.opcode === 8)) finish();
  });
}
