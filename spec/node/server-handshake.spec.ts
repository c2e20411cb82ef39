// Server side of the opening handshake through node's HTTP parser, byte for byte. The
// Connection is a stand-in here (FakeConnection): these specs are about the handshake.
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { attach, type UpgradeRequestInfo } from '../../lib/node/upgrade';
import { serve, type WebSocketServerHandle } from '../../lib/node/server';
import { FakeFactory } from '../handshake/fake-extension';
import { closedOf, exchange, FakeConnection, parseHead, RFC_ACCEPT, upgradeRequest } from './node-helpers';

jest.mock('../../lib/streams/connection', () => ({ Connection: jest.requireActual('./node-helpers').FakeConnection }));

const servers: WebSocketServerHandle[] = [];
const httpServers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const s of httpServers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  FakeConnection.made = [];
});

async function start(options: Parameters<typeof serve>[0] = {}, handler: (c: FakeConnection) => void = () => undefined) {
  const s = await serve({ host: '127.0.0.1', port: 0, ...options }, handler as never);
  servers.push(s);
  return s;
}

describe('serve handshake', () => {
  it('serve answers the RFC 6455 §1.2 request with the exact 101 and hands over a connection', async () => {
    const conns: FakeConnection[] = [];
    const s = await start({}, (c) => conns.push(c));
    const { text, socket } = await exchange(s.port, upgradeRequest('/chat?room=1', ['Origin: http://example.com', 'X-Custom: 1']));
    expect(text).toBe(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${RFC_ACCEPT}\r\n\r\n`);
    expect(conns).toHaveLength(1);
    const init = conns[0].init;
    expect(init.role).toBe('server');
    expect(init.handshake).toEqual({
      path: '/chat?room=1',
      url: 'ws://127.0.0.1/chat?room=1',
      protocol: '',
      extensions: '',
      requestHeaders: {
        host: '127.0.0.1', upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'sec-websocket-version': '13', origin: 'http://example.com', 'x-custom': '1',
      },
      responseHeaders: { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-accept': RFC_ACCEPT },
      remoteAddress: '127.0.0.1',
      remotePort: socket.localPort,
    });
    expect(init.activeExtensions).toEqual([]);
    expect(s.connections.has(conns[0] as never)).toBe(true);
    socket.destroy();
    await conns[0].closed;
  });

  it('serve passes bytes that came with the request to the connection as head, then the rest', async () => {
    const conns: FakeConnection[] = [];
    const s = await start({}, (c) => conns.push(c));
    const { socket } = await exchange(s.port, Buffer.concat([Buffer.from(upgradeRequest()), Buffer.from([0x81, 0x80, 1, 2, 3, 4])]));
    socket.write(Buffer.from([0x88, 0x80]));
    await new Promise<void>((resolve) => {
      const check = (): void => (Buffer.concat(conns[0]?.received ?? []).length >= 8 ? resolve() : void setTimeout(check, 5));
      check();
    });
    expect([...conns[0].init.head!]).toEqual([0x81, 0x80, 1, 2, 3, 4]);
    expect(Buffer.concat(conns[0].received)).toEqual(Buffer.from([0x81, 0x80, 1, 2, 3, 4, 0x88, 0x80]));
    socket.destroy();
  });

  it('serve answers a plain GET with 426 Upgrade Required', async () => {
    const s = await start();
    const { text } = await exchange(s.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    const { statusLine, headers, body } = parseHead(text);
    expect(statusLine).toBe('HTTP/1.1 426 Upgrade Required');
    expect(headers.upgrade).toBe('websocket');
    expect(body).toBe('This is a WebSocket server: connect with a WebSocket client');
  });

  it.each([
    ['a version mismatch', upgradeRequest('/').replace('Version: 13', 'Version: 8'), 'HTTP/1.1 400 Bad Request',
      { 'sec-websocket-version': '13' }, 'Unsupported Sec-WebSocket-Version "8": only 13 is spoken'],
    ['a POST', upgradeRequest('/').replace('GET', 'POST'), 'HTTP/1.1 405 Method Not Allowed', { allow: 'GET' },
      'The WebSocket handshake must use GET, not POST'],
    ['a short key', upgradeRequest('/').replace('dGhlIHNhbXBsZSBub25jZQ==', 'c2hvcnQ='), 'HTTP/1.1 400 Bad Request', {},
      'Sec-WebSocket-Key must be base64 of 16 bytes, got "c2hvcnQ="'],
    ['an upgrade without Connection: upgrade', upgradeRequest('/').replace('Connection: Upgrade', 'Connection: keep-alive'),
      'HTTP/1.1 400 Bad Request', {}, 'The Connection header must contain the "upgrade" token, got "keep-alive"'],
    ['a malformed extension header', upgradeRequest('/', ['Sec-WebSocket-Extensions: a;']), 'HTTP/1.1 400 Bad Request', {},
      'Malformed Sec-WebSocket-Extensions header at character 2: expected a parameter name in "a;"'],
  ])('serve refuses %s with the right status, headers and reason', async (_what, request, statusLine, extra, reason) => {
    const s = await start();
    const { text } = await exchange(s.port, request);
    const head = parseHead(text);
    expect(head.statusLine).toBe(statusLine);
    expect(head.headers).toMatchObject({ ...extra, 'content-type': 'text/plain; charset=utf-8' });
    expect(head.body).toBe(reason);
    expect(FakeConnection.made).toHaveLength(0);
  });

  it('serve with a path answers 404 to an upgrade on another path', async () => {
    const s = await start({ path: '/ws' });
    const { text } = await exchange(s.port, upgradeRequest('/other'));
    expect(parseHead(text).statusLine).toBe('HTTP/1.1 404 Not Found');
    const ok = await exchange(s.port, upgradeRequest('/ws?x=1'));
    expect(parseHead(ok.text).statusLine).toBe('HTTP/1.1 101 Switching Protocols');
    ok.socket.destroy();
  });

  it('serve answers 431 to a request head over maxHeaderSize', async () => {
    const s = await start({ maxHeaderSize: 1024 });
    const { text } = await exchange(s.port, upgradeRequest('/', [`X-Big: ${'a'.repeat(2000)}`]));
    expect(text.startsWith('HTTP/1.1 431 Request Header Fields Too Large')).toBe(true);
  });

  it('serve adds configured response headers to the 101', async () => {
    const s = await start({ headers: { 'X-Server': 'test' } });
    const { text, socket } = await exchange(s.port, upgradeRequest());
    expect(text).toBe(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${RFC_ACCEPT}\r\nX-Server: test\r\n\r\n`);
    socket.destroy();
  });

  it('serve answers 500 and reports the error when configured headers would inject a line', async () => {
    const errors: unknown[] = [];
    const s = await start({ headers: { 'X-Bad': 'a\r\nSet-Cookie: x=1' }, onError: (e) => errors.push(e) });
    const { text } = await exchange(s.port, upgradeRequest());
    expect(parseHead(text).statusLine).toBe('HTTP/1.1 500 Internal Server Error');
    expect(text).not.toContain('Set-Cookie');
    expect(errors).toEqual([new TypeError('Header X-Bad has a value with CR, LF or NUL')]);
  });

  it('serve drops a handshake that takes longer than handshakeTimeout', async () => {
    const s = await start({ handshakeTimeout: 20, onRequest: () => new Promise(() => undefined) });
    const { text } = await exchange(s.port, upgradeRequest());
    expect(text).toBe('');
    expect(FakeConnection.made).toHaveLength(0);
  });

  it('serve close() closes every connection with 1001 and stops listening', async () => {
    const conns: FakeConnection[] = [];
    const s = await start({}, (c) => conns.push(c));
    const a = await exchange(s.port, upgradeRequest());
    const b = await exchange(s.port, upgradeRequest());
    expect(s.connections.size).toBe(2);
    await s.close();
    servers.splice(servers.indexOf(s), 1);
    expect(conns.map((c) => c.closeCalls)).toEqual([[[1001, 'Server shutting down']], [[1001, 'Server shutting down']]]);
    expect(s.connections.size).toBe(0);
    await Promise.all([closedOf(a.socket), closedOf(b.socket)]);
    expect(s.server.listening).toBe(false);
  });

  it('serve reports a handler that throws and closes its connection with 1011', async () => {
    const errors: unknown[] = [];
    const boom = new Error('boom');
    const s = await start({ onError: (e) => errors.push(e) }, () => {
      throw boom;
    });
    const { socket } = await exchange(s.port, upgradeRequest());
    await closedOf(socket);
    expect(errors).toEqual([boom]);
    expect(FakeConnection.made[0].closeCalls).toEqual([[1011, 'Internal error']]);
  });

  it('serve reports a handler that rejects and closes its connection with 1011', async () => {
    const errors: unknown[] = [];
    const s = await start({ onError: (e) => errors.push(e) }, (async () => {
      throw new Error('later');
    }) as never);
    const { socket } = await exchange(s.port, upgradeRequest());
    await closedOf(socket);
    expect(errors).toEqual([new Error('later')]);
    expect(FakeConnection.made[0].closeCalls).toEqual([[1011, 'Internal error']]);
  });
});

