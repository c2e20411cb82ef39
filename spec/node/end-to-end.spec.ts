// Real connections: our server and client with the stream tier, against each other and `ws`.
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { startEcho } from '../../lib/node/cli';
import { connect } from '../../lib/node/client';
import { serve, type ServeOptions, type WebSocketServerHandle } from '../../lib/node/server';
import type { Connection } from '../../lib/streams/connection';
import { WebSocketError } from '../../lib/streams/errors';
import { makeTestCertificate } from './node-helpers';

const cleanups: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(options: ServeOptions, handler: (c: Connection) => void | Promise<void>): Promise<WebSocketServerHandle> {
  const s = await serve({ host: '127.0.0.1', port: 0, ...options }, handler);
  cleanups.push(() => s.close());
  return s;
}

const echo = (c: Connection): void => void c.readable.pipeTo(c.writable).catch(() => undefined);

function wsClient(url: string, protocols?: string[], options: WebSocket.ClientOptions = {}): Promise<WebSocket> {
  const ws = new WebSocket(url, protocols, options);
  cleanups.push(() => (ws.readyState === WebSocket.CLOSED ? undefined : new Promise((r) => { ws.once('close', r); ws.terminate(); })));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

const nextWsMessage = (ws: WebSocket): Promise<[Buffer, boolean]> =>
  new Promise((resolve) => ws.once('message', (data, isBinary) => resolve([data as Buffer, isBinary])));

async function ourClient(url: string, options: Parameters<typeof connect>[1] = {}): Promise<Connection> {
  const conn = await connect(url, options);
  cleanups.push(async () => {
    conn.close(1000);
    await conn.closed;
  });
  return conn;
}

async function readOne(conn: Connection): Promise<{ type: string; data: Uint8Array }> {
  const msg = await conn.nextMessage();
  if (msg === undefined) throw new Error('no message');
  return { type: msg.type, data: await msg.bytes() };
}

const SIZES = [0, 1, 125, 126, 65535, 65536, 1 << 20];
const pattern = (n: number): Buffer => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
};

