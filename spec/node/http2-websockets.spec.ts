import { once } from 'node:events';
import {
  connect as h2connect, constants, createSecureServer, createServer as createH2cServer, type Http2SecureServer, type Http2Server,
  type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream,
} from 'node:http2';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { connect } from '../../lib/node/client';
import { serve } from '../../lib/node/server';
import { attach, handleUpgrade } from '../../lib/node/upgrade';
import type { Connection } from '../../lib/streams/connection';
import type { CloseInfo } from '../../lib/streams/errors';
import { FakeClock, settle } from '../helpers/fake-clock';
import { makeTestCertificate } from './node-helpers';

// WebSockets over HTTP/2 (RFC 8441), our client against our server on TLS with a test
// certificate; what each side observes on the HTTP/2 streams is checked with node's http2.
const cert = makeTestCertificate();
const tls = { ca: cert.cert, servername: 'localhost' };

/** What the server saw of each WebSocket: its stream (RFC 8441) or none (HTTP/1.1), and how it ended. */
interface Seen {
  readonly method: string;
  readonly stream: ServerHttp2Stream | undefined;
  readonly conn: Connection;
  readonly closed: Promise<CloseInfo>;
}

/** An echo server with `serve({ http2: true })`, recording each handshake's method and stream, and sessions. */
async function h2Echo(extra: Parameters<typeof serve>[0] = {}) {
  const seen: Seen[] = [];
  const pending: Array<{ method: string; stream: ServerHttp2Stream | undefined }> = [];
  const server = await serve({
    host: '127.0.0.1', port: 0, tls: cert, http2: true, ...extra,
    onRequest: (info) => {
      pending.push({ method: info.method, stream: info.method === 'CONNECT' ? info.raw as ServerHttp2Stream : undefined });
      return true;
    },
  }, (conn) => {
    const p = pending.shift()!;
    seen.push({ ...p, conn, closed: conn.closed });
    return conn.readable.pipeTo(conn.writable).catch(() => undefined);
  });
  const sessions: ServerHttp2Session[] = [];
  server.server.on('session', (s: ServerHttp2Session) => sessions.push(s));
  return { server, seen, sessions, url: `wss://localhost:${server.port}` };
}

const sessionClosed = (s: ServerHttp2Session): Promise<void> => (s.closed || s.destroyed ? Promise.resolve() : once(s, 'close').then(() => undefined));
const streamClosed = (s: ServerHttp2Stream): Promise<number | undefined> => (s.closed && s.destroyed ? Promise.resolve(s.rstCode) : once(s, 'close').then(() => s.rstCode));

/** Whether two byte arrays are equal (jest's toEqual walks typed arrays element by element: slow at 100 KiB). */
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);

/** `n` bytes that differ per WebSocket `id` and position, so a byte from another stream shows. */
function pattern(id: number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (id * 31 + i * 7) & 255;
  return b;
}