describe('serve subprotocols', () => {
  it('serve picks the first of its protocols that the client offers', async () => {
    const s = await start({ protocols: ['v3', 'v2', 'v1'] });
    const { text, socket } = await exchange(s.port, upgradeRequest('/', ['Sec-WebSocket-Protocol: v1, v2']));
    expect(parseHead(text).headers['sec-websocket-protocol']).toBe('v2');
    expect(FakeConnection.made[0].init.handshake.protocol).toBe('v2');
    socket.destroy();
  });

  it('serve sends no subprotocol when none of its protocols is offered', async () => {
    const s = await start({ protocols: ['v3'] });
    const { text, socket } = await exchange(s.port, upgradeRequest('/', ['Sec-WebSocket-Protocol: v1']));
    expect(parseHead(text).headers['sec-websocket-protocol']).toBeUndefined();
    socket.destroy();
  });

  it('serve lets a callback choose among the offered protocols, seeing the request', async () => {
    const seen: Array<[readonly string[], string]> = [];
    const s = await start({
      protocols: (offered, req) => {
        seen.push([offered, req.path]);
        return offered[offered.length - 1];
      },
    });
    const { text, socket } = await exchange(s.port, upgradeRequest('/p', ['Sec-WebSocket-Protocol: a, b', 'Sec-WebSocket-Protocol: c']));
    expect(parseHead(text).headers['sec-websocket-protocol']).toBe('c');
    expect(seen).toEqual([[['a', 'b', 'c'], '/p']]);
    socket.destroy();
  });

  it('serve answers 500 when the callback picks a protocol nobody offered', async () => {
    const errors: unknown[] = [];
    const s = await start({ protocols: () => 'zzz', onError: (e) => errors.push(e) });
    const { text } = await exchange(s.port, upgradeRequest('/', ['Sec-WebSocket-Protocol: a']));
    expect(parseHead(text).statusLine).toBe('HTTP/1.1 500 Internal Server Error');
    expect(errors).toEqual([new TypeError('The protocols callback chose "zzz", which the client did not offer (a)')]);
  });
});