describe('our server with the ws client', () => {
  it.each(SIZES)('serve echoes a %p-byte binary and text message to ws unchanged', async (n) => {
    const s = await start({}, echo);
    const ws = await wsClient(`${s.url}/`);
    const data = pattern(n);
    ws.send(data);
    const [echoed, binary] = await nextWsMessage(ws);
    // Buffer.equals, not toEqual: jest compares large buffers element by element.
    expect([echoed.equals(data), echoed.length, binary]).toEqual([true, n, true]);
    const text = 'é'.repeat(Math.floor(n / 2));
    ws.send(text);
    const [got, isBinary] = await nextWsMessage(ws);
    expect([got.toString('utf8') === text, got.length, isBinary]).toEqual([true, Buffer.byteLength(text), false]);
  });

  it('serve assembles a fragmented message with a ping between its frames and answers the ping', async () => {
    const got: string[] = [];
    const s = await start({}, async (c) => {
      for await (const msg of c.readable) {
        got.push(await msg.text());
        await c.send(`got ${got.length}`);
      }
    });
    const ws = await wsClient(`${s.url}/`);
    const pong = new Promise<Buffer>((r) => ws.once('pong', r));
    const reply = nextWsMessage(ws);
    ws.send('frag', { fin: false });
    ws.ping('between');
    ws.send('men', { fin: false });
    ws.send('ted', { fin: true });
    expect((await pong).toString()).toBe('between');
    expect((await reply)[0].toString()).toBe('got 1');
    expect(got).toEqual(['fragmented']);
  });

  it('serve reports the close code and reason ws sends, and ws gets ours', async () => {
    const closes: unknown[] = [];
    const s = await start({}, (c) => void c.closed.then((info) => closes.push(info)));
    const ws = await wsClient(`${s.url}/`);
    const wsClosed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    ws.close(4001, 'bye');
    // RFC 6455 §5.5.1: the answer "typically echos the status code it received".
    expect(await wsClosed).toBe(4001);
    for (let i = 0; i < 200 && closes.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(closes).toEqual([{ wasClean: true, code: 4001, reason: 'bye', endedBy: 'close-handshake' }]);

    const conns: Connection[] = [];
    const s2 = await start({}, (c) => void conns.push(c));
    const ws2 = await wsClient(`${s2.url}/`);
    const ws2Closed = new Promise<[number, string]>((r) => ws2.once('close', (code, reason) => r([code, reason.toString()])));
    for (let i = 0; i < 200 && conns.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(await conns[0].close(4002, 'done')).toEqual({ wasClean: true, code: 4002, reason: 'done', endedBy: 'close-handshake' });
    expect(await ws2Closed).toEqual([4002, 'done']);
  });

  it('serve negotiates a subprotocol with ws and refuses with 401 through the hook', async () => {
    const s = await start({ protocols: ['v2', 'v1'], onRequest: (r) => (r.headers.authorization ? true : { status: 401, headers: { 'WWW-Authenticate': 'Bearer' } }) }, echo);
    const ws = await wsClient(`${s.url}/`, ['v1', 'v2'], { headers: { Authorization: 'Bearer x' } });
    expect(ws.protocol).toBe('v2');
    const refused = new WebSocket(`${s.url}/`);
    refused.on('error', () => undefined);
    const status = await new Promise<[number, string | undefined]>((resolve) =>
      refused.once('unexpected-response', (_req, res) => {
        resolve([res.statusCode ?? 0, res.headers['www-authenticate'] as string | undefined]);
        refused.terminate();
      }),
    );
    expect(status).toEqual([401, 'Bearer']);
  });

  it('serve fails the message streams with 1006 when the TCP connection is reset mid-message', async () => {
    const results: unknown[] = [];
    const s = await start({}, async (c) => {
      const msg = await c.nextMessage();
      results.push(await msg!.text().catch((e: unknown) => (e instanceof WebSocketError ? `error ${e.closeCode}` : e)));
      results.push(await c.closed);
    });
    const ws = await wsClient(`${s.url}/`);
    ws.send('partial', { fin: false });
    await new Promise((r) => setTimeout(r, 20));
    (ws as unknown as { _socket: { resetAndDestroy(): void } })._socket.resetAndDestroy();
    for (let i = 0; i < 400 && results.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(results).toEqual(['error 1006', { wasClean: false, code: 1006, reason: '', endedBy: 'transport-error', error: expect.objectContaining({ code: 'ECONNRESET' }) }]);
  });
});

describe('our client with the ws server', () => {
  async function wsEchoServer(options: WebSocket.ServerOptions = {}): Promise<string> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, ...options });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
    cleanups.push(() => new Promise<void>((r) => { for (const c of wss.clients) c.terminate(); wss.close(() => r()); }));
    return `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  }

  it.each(SIZES)('connect sends and receives a %p-byte binary message through ws', async (n) => {
    const conn = await ourClient(`${await wsEchoServer()}/`);
    const data = pattern(n);
    await conn.send(data);
    const got = await readOne(conn);
    expect(got.type).toBe('binary');
    expect(Buffer.from(got.data).equals(data)).toBe(true);
  });

  it('connect sends a fragmented text message ws reassembles', async () => {
    const conn = await ourClient(`${await wsEchoServer()}/`);
    await conn.send('fragmented text', { fragmentSize: 3 });
    const got = await readOne(conn);
    expect([got.type, Buffer.from(got.data).toString()]).toEqual(['text', 'fragmented text']);
  });

  it('connect closes with a code and reason ws sees, and the close is clean', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    cleanups.push(() => new Promise<void>((r) => wss.close(() => r())));
    const seen = new Promise<[number, string]>((r) => wss.once('connection', (ws) => ws.once('close', (code, reason) => r([code, reason.toString()]))));
    const conn = await connect(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`);
    expect(await conn.close(4003, 'client done')).toEqual({ wasClean: true, code: 4003, reason: 'client done', endedBy: 'close-handshake' });
    expect(await seen).toEqual([4003, 'client done']);
  });

  it('connect closes without a code: ws sees 1005 and the close is clean with 1005', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    cleanups.push(() => new Promise<void>((r) => wss.close(() => r())));
    const seen = new Promise<number>((r) => wss.once('connection', (ws) => ws.once('close', (code) => r(code))));
    const conn = await connect(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`);
    expect(await conn.close()).toEqual({ wasClean: true, code: 1005, reason: '', endedBy: 'close-handshake' });
    expect(await seen).toBe(1005);
  });

  it('connect reports the code and reason of a close ws starts', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((r) => wss.once('listening', () => r()));
    cleanups.push(() => new Promise<void>((r) => wss.close(() => r())));
    wss.on('connection', (ws) => ws.close(4004, 'server done'));
    const conn = await connect(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`);
    expect(await conn.closed).toEqual({ wasClean: true, code: 4004, reason: 'server done', endedBy: 'close-handshake' });
  });
});

