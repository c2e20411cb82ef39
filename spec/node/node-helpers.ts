// Shared by the Node adapter specs: raw HTTP exchanges, a stand-in Connection, test certificates.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as netConnect, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ByteTransport } from '../../lib/streams/byte-transport';
import type { ConnectionInit, HandshakeInfo } from '../../lib/streams/connection-init';

/** The RFC 6455 §1.2 request, to a given path, with extra header lines. */
export function upgradeRequest(path = '/', extra: string[] = [], host = '127.0.0.1'): string {
  return [
    `GET ${path} HTTP/1.1`,
    `Host: ${host}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    ...extra,
    '',
    '',
  ].join('\r\n');
}

export const RFC_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

/**
 * Sends `request` on a fresh TCP connection and collects the answer: up to the end of the
 * head when it is a 101 (then the socket is returned open), else until the server closes.
 */
export function exchange(port: number, request: string | Buffer): Promise<{ text: string; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: '127.0.0.1', port });
    let text = '';
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      resolve({ text, socket });
    };
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.startsWith('HTTP/1.1 101 ') && text.includes('\r\n\r\n')) finish();
    });
    socket.on('error', (err) => (done ? undefined : reject(err)));
    socket.on('close', finish);
    socket.write(request);
  });
}

/** A head as name → value (lower-case names), and the status line, from a raw response. */
export function parseHead(text: string): { statusLine: string; headers: Record<string, string>; body: string } {
  const end = text.indexOf('\r\n\r\n');
  const lines = text.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  return { statusLine: lines[0], headers, body: text.slice(end + 4) };
}

/** A TCP server that answers every connection with `reply(request text)` once the head is in. */
export async function rawServer(reply: (request: string, socket: Socket) => void): Promise<{ port: number; server: NetServer; sockets: Set<Socket>; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      const before = text.includes('\r\n\r\n');
      text += chunk;
      if (!before && text.includes('\r\n\r\n')) reply(text, socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    server,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The value of a request header in a raw request text. */
export function requestHeader(request: string, name: string): string | undefined {
  const m = new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(request.split('\r\n\r\n')[0]);
  return m ? m[1].trim() : undefined;
}

/**
 * A stand-in for the lead's Connection, for handshake-level specs: records the transport
 * and init, collects received bytes, and closes by destroying the transport.
 */
export class FakeConnection {
  static made: FakeConnection[] = [];
  readonly received: Buffer[] = [];
  readonly closeCalls: Array<[number | undefined, string | undefined]> = [];
  readonly closed: Promise<{ wasClean: boolean; code: number; reason: string }>;
  #resolve!: (v: { wasClean: boolean; code: number; reason: string }) => void;
  ended = false;

  /** The init as given, its handshake built if it came as a function (as a Connection builds it on first use). */
  readonly init: ConnectionInit & { readonly handshake: HandshakeInfo };

  constructor(
    readonly transport: ByteTransport,
    init: ConnectionInit,
  ) {
    this.init = { ...init, handshake: typeof init.handshake === 'function' ? init.handshake() : init.handshake };
    FakeConnection.made.push(this);
    this.closed = new Promise((r) => (this.#resolve = r));
    transport.attach({
      onData: (c) => this.received.push(Buffer.from(c)),
      onEnd: () => {
        // As a real connection would once input is over: end our side too.
        this.ended = true;
        transport.end();
      },
      onError: () => undefined,
      onDrain: () => undefined,
      onClose: () => this.#resolve({ wasClean: false, code: 1006, reason: '' }),
    });
    if (init.head) this.received.push(Buffer.from(init.head));
  }

  get handshake(): HandshakeInfo {
    return this.init.handshake;
  }

  /** As Connection's: in `set` until closed. */
  _trackIn(set: Set<unknown>): void {
    set.add(this);
    void this.closed.then(() => set.delete(this));
  }

  close(code?: number, reason?: string): Promise<{ wasClean: boolean; code: number; reason: string }> {
    this.closeCalls.push([code, reason]);
    this.transport.destroy();
    return this.closed;
  }
}

/** A self-signed certificate for localhost / 127.0.0.1, made with the openssl CLI. */
export function makeTestCertificate(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'ws-streams-cert-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
      '-days', '1', '-keyout', key, '-out', cert,
    ], { stdio: 'ignore' });
    return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Resolves once `socket` has closed. */
export const closedOf = (socket: Socket): Promise<void> =>
  socket.destroyed && socket.closed ? Promise.resolve() : new Promise((resolve) => socket.once('close', () => resolve()));

/**
 * A server with permessage-deflate on that echoes every message and records, per message,
 * whether it came compressed, and each connection's `closed`.
 */
export async function recordingDeflateEcho(): Promise<{ server: import('../../lib/node/server').WebSocketServerHandle; compressed: boolean[]; closes: Array<Promise<unknown>> }> {
  const { serve } = await import('../../lib/node/server');
  const compressed: boolean[] = [];
  const closes: Array<Promise<unknown>> = [];
  const server = await serve({ host: '127.0.0.1', port: 0, perMessageDeflate: true }, (conn) => {
    closes.push(conn.closed);
    echoRecordingCompression(conn, compressed);
  });
  return { server, compressed, closes };
}

/** Echoes every message of `conn`, pushing to `compressed` whether each came compressed. */
export function echoRecordingCompression(conn: import('../../lib/streams/connection').Connection, compressed: boolean[]): void {
  void (async () => {
    for await (const msg of conn.readable) {
      compressed.push(msg.compressed);
      await conn.send(msg);
    }
  })().catch(() => undefined);
}