describe('serve accept/reject hook', () => {
  it('serve lets onRequest deny with a status, headers and body', async () => {
    const s = await start({ onRequest: () => ({ status: 403, headers: { 'X-Denied': 'origin' }, body: 'go away' }) });
    const { text } = await exchange(s.port, upgradeRequest('/', ['Origin: http://evil.example']));
    expect(text).toBe(
      'HTTP/1.1 403 Forbidden\r\nX-Denied: origin\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: 7\r\n\r\ngo away',
    );
    expect(FakeConnection.made).toHaveLength(0);
  });

  it('serve answers 403 when onRequest returns false', async () => {
    const s = await start({ onRequest: () => false });
    const { text } = await exchange(s.port, upgradeRequest());
    expect(parseHead(text).statusLine).toBe('HTTP/1.1 403 Forbidden');
  });

  it('serve shows onRequest the method, path, origin, headers, offers and remote address', async () => {
    const seen: UpgradeRequestInfo[] = [];
    const s = await start({ onRequest: (r) => void seen.push(r) });
    const { socket } = await exchange(
      s.port,
      upgradeRequest('/room?id=7', ['Origin: http://example.com', 'Sec-WebSocket-Protocol: a, b', 'Sec-WebSocket-Extensions: x; y=1']),
    );
    const r = seen[0];
    expect([r.method, r.path, r.url, r.origin]).toEqual(['GET', '/room?id=7', 'ws://127.0.0.1/room?id=7', 'http://example.com']);
    expect(r.headers['sec-websocket-protocol']).toBe('a, b');
    expect(r.protocols).toEqual(['a', 'b']);
    expect(r.extensions).toEqual([{ name: 'x', params: [['y', '1']] }]);
    expect([r.remoteAddress, r.remotePort]).toEqual(['127.0.0.1', socket.localPort]);
    socket.destroy();
  });

  it('serve lets an async onRequest accept with extra response headers', async () => {
    const s = await start({ headers: { 'X-A': '1' }, onRequest: async () => ({ headers: { 'Set-Cookie': ['s=1', 't=2'] } }) });
    const { text, socket } = await exchange(s.port, upgradeRequest());
    expect(text).toBe(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${RFC_ACCEPT}\r\nX-A: 1\r\nSet-Cookie: s=1\r\nSet-Cookie: t=2\r\n\r\n`,
    );
    expect(FakeConnection.made[0].init.handshake.responseHeaders['set-cookie']).toBe('s=1, t=2');
    socket.destroy();
  });

  it('serve answers 500 and reports the error when onRequest throws', async () => {
    const errors: unknown[] = [];
    const s = await start({ onRequest: async () => Promise.reject(new Error('db down')), onError: (e) => errors.push(e) });
    const { text } = await exchange(s.port, upgradeRequest());
    expect(parseHead(text).statusLine).toBe('HTTP/1.1 500 Internal Server Error');
    expect(errors).toEqual([new Error('db down')]);
  });

  it('serve answers 500 when onRequest denies with an invalid status', async () => {
    const errors: unknown[] = [];
    const s = await start({ onRequest: () => ({ status: 101 }), onError: (e) => errors.push(e) });
    const { text } = await exchange(s.port, upgradeRequest());
    expect(parseHead(text).statusLine).toBe('HTTP/1.1 500 Internal Server Error');
    expect(errors).toEqual([new RangeError('A handshake rejection needs a status from 200 to 599, got 101')]);
  });
});

describe('serve extensions', () => {
  it('serve negotiates through the extension factories and hands the active extensions over', async () => {
    const factory = new FakeFactory('x-fake', 0b100, [], ['2']);
    const s = await start({ extensions: [factory] });
    const { text, socket } = await exchange(s.port, upgradeRequest('/', ['Sec-WebSocket-Extensions: x-fake; mode=1, x-other, x-fake; mode="2"']));
    expect(parseHead(text).headers['sec-websocket-extensions']).toBe('x-fake; mode=2');
    expect(factory.seenOffers).toEqual([[{ name: 'x-fake', params: [['mode', '1']] }, { name: 'x-fake', params: [['mode', '2']] }]]);
    const init = FakeConnection.made[0].init;
    expect(init.activeExtensions).toEqual([factory.made[0]]);
    expect(init.handshake.extensions).toBe('x-fake; mode=2');
    socket.destroy();
  });
});

describe('attach', () => {
  async function listen(server: Server): Promise<number> {
    httpServers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return (server.address() as AddressInfo).port;
  }

  const get = (port: number, path: string): Promise<[number, string]> =>
    new Promise((resolve, reject) => {
      httpRequest({ host: '127.0.0.1', port, path, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve([res.statusCode ?? 0, body]));
      }).on('error', reject).end();
    });

  it('attach serves upgrades on its path while ordinary requests still get 200', async () => {
    const server = createServer((_req, res) => res.end('hello'));
    const conns: unknown[] = [];
    const a = attach(server, { path: '/ws' }, (c) => conns.push(c));
    const port = await listen(server);
    expect(await get(port, '/')).toEqual([200, 'hello']);
    expect(await get(port, '/ws')).toEqual([200, 'hello']);
    const { text, socket } = await exchange(port, upgradeRequest('/ws'));
    expect(parseHead(text).statusLine).toBe('HTTP/1.1 101 Switching Protocols');
    expect(conns).toHaveLength(1);
    expect(a.connections.size).toBe(1);
    const none = await exchange(port, upgradeRequest('/nope'));
    expect(parseHead(none.text).statusLine).toBe('HTTP/1.1 404 Not Found');
    await a.close();
    await closedOf(socket);
    expect(a.connections.size).toBe(0);
  });

  it('attach routes several paths on one server, a predicate among them', async () => {
    const server = createServer();
    const seen: string[] = [];
    const a = attach(server, { path: '/a' }, (c) => seen.push(`a ${(c as unknown as FakeConnection).init.handshake.path}`));
    const b = attach(server, { path: (p) => p.startsWith('/b/') }, (c) => seen.push(`b ${(c as unknown as FakeConnection).init.handshake.path}`));
    const port = await listen(server);
    const r1 = await exchange(port, upgradeRequest('/b/1'));
    const r2 = await exchange(port, upgradeRequest('/a?q'));
    expect(seen).toEqual(['b /b/1', 'a /a?q']);
    a.detach();
    const r3 = await exchange(port, upgradeRequest('/a'));
    expect(parseHead(r3.text).statusLine).toBe('HTTP/1.1 404 Not Found');
    r1.socket.destroy();
    r2.socket.destroy();
    await b.close();
    expect(server.listenerCount('upgrade')).toBe(0);
  });

  it('attach closes with 1011 and reports the error when onConnection throws after the 101', async () => {
    const server = createServer();
    const errors: unknown[] = [];
    const a = attach(server, { onError: (e) => errors.push(e) }, () => {
      throw new Error('callback bug');
    });
    const port = await listen(server);
    const { text, socket } = await exchange(port, upgradeRequest());
    expect(parseHead(text).statusLine).toBe('HTTP/1.1 101 Switching Protocols');
    await closedOf(socket);
    expect(text).not.toContain('500');
    expect(errors).toEqual([new Error('callback bug')]);
    expect(FakeConnection.made[0].closeCalls).toEqual([[1011, 'Internal error']]);
    a.detach();
  });

  it('attach and serve refuse bad connection options at once', async () => {
    expect(() => attach(createServer(), { maxFrameSize: -1 }, () => undefined)).toThrow(
      new RangeError('Option maxFrameSize must be a number ≥ 0, got -1'),
    );
    expect(() => attach(createServer(), { handshakeTimeout: Number.NaN }, () => undefined)).toThrow(
      new RangeError('handshakeTimeout must be ≥ 0, got NaN'),
    );
    await expect(serve({ host: '127.0.0.1', port: 0, closeTimeout: -5 }, () => undefined)).rejects.toThrow(RangeError);
  });

  it('attach leaves an upgrade on another path to the other upgrade listeners', async () => {
    const server = createServer();
    const a = attach(server, { path: '/ws' }, () => undefined);
    server.on('upgrade', (req, socket) => {
      if (req.url === '/mine') socket.end('HTTP/1.1 418 Teapot\r\nContent-Length: 0\r\n\r\n');
    });
    const port = await listen(server);
    const { text } = await exchange(port, upgradeRequest('/mine'));
    expect(text).toBe('HTTP/1.1 418 Teapot\r\nContent-Length: 0\r\n\r\n');
    a.detach();
  });
});
