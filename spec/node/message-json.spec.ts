// `msg.json()` with ws as the sending peer, over loopback TCP.
import WebSocket from 'ws';
import { serve, type WebSocketServerHandle } from '../../lib/node/server';
import type { Connection } from '../../lib/streams/connection';

let server: WebSocketServerHandle | undefined;
let client: WebSocket | undefined;
afterEach(async () => {
  client?.terminate();
  await server?.close();
  server = client = undefined;
});

/** A server handing its first connection over, and a ws client connected to it. */
async function pair(): Promise<{ conn: Connection; ws: WebSocket }> {
  let resolveConn!: (c: Connection) => void;
  const accepted = new Promise<Connection>((r) => (resolveConn = r));
  server = await serve({ host: '127.0.0.1', port: 0 }, (c) => resolveConn(c));
  const ws = (client = new WebSocket(server.url));
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  return { conn: await accepted, ws };
}

describe('IncomingMessage.json()', () => {
  it('parses a text message ws sent, and a binary one (decoded as UTF-8, as Response.json() does)', async () => {
    const { conn, ws } = await pair();
    ws.send(JSON.stringify({ op: 'join', room: 'ünï', n: [1, 2] }));
    ws.send(Buffer.from('\ufeff{"binary":true}'), { binary: true });
    expect(await (await conn.nextMessage())!.json()).toEqual({ op: 'join', room: 'ünï', n: [1, 2] });
    expect(await (await conn.nextMessage())!.json()).toEqual({ binary: true });
  });

  it('rejects invalid JSON with a SyntaxError and the connection goes on', async () => {
    const { conn, ws } = await pair();
    ws.send('{"unterminated": ');
    ws.send('"after"');
    await expect((await conn.nextMessage())!.json()).rejects.toBeInstanceOf(SyntaxError);
    expect(await (await conn.nextMessage())!.json()).toBe('after');
    expect(conn.readyState).toBe(1);
    const echoed = new Promise<string>((r) => ws.once('message', (d) => r(String(d))));
    await conn.send('still open');
    expect(await echoed).toBe('still open');
  });
});
