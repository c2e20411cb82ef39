// Our server and one ws client over loopback TCP, for specs with ws as the peer: the
// server's first connection and the client, closed after each test.
import WebSocket from 'ws';
import { serve, type WebSocketServerHandle } from '../../lib/node/server';
import type { Connection } from '../../lib/streams/connection';

const open: Array<{ server: WebSocketServerHandle; ws: WebSocket }> = [];

/** Closes what `wsClientPair` opened (call in `afterEach`). */
export async function closeWsClientPairs(): Promise<void> {
  for (const { server, ws } of open.splice(0)) {
    ws.terminate();
    await server.close();
  }
}

/** A server handing its first connection over, and a ws client connected to it. */
export async function wsClientPair(): Promise<{ conn: Connection; ws: WebSocket }> {
  let resolveConn!: (c: Connection) => void;
  const accepted = new Promise<Connection>((r) => (resolveConn = r));
  const server = await serve({ host: '127.0.0.1', port: 0 }, (c) => resolveConn(c));
  const ws = new WebSocket(server.url);
  open.push({ server, ws });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return { conn: await accepted, ws };
}