describe('our client with our server', () => {
  it('connect and serve echo over TLS with a test certificate', async () => {
    const cert = makeTestCertificate();
    const s = await start({ tls: cert }, echo);
    const conn = await ourClient(`${s.url}/`, { tls: { ca: cert.cert } });
    await conn.send('over tls');
    const got = await readOne(conn);
    expect([got.type, Buffer.from(got.data).toString()]).toEqual(['text', 'over tls']);
  });

  it('connect and serve leave no sockets or timers behind once closed', async () => {
    const count = (): number => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TCPServerWrap' || r === 'Timeout').length;
    const before = count();
    const s = await serve({ host: '127.0.0.1', port: 0 }, echo);
    const conns = await Promise.all(Array.from({ length: 10 }, () => connect(`${s.url}/`)));
    await Promise.all(conns.map((c) => c.send('x')));
    await Promise.all(conns.map((c) => readOne(c)));
    await Promise.all(conns.map((c) => c.close(1000)));
    await s.close();
    for (let i = 0; i < 400 && count() > before; i++) await new Promise((r) => setTimeout(r, 5));
    // At most what was there before (an earlier test's socket may have finished closing since).
    expect(count()).toBeLessThanOrEqual(before);
  });
});

describe('cli echo server', () => {
  it('websocket-streams echo echoes on / and hashes on /sha256 while streaming', async () => {
    const lines: string[] = [];
    const server = await startEcho({ command: 'echo', host: '127.0.0.1', port: 0, maxMessageSize: undefined, deflate: false }, (l) => lines.push(l));
    cleanups.push(() => server.close());
    expect(lines).toEqual([`listening on ${server.url}`]);
    expect(server.url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+$/);

    const ws = await wsClient(`${server.url}/`);
    ws.send('ping me');
    expect((await nextWsMessage(ws))[0].toString()).toBe('ping me');

    const hasher = await wsClient(`${server.url}/sha256`);
    const big = pattern(3 * 1024 * 1024 + 5);
    hasher.send(big.subarray(0, 1000), { fin: false });
    hasher.send(big.subarray(1000, 2_000_000), { fin: false });
    hasher.send(big.subarray(2_000_000), { fin: true });
    const [digest, isBinary] = await nextWsMessage(hasher);
    expect([digest.toString(), isBinary]).toEqual([createHash('sha256').update(big).digest('hex'), false]);
    hasher.send('');
    expect((await nextWsMessage(hasher))[0].toString()).toBe(createHash('sha256').update('').digest('hex'));
    // More frames than any default maxFragments: /sha256 keeps none, so allows any number.
    const frames = 100_001;
    const reply = nextWsMessage(hasher);
    for (let i = 0; i < frames; i++) hasher.send('a', { fin: i === frames - 1 });
    expect((await reply)[0].toString()).toBe(createHash('sha256').update('a'.repeat(frames)).digest('hex'));
  });

  it.each([
    ['permessage-deflate', 'permessage-deflate'],
    ['permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9',
      'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=9'],
  ])('websocket-streams echo --deflate accepts %s on / and /sha256', async (offer, answer) => {
    const server = await startEcho({ command: 'echo', host: '127.0.0.1', port: 0, maxMessageSize: undefined, deflate: true }, () => undefined);
    cleanups.push(() => server.close());
    const o = offer.includes('server_no') ? { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 9 } : {};
    for (const path of ['/', '/sha256']) {
      const ws = new WebSocket(`${server.url}${path}`, { perMessageDeflate: { ...o, threshold: 0 } });
      let answered = '';
      ws.once('upgrade', (res) => (answered = String(res.headers['sec-websocket-extensions'])));
      await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
      expect(answered).toBe(answer);
      const text = 'compress me '.repeat(5000);
      ws.send(text);
      const [reply] = await nextWsMessage(ws);
      expect(reply.toString()).toBe(path === '/' ? text : createHash('sha256').update(text).digest('hex'));
      ws.close(1000);
    }
  });

  it('websocket-streams echo without --deflate declines permessage-deflate', async () => {
    const server = await startEcho({ command: 'echo', host: '127.0.0.1', port: 0, maxMessageSize: undefined, deflate: false }, () => undefined);
    cleanups.push(() => server.close());
    const ws = new WebSocket(`${server.url}/`, { perMessageDeflate: true });
    let answered: string | undefined = 'not seen';
    ws.once('upgrade', (res) => (answered = res.headers['sec-websocket-extensions'] as string | undefined));
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    expect(answered).toBeUndefined();
    ws.send('plain');
    expect((await nextWsMessage(ws))[0].toString()).toBe('plain');
    ws.close(1000);
  });
});