describe('WebSockets over HTTP/2 (RFC 8441)', () => {
  it('connect({ http2 }) opens an extended CONNECT on serve({ http2 }) and echoes text and binary', async () => {
    const { server, seen } = await h2Echo();
    try {
      const conn = await connect(`wss://localhost:${server.port}/chat?x=1`, { tls, http2: { sessionIdleTimeout: 0 } });
      await conn.send('hello over h2');
      await conn.send(pattern(1, 70_000));
      expect(await (await conn.nextMessage())!.text()).toBe('hello over h2');
      expect(same(await (await conn.nextMessage())!.bytes(), pattern(1, 70_000))).toBe(true);
      expect(seen[0].method).toBe('CONNECT');
      expect(seen[0].stream).toBeDefined();
      expect(seen[0].conn.handshake).toMatchObject({ path: '/chat?x=1', url: `wss://localhost:${server.port}/chat?x=1` });
      expect(seen[0].conn.handshake.requestHeaders.upgrade).toBeUndefined();
      expect(await conn.close(1000, 'bye')).toMatchObject({ wasClean: true, code: 1000, reason: 'bye' });
      expect(await seen[0].closed).toEqual({ wasClean: true, code: 1000, reason: 'bye', endedBy: 'close-handshake' });
    } finally {
      await server.close();
    }
  });

  it('100 WebSockets run as streams of one HTTP/2 session, each stream getting back exactly its own bytes', async () => {
    const { server, seen, sessions, url } = await h2Echo();
    try {
      const conns = await Promise.all(Array.from({ length: 100 }, () => connect(`${url}/many`, { tls, http2: { sessionIdleTimeout: 0 } })));
      expect(sessions).toHaveLength(1);
      expect(seen).toHaveLength(100);
      expect(seen.every((s) => s.method === 'CONNECT')).toBe(true);
      // 100 × (1 KiB + 100 KiB) in flight at once: more than the session's 64 KiB window, so
      // HTTP/2 flow control has to pace the streams.
      await Promise.all(conns.map(async (conn, id) => {
        await conn.send(pattern(id, 1024));
        await conn.send(pattern(id + 1000, 100 * 1024));
        await conn.send(`text ${id}`);
        expect(same(await (await conn.nextMessage())!.bytes(), pattern(id, 1024))).toBe(true);
        expect(same(await (await conn.nextMessage())!.bytes(), pattern(id + 1000, 100 * 1024))).toBe(true);
        expect(await (await conn.nextMessage())!.text()).toBe(`text ${id}`);
      }));
      const infos = await Promise.all(conns.map((c) => c.close(1000)));
      expect(infos.every((i) => i.wasClean && i.code === 1000)).toBe(true);
      // The last WebSocket gone, the idle session is closed (sessionIdleTimeout: 0).
      await sessionClosed(sessions[0]);
    } finally {
      await server.close();
    }
  });

  it('a WebSocket close ends its stream with END_STREAM both ways (no RST_STREAM), and the session serves the next WebSocket', async () => {
    const { server, seen, sessions, url } = await h2Echo();
    try {
      const keep = await connect(`${url}/keep`, { tls, http2: { sessionIdleTimeout: 0 } });
      const conn = await connect(`${url}/one`, { tls, http2: { sessionIdleTimeout: 0 } });
      const stream = seen[1].stream!;
      let aborted = false;
      stream.on('aborted', () => {
        aborted = true;
      });
      expect(await conn.close(1000, 'done')).toMatchObject({ wasClean: true, code: 1000 });
      expect(await streamClosed(stream)).toBe(constants.NGHTTP2_NO_ERROR);
      expect(aborted).toBe(false);
      expect(stream.readableEnded).toBe(true); // the client's END_STREAM was read
      expect(stream.writableEnded).toBe(true); // and ours went out
      // The other WebSocket of the session does not notice.
      await keep.send('still here');
      expect(await (await keep.nextMessage())!.text()).toBe('still here');
      const again = await connect(`${url}/two`, { tls, http2: { sessionIdleTimeout: 0 } });
      expect(sessions).toHaveLength(1);
      await again.close();
      await keep.close();
    } finally {
      await server.close();
    }
  });

  it('an aborted WebSocket resets its stream with RST_STREAM CANCEL, and the other streams of the session go on', async () => {
    // Our route on /ws, and on /raw a bare node handler that accepts the CONNECT and never
    // writes, ends or resets anything itself: whatever ends its stream came from the client.
    const h2 = createSecureServer({ key: cert.key, cert: cert.cert });
    const served: Connection[] = [];
    const attachment = attach(h2, { path: '/ws' }, (conn) => {
      served.push(conn);
      return conn.readable.pipeTo(conn.writable).catch(() => undefined);
    });
    const raw: Array<{ stream: ServerHttp2Stream; aborted: boolean }> = [];
    h2.on('stream', (stream, headers) => {
      if (headers[':path'] !== '/raw') return;
      const seen = { stream, aborted: false };
      raw.push(seen);
      stream.respond({ ':status': 200 });
      stream.on('aborted', () => {
        seen.aborted = true;
      });
      stream.on('data', () => undefined); // reads the client's pings, answers none
      stream.on('error', () => undefined);
    });
    const port = await listen(h2);
    const clock = new FakeClock();
    try {
      const url = `wss://localhost:${port}`;
      const others = await Promise.all([1, 2, 3].map(() => connect(`${url}/ws`, { tls, http2: { sessionIdleTimeout: 0 } })));
      const doomed = await connect(`${url}/raw`, { tls, clock, autoPingInterval: 1000, autoPingTimeout: 1000, http2: { sessionIdleTimeout: 0 } });
      const rst = once(raw[0].stream, 'close');
      // No pong comes back: the heartbeat gives up and drops the WebSocket, which over HTTP/2
      // is RST_STREAM(CANCEL) (RFC 8441 §5).
      for (let i = 0; i < 10 && doomed.readyState !== 3; i++) await clock.tick(1000);
      expect(await doomed.closed).toMatchObject({ wasClean: false, code: 1006, endedBy: 'heartbeat-timeout' });
      await rst;
      expect(raw[0].stream.rstCode).toBe(constants.NGHTTP2_CANCEL);
      expect(raw[0].aborted).toBe(true);
      // The same session, the other WebSockets: undisturbed.
      expect(tracked.get(h2)).toHaveLength(1);
      await Promise.all(others.map(async (c, i) => {
        await c.send(pattern(i, 5000));
        expect(same(await (await c.nextMessage())!.bytes(), pattern(i, 5000))).toBe(true);
      }));
      expect(served.every((c) => c.readyState === 1)).toBe(true);
      await Promise.all(others.map((c) => c.close()));
    } finally {
      await attachment.close();
      await closeServer(h2);
    }
  });

  it('a server that aborts a WebSocket resets its stream with RST_STREAM CANCEL, seen by the client', async () => {
    const clock = new FakeClock();
    const { server, seen, url } = await h2Echo({ clock, autoPingInterval: 1000, autoPingTimeout: 1000 });
    const session = h2connect(url.replace('wss:', 'https:'), { ca: cert.cert });
    try {
      await once(session, 'remoteSettings');
      // A bare client that reads and never answers a ping, nor resets anything itself.
      const req = session.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':path': '/', 'sec-websocket-version': '13' }, { endStream: false });
      let aborted = false;
      req.on('aborted', () => {
        aborted = true;
      });
      req.on('data', () => undefined);
      req.on('error', () => undefined);
      await once(req, 'response');
      const closed = once(req, 'close');
      for (let i = 0; i < 10 && seen[0].conn.readyState !== 3; i++) await clock.tick(1000);
      expect(await seen[0].closed).toMatchObject({ wasClean: false, code: 1006, endedBy: 'heartbeat-timeout' });
      await closed;
      expect(req.rstCode).toBe(constants.NGHTTP2_CANCEL);
      expect(aborted).toBe(true);
      expect(session.closed || session.destroyed).toBe(false); // only the stream
    } finally {
      session.close();
      await server.close();
    }
  });

  it('flow control is the backpressure: a WebSocket whose server does not read holds its sender, and the other streams flow', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const received: number[] = [];
    const server = await serve({ host: '127.0.0.1', port: 0, tls: cert, http2: true, receiveHighWaterMark: 64 * 1024 }, async (conn) => {
      if (conn.handshake.path === '/stalled') {
        await gate; // reads nothing until released: only flow control holds the sender back
        for await (const msg of conn) {
          received.push((await msg.bytes()).length);
          await conn.send('got it');
        }
        return;
      }
      await conn.readable.pipeTo(conn.writable);
    });
    try {
      const url = `wss://localhost:${server.port}`;
      const stalled = await connect(`${url}/stalled`, { tls, http2: { sessionIdleTimeout: 0 } });
      const flowing = await connect(`${url}/flowing`, { tls, http2: { sessionIdleTimeout: 0 } });
      let sent = false;
      const sending = stalled.send(pattern(9, 8 * 1024 * 1024)).then(() => {
        sent = true;
      });
      // 8 MiB to a server that reads at most 64 KiB ahead plus one 64 KiB window: the send
      // cannot finish, whatever time it is given; meanwhile 4 MiB go both ways on the other stream.
      for (let i = 0; i < 16; i++) {
        await flowing.send(pattern(i, 256 * 1024));
        expect(same(await (await flowing.nextMessage())!.bytes(), pattern(i, 256 * 1024))).toBe(true);
      }
      expect(sent).toBe(false);
      expect(stalled.bufferedAmount).toBeGreaterThan(4 * 1024 * 1024);
      release();
      await sending;
      expect(await (await stalled.nextMessage())!.text()).toBe('got it');
      expect(received).toEqual([8 * 1024 * 1024]);
      await Promise.all([stalled.close(), flowing.close()]);
    } finally {
      await server.close();
    }
  });

  it('subprotocols and permessage-deflate are negotiated over HTTP/2 as over HTTP/1.1', async () => {
    const compressed: boolean[] = [];
    const server = await serve({ host: '127.0.0.1', port: 0, tls: cert, http2: true, protocols: ['v2', 'v1'], perMessageDeflate: true }, async (conn) => {
      for await (const msg of conn) {
        compressed.push(msg.compressed);
        await conn.send(msg);
      }
    });
    try {
      const conn = await connect(`wss://localhost:${server.port}/`, { tls, protocols: ['v1', 'v2'], perMessageDeflate: true, http2: { sessionIdleTimeout: 0 } });
      expect(conn.protocol).toBe('v2');
      expect(conn.extensions).toMatch(/^permessage-deflate/);
      const text = 'compress me '.repeat(2000);
      await conn.send(text);
      const back = await conn.nextMessage();
      expect(back!.compressed).toBe(true);
      expect(await back!.text()).toBe(text);
      expect(compressed).toEqual([true]);
      await conn.close();
    } finally {
      await server.close();
    }
  });

  it('the server refuses a wrong version with 400 and Sec-WebSocket-Version: 13, a bad :protocol with 400, and onRequest refusals with their status', async () => {
    const server = await serve({
      host: '127.0.0.1', port: 0, tls: cert, http2: true,
      onRequest: (info) => (info.path === '/private' ? { status: 403, headers: { 'x-why': 'private' }, body: 'go away' } : true),
    }, () => undefined);
    const session = h2connect(`https://localhost:${server.port}`, { ca: cert.cert });
    try {
      await once(session, 'remoteSettings');
      expect(session.remoteSettings.enableConnectProtocol).toBe(true);
      const ask = async (headers: Record<string, string>) => {
        const req = session.request({ ':method': 'CONNECT', ':protocol': 'websocket', ':path': '/', ...headers }, { endStream: false });
        const [res] = await once(req, 'response') as [IncomingHttpHeaders];
        let body = '';
        req.setEncoding('utf8');
        for await (const chunk of req) body += chunk;
        return { status: res[':status'], version: res['sec-websocket-version'], why: res['x-why'], body };
      };
      expect(await ask({ 'sec-websocket-version': '8' })).toEqual({ status: 400, version: '13', why: undefined, body: 'Unsupported Sec-WebSocket-Version "8": only 13 is spoken' });
      expect(await ask({})).toMatchObject({ status: 400, version: '13', body: 'The Sec-WebSocket-Version header is missing' });
      expect(await ask({ 'sec-websocket-version': '13', 'sec-websocket-protocol': 'a, a' })).toMatchObject({ status: 400, body: 'Sec-WebSocket-Protocol offers "a" more than once' });
      expect(await ask({ 'sec-websocket-version': '13', ':path': '/private' })).toEqual({ status: 403, version: undefined, why: 'private', body: 'go away' });
      // Our client gets the refusal as a HandshakeError with the status, headers and body.
      await expect(connect(`wss://localhost:${server.port}/private`, { tls, http2: { sessionIdleTimeout: 0 } })).rejects.toMatchObject({
        name: 'HandshakeError', kind: 'UNEXPECTED_STATUS', status: 403, headers: { 'x-why': 'private' }, body: new Uint8Array(Buffer.from('go away')),
      });
    } finally {
      session.close();
      await server.close();
    }
  });

  it('the client fails with a HandshakeError carrying the 400 of a server that refuses its version', async () => {
    // A server of another implementation that speaks a version other than 13.
    const h2 = createSecureServer({ key: cert.key, cert: cert.cert, settings: { enableConnectProtocol: true } });
    h2.on('stream', (stream) => {
      stream.respond({ ':status': 400, 'sec-websocket-version': '14', 'content-type': 'text/plain' });
      stream.end('only version 14');
    });
    const port = await listen(h2);
    try {
      const err = await connect(`wss://localhost:${port}/`, { tls, http2: { sessionIdleTimeout: 0 } }).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'HandshakeError', kind: 'UNEXPECTED_STATUS', status: 400, headers: { 'sec-websocket-version': '14' } });
      expect(Buffer.from((err as { body: Uint8Array }).body).toString()).toBe('only version 14');
      expect((err as Error).message).toBe('The server refused the WebSocket handshake over HTTP/2 with status 400');
    } finally {
      await closeServer(h2);
    }
  });

  it('a CONNECT left unanswered fails with TIMEOUT on the connection clock, or ABORTED by the signal, and its stream is reset', async () => {
    const h2 = createSecureServer({ key: cert.key, cert: cert.cert, settings: { enableConnectProtocol: true } });
    const streams: ServerHttp2Stream[] = [];
    h2.on('stream', (stream) => {
      streams.push(stream); // never answered
      stream.on('error', () => undefined);
    });
    const port = await listen(h2);
    const clock = new FakeClock();
    try {
      const url = `wss://localhost:${port}/`;
      const timing = connect(url, { tls, clock, handshakeTimeout: 1000, http2: { sessionIdleTimeout: 0 } });
      const timedOut = expect(timing).rejects.toMatchObject({ name: 'HandshakeError', kind: 'TIMEOUT' });
      for (let i = 0; i < 100 && streams.length === 0; i++) await settle();
      expect(streams).toHaveLength(1);
      await clock.tick(1000);
      await timedOut;
      await once(streams[0], 'close');
      expect(streams[0].rstCode).toBe(constants.NGHTTP2_CANCEL);

      const controller = new AbortController();
      const aborting = connect(url, { tls, signal: controller.signal, http2: { sessionIdleTimeout: 0 } });
      const aborted = expect(aborting).rejects.toMatchObject({ kind: 'ABORTED' });
      for (let i = 0; i < 100 && streams.length === 1; i++) await settle();
      controller.abort();
      await aborted;
      await once(streams[1], 'close');
      expect(streams[1].rstCode).toBe(constants.NGHTTP2_CANCEL);
      await expect(connect(url, { tls, signal: AbortSignal.abort(), http2: true })).rejects.toMatchObject({ kind: 'ABORTED' });
    } finally {
      await closeServer(h2);
    }
  });

  it('a session that cannot be set up in time is dropped with the timed-out attempt, and the next attempt dials afresh', async () => {
    // Accepts TCP and never answers TLS.
    const sockets: Socket[] = [];
    const closes: Array<Promise<unknown>> = [];
    const silent = createNetServer((socket) => {
      sockets.push(socket);
      closes.push(once(socket, 'close'));
      socket.resume(); // reads (and drops) the ClientHello, so the client's FIN is seen
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    const clock = new FakeClock();
    try {
      for (const attempt of [1, 2]) {
        const connecting = connect(`wss://localhost:${port}/`, { tls, clock, handshakeTimeout: 1000, http2: true });
        const timedOut = expect(connecting).rejects.toMatchObject({ kind: 'TIMEOUT' });
        for (let i = 0; i < 100 && sockets.length < attempt; i++) await settle();
        expect(sockets).toHaveLength(attempt); // a new TCP connection per attempt: nothing waits on the old one
        await clock.tick(1000);
        await timedOut;
        await closes[attempt - 1]; // the client dropped it
      }
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('HTTP/1.1 upgrades keep working on the port of serve({ http2 })', async () => {
    const { server, seen } = await h2Echo();
    try {
      const conn = await connect(`wss://localhost:${server.port}/h1`, { tls });
      await conn.send('old school');
      expect(await (await conn.nextMessage())!.text()).toBe('old school');
      expect(seen[0].method).toBe('GET');
      expect(seen[0].conn.handshake.requestHeaders.upgrade).toBe('websocket');
      await conn.close();
    } finally {
      await server.close();
    }
  });

  it('without fallbackToHttp1 a server without h2 fails with HTTP2_UNSUPPORTED; with it the WebSocket opens over HTTP/1.1', async () => {
    const server = await serve({ host: '127.0.0.1', port: 0, tls: cert }, (conn) => conn.readable.pipeTo(conn.writable));
    try {
      await expect(connect(`wss://localhost:${server.port}/`, { tls, http2: true })).rejects.toMatchObject({
        name: 'HandshakeError', kind: 'HTTP2_UNSUPPORTED', message: expect.stringContaining('TLS ALPN did not choose h2'),
      });
      const conn = await connect(`wss://localhost:${server.port}/`, { tls, http2: { fallbackToHttp1: true } });
      expect(conn.handshake.responseHeaders['sec-websocket-accept']).toBeDefined(); // a 101: HTTP/1.1
      await conn.send('via h1');
      expect(await (await conn.nextMessage())!.text()).toBe('via h1');
      await conn.close();
    } finally {
      await server.close();
    }
  });

  it('an HTTP/2 server that does not advertise SETTINGS_ENABLE_CONNECT_PROTOCOL gets HTTP2_UNSUPPORTED, or HTTP/1.1 when allowed', async () => {
    const h2 = createSecureServer({ key: cert.key, cert: cert.cert, allowHTTP1: true });
    const connects: string[] = [];
    h2.on('stream', (_s, headers) => connects.push(String(headers[':method'])));
    h2.on('upgrade', (req, socket, head) => handleUpgrade(req, socket, head, {}, (conn) => conn.readable.pipeTo(conn.writable)));
    const port = await listen(h2);
    try {
      await expect(connect(`wss://localhost:${port}/`, { tls, http2: true })).rejects.toMatchObject({
        kind: 'HTTP2_UNSUPPORTED', message: expect.stringContaining('do not enable the extended CONNECT protocol'),
      });
      const conn = await connect(`wss://localhost:${port}/`, { tls, http2: { fallbackToHttp1: true } });
      await conn.send('fell back');
      expect(await (await conn.nextMessage())!.text()).toBe('fell back');
      await conn.close();
      expect(connects).toEqual([]); // no CONNECT was sent to a server that did not allow it
    } finally {
      await closeServer(h2);
    }
  });

  it('cleartext h2c with prior knowledge: attach to http2.createServer and connect to ws: with http2', async () => {
    const h2c = createH2cServer();
    const attachment = attach(h2c, { path: '/plain' }, (conn) => conn.readable.pipeTo(conn.writable));
    const port = await listen(h2c);
    try {
      const conn = await connect(`ws://127.0.0.1:${port}/plain`, { http2: { sessionIdleTimeout: 0 } });
      await conn.send('no tls');
      expect(await (await conn.nextMessage())!.text()).toBe('no tls');
      expect(attachment.connections.size).toBe(1);
      await conn.close();
      await expect(connect(`ws://127.0.0.1:${port}/elsewhere`, { http2: { sessionIdleTimeout: 0 } })).rejects.toMatchObject({ kind: 'UNEXPECTED_STATUS', status: 404 });
    } finally {
      await attachment.close();
      await closeServer(h2c);
    }
  });

  it('an idle session stays for sessionIdleTimeout on the connection clock, is reused meanwhile, then closes', async () => {
    const clock = new FakeClock();
    const { server, sessions, url } = await h2Echo();
    try {
      const options = { tls, clock, http2: { sessionIdleTimeout: 5000 } };
      const first = await connect(`${url}/a`, options);
      await first.close();
      await clock.tick(4999);
      expect(sessions[0].closed || sessions[0].destroyed).toBe(false);
      const second = await connect(`${url}/b`, options);
      expect(sessions).toHaveLength(1); // reused
      await second.close();
      await clock.tick(4999);
      expect(sessions[0].closed || sessions[0].destroyed).toBe(false);
      await clock.tick(1);
      await sessionClosed(sessions[0]);
      await settle();
      const third = await connect(`${url}/c`, { ...options, http2: { sessionIdleTimeout: 0 } });
      expect(sessions).toHaveLength(2); // a new one after the idle one closed
      await third.close();
      await sessionClosed(sessions[1]);
    } finally {
      await server.close();
    }
  });

  it('http2 with a proxy or a Unix socket, and a negative sessionIdleTimeout, are refused at once', async () => {
    expect(() => connect('wss://localhost/', { http2: true, proxy: 'http://127.0.0.1:1' })).toThrow(TypeError);
    expect(() => connect('wss://localhost/', { http2: true, socketPath: '/tmp/x.sock' })).toThrow(TypeError);
    expect(() => connect('wss://localhost/', { http2: { sessionIdleTimeout: -1 } })).toThrow(RangeError);
    await expect(serve({ port: 0, http2: true }, () => undefined)).rejects.toThrow(TypeError);
  });
});

const tracked = new WeakMap<Http2SecureServer | Http2Server, ServerHttp2Session[]>();

async function listen(server: Http2SecureServer | Http2Server): Promise<number> {
  const sessions: ServerHttp2Session[] = [];
  tracked.set(server, sessions);
  server.on('session', (s: ServerHttp2Session) => sessions.push(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** Closes an http2 server and every session it still has. */
async function closeServer(server: Http2SecureServer | Http2Server): Promise<void> {
  const closed = new Promise((r) => server.close(r));
  for (const s of tracked.get(server) ?? []) s.destroy();
  await closed;
}
