import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { connect } from '../../lib/node/client';

// Redirects of the opening handshake, followed only when asked, through a plain node:http
// server whose upgrade handler answers 3xx and hands the target path to a ws server. A second
// server on another port is another origin (RFC 6454 §4: scheme, host and port).

interface Origin {
  readonly port: number;
  readonly base: string;
  /** Path and headers of every upgrade request, in order. */
  readonly requests: Array<{ path: string; headers: IncomingHttpHeaders }>;
  close(): Promise<void>;
}

/** An origin where `/ws` is ws's WebSocket server and `redirects` maps other paths to `[status, Location]`. */
async function origin(redirects: (path: string) => [number, string | undefined] | undefined): Promise<Origin> {
  const requests: Origin['requests'] = [];
  const wss = new WebSocketServer({ noServer: true });
  wss.on('connection', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  const server: Server = createServer((_req, res) => res.writeHead(400).end());
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req, socket, head) => {
    const path = req.url ?? '';
    requests.push({ path, headers: req.headers });
    const redirect = redirects(path);
    if (redirect === undefined) {
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
      return;
    }
    const [status, location] = redirect;
    const body = `see ${location}`;
    socket.end(
      [`HTTP/1.1 ${status} Redirect`, ...(location === undefined ? [] : [`Location: ${location}`]), `Content-Length: ${body.length}`, 'Connection: close', '', body].join('\r\n'),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    base: `ws://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const ws of wss.clients) ws.terminate();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

async function echoOnce(url: string, options: Parameters<typeof connect>[1]): Promise<string> {
  const conn = await connect(url, options);
  await conn.send('ping');
  const text = await (await conn.nextMessage())!.text();
  await conn.close(1000);
  return text;
}

describe('connect following redirects', () => {
  let home: Origin;
  let other: Origin;
  beforeAll(async () => {
    other = await origin(() => undefined);
    home = await origin((path) => {
      const status = /^\/s(\d{3})$/.exec(path);
      if (status) return [Number(status[1]), '/ws'];
      if (path === '/to-other-http') return [302, `http://127.0.0.1:${other.port}/ws?from=home`];
      if (path === '/to-other') return [307, `${other.base}/ws`];
      if (path === '/loop-a') return [302, '/loop-b'];
      if (path === '/loop-b') return [302, '/loop-a#x'];
      const chain = /^\/chain\/(\d+)$/.exec(path);
      if (chain) return [302, `/chain/${Number(chain[1]) + 1}`];
      if (path === '/ftp') return [301, 'ftp://127.0.0.1/file'];
      if (path === '/nowhere') return [302, undefined];
      return undefined;
    });
  });
  afterAll(async () => {
    await home.close();
    await other.close();
  });
  beforeEach(() => {
    home.requests.length = 0;
    other.requests.length = 0;
  });

  it('without followRedirects rejects a 302 with kind REDIRECT, its status and its Location', async () => {
    const err = await connect(`${home.base}/s302`).then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ name: 'HandshakeError', kind: 'REDIRECT', status: 302, headers: expect.objectContaining({ location: '/ws' }) });
    expect(Buffer.from((err as { body: Uint8Array }).body).toString()).toBe('see /ws');
    expect(home.requests.map((r) => r.path)).toEqual(['/s302']);
  });

  it.each([301, 302, 303, 307, 308])('follows a %d to a relative Location on the same origin, credentials kept', async (status) => {
    const text = await echoOnce(`ws://u:p@127.0.0.1:${home.port}/s${status}`, { followRedirects: true, headers: { Cookie: 'session=1' } });
    expect(text).toBe('ping');
    expect(home.requests.map((r) => r.path)).toEqual([`/s${status}`, '/ws']);
    const last = home.requests[1].headers;
    expect(last.authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
    expect(last.cookie).toBe('session=1');
  });

  it('maps an http: Location to ws: and sends no Authorization, Cookie or URL credentials to another origin', async () => {
    const text = await echoOnce(`ws://u:p@127.0.0.1:${home.port}/to-other-http`, {
      followRedirects: true,
      headers: { Cookie: 'session=1', 'X-Trace': '7' },
    });
    expect(text).toBe('ping');
    expect(home.requests[0].headers.authorization).toBe(`Basic ${Buffer.from('u:p').toString('base64')}`);
    expect(other.requests.map((r) => r.path)).toEqual(['/ws?from=home']);
    const there = other.requests[0].headers;
    expect(there.authorization).toBeUndefined();
    expect(there.cookie).toBeUndefined();
    expect(there['x-trace']).toBe('7');
    expect(there.host).toBe(`127.0.0.1:${other.port}`);
  });

  it('drops an Authorization header given in the options when the redirect leaves the origin', async () => {
    await echoOnce(`${home.base}/to-other`, { followRedirects: true, headers: { authorization: 'Bearer secret' } });
    expect(home.requests[0].headers.authorization).toBe('Bearer secret');
    expect(other.requests).toHaveLength(1);
    expect(other.requests[0].headers.authorization).toBeUndefined();
  });

  it('refuses a loop with REDIRECT_LOOP (the fragment of a Location ignored)', async () => {
    await expect(connect(`${home.base}/loop-a`, { followRedirects: true })).rejects.toMatchObject({ name: 'HandshakeError', kind: 'REDIRECT_LOOP', status: 302 });
    expect(home.requests.map((r) => r.path)).toEqual(['/loop-a', '/loop-b']);
  });

  it('gives up after maxRedirects with TOO_MANY_REDIRECTS', async () => {
    await expect(connect(`${home.base}/chain/0`, { followRedirects: true, maxRedirects: 3 })).rejects.toMatchObject({
      name: 'HandshakeError',
      kind: 'TOO_MANY_REDIRECTS',
    });
    expect(home.requests.map((r) => r.path)).toEqual(['/chain/0', '/chain/1', '/chain/2', '/chain/3']);
  });

  it('refuses a Location that is missing or not ws:/wss:/http:/https: with INVALID_REDIRECT', async () => {
    await expect(connect(`${home.base}/ftp`, { followRedirects: true })).rejects.toMatchObject({ kind: 'INVALID_REDIRECT', status: 301 });
    await expect(connect(`${home.base}/nowhere`, { followRedirects: true })).rejects.toMatchObject({ kind: 'INVALID_REDIRECT', status: 302 });
  });

  it('checks maxRedirects at once', () => {
    expect(() => connect(`${home.base}/ws`, { maxRedirects: -1 })).toThrow(RangeError);
  });
});
