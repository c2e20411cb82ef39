// The server the WebSocketStream scenarios talk to (spec/helpers/websocket-stream-scenarios.ts):
// a `serve()` server with a handler per path, which keeps how each connection ended, per run
// and scenario (`?run=…&s=…`), so that both runs' server-side observations can be compared too.
import type { Socket } from 'node:net';
import { serve, type WebSocketServerHandle } from '../../lib/node/server';
import { WebSocketStream } from '../../lib/node/websocket-stream';
import type { Connection } from '../../lib/streams/connection';
import type { CloseInfo } from '../../lib/streams/errors';

export interface ScenarioServer {
  readonly handle: WebSocketServerHandle;
  /** `ws://127.0.0.1:port`. */
  readonly base: string;
  /** How the server's connections of one run of one scenario ended, by path (and what `/sink` received). */
  ended(run: string, scenario: string): Promise<Record<string, ServerSaw>>;
}

/** How one connection ended, seen from the server; for `/sink`, the messages it received too. */
export type ServerSaw = Omit<CloseInfo, 'error'> & { received?: string[] };

const MiB = 1 << 20;
/** What `/sink` connections received, as `text:…` / `binary:<length>`. */
const received = new WeakMap<Connection, string[]>();

export async function startScenarioServer(): Promise<ScenarioServer> {
  const closes = new Map<string, Array<{ path: string; conn: Connection }>>();
  const sockets = new Map<number, Socket>();
  const handle = await serve({
    host: '127.0.0.1',
    port: 0,
    maxMessageSize: 4 * MiB,
    protocols: (offered, request) => (request.path.startsWith('/protocols') && offered.includes('chat.v1') ? 'chat.v1' : undefined),
    onRequest: (request) => (request.path.startsWith('/refuse') ? { status: 403, body: 'no' } : true),
  }, (conn: Connection) => {
    const at = new URL(conn.handshake.path, 'ws://scenario');
    const key = `${at.searchParams.get('run')} ${at.searchParams.get('s')}`;
    const list = closes.get(key) ?? [];
    list.push({ path: at.pathname, conn });
    closes.set(key, list);
    return handlers[at.pathname]?.(conn, sockets.get(conn.handshake.remotePort ?? -1));
  });
  handle.server.on('connection', (socket: Socket) => {
    sockets.set(socket.remotePort ?? -1, socket);
    socket.on('close', () => sockets.delete(socket.remotePort ?? -1));
  });
  return {
    handle,
    base: `ws://127.0.0.1:${handle.port}`,
    async ended(run, scenario) {
      const out: Record<string, ServerSaw> = {};
      for (const { path, conn } of closes.get(`${run} ${scenario}`) ?? []) {
        const { wasClean, code, reason, endedBy } = await conn.closed;
        const got = received.get(conn);
        out[path] = got === undefined ? { wasClean, code, reason, endedBy } : { wasClean, code, reason, endedBy, received: got };
      }
      return out;
    },
  };
}

/** What the server does on each path. */
const handlers: Record<string, (conn: Connection, socket: Socket | undefined) => Promise<void> | void> = {
  // An echo server made of the WebSocketStream view of the accepted connection.
  '/echo': async (conn) => {
    const { readable, writable } = await new WebSocketStream(conn).opened;
    await readable.pipeTo(writable).catch(() => undefined);
  },
  // Reads every message and answers nothing: what the client sent is kept for the comparison.
  '/sink': async (conn) => {
    const got: string[] = [];
    received.set(conn, got);
    for await (const msg of conn) got.push(msg.type === 'text' ? `text:${await msg.text()}` : `binary:${(await msg.bytes()).length}`);
  },
  '/protocols': (conn) => conn.readable.pipeTo(conn.writable).catch(() => undefined),
  '/send-then-close': async (conn) => {
    await conn.send('first');
    await conn.send(new Uint8Array([9, 8, 7]));
    await conn.close(4001, 'server bye');
  },
  // A message, then TCP ends without a close frame (end() flushes the message first).
  '/send-then-drop': async (conn, socket) => {
    await conn.send('before the drop');
    socket?.end();
  },
  // 16 binary messages echoed, through the view, then a text message with the server's verdict.
  '/large': async (conn) => {
    const { readable, writable } = await new WebSocketStream(conn).opened;
    const writer = writable.getWriter();
    const reader = readable.getReader();
    let intact = 0;
    for (let i = 0; i < 16; i++) {
      const { value } = await reader.read();
      if (!(value instanceof Uint8Array) || value.length !== MiB) continue;
      let ok = true;
      for (let j = 0; ok && j < MiB; j += 4096) ok = value[j] === ((i + j / 4096) & 255);
      if (ok) intact++;
      await writer.write(value);
    }
    await writer.write(`server: ${intact} of 16 intact, in order`);
    reader.releaseLock();
    await readable.pipeTo(writable).catch(() => undefined);
  },
};
