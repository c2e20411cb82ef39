// Client side of the opening handshake against the `ws` package and crafted raw servers. The
// Connection is a stand-in here (FakeConnection): these specs are about the handshake.
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket as WsSocket } from 'ws';
import { HandshakeError } from '../../lib/handshake/errors';
import { connect } from '../../lib/node/client';
import { serve } from '../../lib/node/server';
import { FakeFactory } from '../handshake/fake-extension';
import { FakeConnection, makeTestCertificate, rawServer, requestHeader } from './node-helpers';

jest.mock('../../lib/streams/connection', () => ({ Connection: jest.requireActual('./node-helpers').FakeConnection }));

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  FakeConnection.made = [];
});

async function wsServer(options: ConstructorParameters<typeof WebSocketServer>[0] = {}): Promise<{ wss: WebSocketServer; port: number; clients: WsSocket[] }> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, ...options });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const clients: WsSocket[] = [];
  wss.on('connection', (ws) => clients.push(ws));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => r());
      }),
  );
  return { wss, port: (wss.address() as AddressInfo).port, clients };
}

async function failureOf(p: Promise<unknown>): Promise<HandshakeError> {
  try {
    const conn = await p;
    (conn as FakeConnection).transport.destroy();
  } catch (err) {
    if (err instanceof HandshakeError) return err;
    throw err;
  }
  throw new Error('expected the handshake to fail');
}

const fake = (c: unknown): FakeConnection => c as FakeConnection;

describe('connect against ws', () => {
  it('connect completes a handshake with ws and fills in the handshake info', async () => {
    const { port } = await wsServer();
    const conn = fake(await connect(`ws://127.0.0.1:${port}/path?q=1`));
    const h = conn.init.handshake;
    expect(conn.init.role).toBe('client');
    expect([h.path, h.url, h.protocol, h.extensions]).toEqual(['/path?q=1', `ws://127.0.0.1:${port}/path?q=1`, '', '']);
    expect(h.requestHeaders.host).toBe(`127.0.0.1:${port}`);
    expect(h.responseHeaders.upgrade).toBe('websocket');
    expect(h.remoteAddress).toBe('127.0.0.1');
    expect(h.remotePort).toBe(port);
    conn.transport.destroy();
    await conn.closed;
  });

  it('connect negotiates a subprotocol ws picks and sends Origin and custom headers', async () => {
    const seen: Record<string, string | string[] | undefined>[] = [];
    const { port } = await wsServer({
      handleProtocols: (protocols) => (protocols.has('v2') ? 'v2' : false),
      verifyClient: (info: { req: { headers: Record<string, string | string[] | undefined> } }) => {
        seen.push(info.req.headers);
        return true;
      },
    });
    const conn = fake(await connect(`ws://127.0.0.1:${port}/`, { protocols: ['v1', 'v2'], origin: 'http://me.example', headers: { 'X-Token': 'abc' } }));
    expect(conn.init.handshake.protocol).toBe('v2');
    expect(seen[0]).toMatchObject({ origin: 'http://me.example', 'x-token': 'abc', 'sec-websocket-protocol': 'v1, v2' });
    conn.transport.destroy();
  });

  it('connect rejects a refused handshake with a HandshakeError carrying status 401, headers and body', async () => {
    const { port } = await wsServer({
      verifyClient: (_info: unknown, cb: (ok: boolean, code?: number, message?: string, headers?: Record<string, string>) => void) =>
        cb(false, 401, 'Who are you', { 'WWW-Authenticate': 'Basic realm="x"' }),
    });
    const err = await failureOf(connect(`ws://127.0.0.1:${port}/`));
    expect(err.kind).toBe('UNEXPECTED_STATUS');
    expect(err.message).toBe('The server refused the WebSocket handshake with status 401');
    expect(err.status).toBe(401);
    expect(err.headers?.['www-authenticate']).toBe('Basic realm="x"');
    expect(Buffer.from(err.body!).toString()).toBe('Who are you');
  });
});

describe('connect response checks', () => {
  const reply = (head: string) => async () => {
    const srv = await rawServer((_req, socket) => socket.write(head));
    cleanups.push(() => srv.close());
    return srv.port;
  };

  it('connect refuses a 101 whose Sec-WebSocket-Accept is wrong', async () => {
    const port = await reply('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAA\r\n\r\n')();
    const err = await failureOf(connect(`ws://127.0.0.1:${port}/`));
    expect(err.kind).toBe('INVALID_ACCEPT');
    expect(err.message).toMatch(/^Sec-WebSocket-Accept "AAAA" does not match the key \(expected ".{28}"\)$/);
    expect(err.status).toBe(101);
  });

  it('connect refuses a 101 without an Upgrade header', async () => {
    const port = await reply('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAA\r\n\r\n')();
    const err = await failureOf(connect(`ws://127.0.0.1:${port}/`));
    expect(err.kind).toBe('INVALID_UPGRADE');
    expect(err.message).toBe('The 101 response\'s Upgrade header must be "websocket", got ""');
  });

  it('connect refuses a 101 whose Connection header lacks upgrade', async () => {
    const port = await reply('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: keep-alive\r\nSec-WebSocket-Accept: AAAA\r\n\r\n')();
    const err = await failureOf(connect(`ws://127.0.0.1:${port}/`));
    expect(err.kind).toBe('INVALID_CONNECTION');
  });

  it('connect keeps only the first 4 KiB of a refusal body', async () => {
    const body = 'x'.repeat(10_000);
    const port = await reply(`HTTP/1.1 503 Service Unavailable\r\nRetry-After: 5\r\nContent-Length: ${body.length}\r\n\r\n${body}`)();
    const err = await failureOf(connect(`ws://127.0.0.1:${port}/`));
    expect([err.status, err.headers?.['retry-after'], err.body?.length]).toEqual([503, '5', 4096]);
  });

  it('connect checks the accept key, the subprotocol and the extensions of a crafted 101', async () => {
    const factory = new FakeFactory('x-fake', 0b100, [{ name: 'x-fake', params: [['mode', 'a']] }]);
    let request = '';
    const srv = await rawServer((req, socket) => {
      request = req;
      const { createHash } = jest.requireActual('node:crypto') as typeof import('node:crypto');
      const accept = createHash('sha1').update(`${requestHeader(req, 'Sec-WebSocket-Key')}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      socket.write(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n` +
          'Sec-WebSocket-Protocol: b\r\nSec-WebSocket-Extensions: x-fake; mode=z\r\n\r\n\x81\x00',
        'latin1',
      );
    });
    cleanups.push(() => srv.close());
    const conn = fake(await connect(`ws://127.0.0.1:${srv.port}/`, { protocols: ['a', 'b'], extensions: [factory] }));
    expect(requestHeader(request, 'Sec-WebSocket-Extensions')).toBe('x-fake; mode=a');
    expect(requestHeader(request, 'Sec-WebSocket-Protocol')).toBe('a, b');
    expect(conn.init.handshake.protocol).toBe('b');
    expect(conn.init.handshake.extensions).toBe('x-fake; mode=z');
    expect(conn.init.activeExtensions).toEqual([factory.made[0]]);
    expect(factory.seenResponses).toEqual([{ name: 'x-fake', params: [['mode', 'z']] }]);
    expect([...conn.init.head!]).toEqual([0x81, 0x00]);
    conn.transport.destroy();
  });

  it('connect refuses a 101 accepting an extension that was not offered', async () => {
    const srv = await rawServer((req, socket) => {
      const { createHash } = jest.requireActual('node:crypto') as typeof import('node:crypto');
      const accept = createHash('sha1').update(`${requestHeader(req, 'Sec-WebSocket-Key')}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n`);
    });
    cleanups.push(() => srv.close());
    const err = await failureOf(connect(`ws://127.0.0.1:${srv.port}/`));
    expect(err.kind).toBe('INVALID_EXTENSIONS');
    expect(err.message).toBe('The server accepted extension "permessage-deflate", which was not offered');
    expect(FakeConnection.made).toHaveLength(0);
  });
});

describe('connect failures', () => {
  it('connect rejects with TIMEOUT when the server never answers, and drops the socket', async () => {
    const srv = await rawServer(() => undefined);
    cleanups.push(() => srv.close());
    const err = await failureOf(connect(`ws://127.0.0.1:${srv.port}/`, { handshakeTimeout: 50 }));
    expect(err.kind).toBe('TIMEOUT');
    expect(err.message).toBe(`The WebSocket handshake with ws://127.0.0.1:${srv.port}/ did not finish within 50 ms`);
    for (let i = 0; i < 200 && srv.sockets.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(srv.sockets.size).toBe(0);
  });

  it('connect rejects with ABORTED when the signal fires, before or during the handshake', async () => {
    const srv = await rawServer(() => undefined);
    cleanups.push(() => srv.close());
    const early = await failureOf(connect(`ws://127.0.0.1:${srv.port}/`, { signal: AbortSignal.abort('no') }));
    expect([early.kind, early.cause]).toEqual(['ABORTED', 'no']);
    const ctl = new AbortController();
    const pending = connect(`ws://127.0.0.1:${srv.port}/`, { signal: ctl.signal });
    setTimeout(() => ctl.abort(new Error('changed my mind')), 20);
    const late = await failureOf(pending);
    expect(late.kind).toBe('ABORTED');
    expect((late.cause as Error).message).toBe('changed my mind');
  });

  it('connect rejects with CONNECTION_FAILED when nothing listens', async () => {
    const srv = await rawServer(() => undefined);
    const port = srv.port;
    await srv.close();
    const err = await failureOf(connect(`ws://127.0.0.1:${port}/`));
    expect(err.kind).toBe('CONNECTION_FAILED');
    expect(err.message).toBe(`Could not open a WebSocket connection to ws://127.0.0.1:${port}/: connect ECONNREFUSED 127.0.0.1:${port}`);
    expect((err.cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
  });

  it('connect throws at once for a bad URL or bad options', () => {
    expect(() => connect('ftp://127.0.0.1/')).toThrow(SyntaxError);
    expect(() => connect('ws://127.0.0.1/#x')).toThrow(SyntaxError);
    expect(() => connect('ws://127.0.0.1/', { protocols: ['a b'] })).toThrow(TypeError);
    expect(() => connect('ws://127.0.0.1/', { handshakeTimeout: -1 })).toThrow(RangeError);
    expect(() => connect('ws://127.0.0.1/', { maxMessageSize: -1 })).toThrow(new RangeError('Option maxMessageSize must be a number ≥ 0, got -1'));
  });
});

describe('TLS', () => {
  let cert: { key: string; cert: string };
  beforeAll(() => {
    cert = makeTestCertificate();
  });

  it('connect speaks wss to serve with tls, trusting the test certificate', async () => {
    const seen: FakeConnection[] = [];
    const s = await serve({ host: '127.0.0.1', port: 0, tls: cert, protocols: ['p'] }, (c) => void seen.push(c as unknown as FakeConnection));
    cleanups.push(() => s.close());
    expect(s.url).toBe(`wss://127.0.0.1:${s.port}`);
    const conn = fake(await connect(`${s.url}/secure`, { tls: { ca: cert.cert }, protocols: ['p'] }));
    expect(conn.init.handshake.url).toBe(`wss://127.0.0.1:${s.port}/secure`);
    expect(conn.init.handshake.protocol).toBe('p');
    for (let i = 0; i < 200 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(seen[0].init.handshake.url).toBe(`wss://127.0.0.1:${s.port}/secure`);
    conn.transport.destroy();
  });

  it('connect refuses an untrusted certificate with CONNECTION_FAILED', async () => {
    const s = await serve({ host: '127.0.0.1', port: 0, tls: cert, onError: () => undefined }, () => undefined);
    cleanups.push(() => s.close());
    const err = await failureOf(connect(`${s.url}/`));
    expect(err.kind).toBe('CONNECTION_FAILED');
    expect((err.cause as NodeJS.ErrnoException).code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
  });

  it('connect speaks wss to ws on an https server, with servername from the URL', async () => {
    const server: HttpsServer = createHttpsServer(cert);
    const wss = new WebSocketServer({ server });
    const hosts: Array<string | undefined> = [];
    wss.on('connection', (_ws, req) => hosts.push(req.headers.host));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(
      () =>
        new Promise<void>((r) => {
          for (const c of wss.clients) c.terminate();
          wss.close();
          server.close(() => r());
        }),
    );
    const port = (server.address() as AddressInfo).port;
    const conn = fake(await connect(`wss://localhost:${port}/`, { tls: { ca: cert.cert } }));
    expect(conn.init.handshake.remotePort).toBe(port);
    for (let i = 0; i < 200 && hosts.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(hosts).toEqual([`localhost:${port}`]);
    conn.transport.destroy();
  });
});
