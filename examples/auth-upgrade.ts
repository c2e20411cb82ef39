// WebSocket upgrades on an existing node:http server, authenticated during the handshake.
//
// The server has ordinary HTTP routes (`POST /login` issues a session token, `GET /health`)
// and takes WebSocket upgrades on `/ws` only from a known session: a bearer token in
// `Authorization` (what programs send) or a `session` cookie (what a browser sends, since
// its WebSocket API cannot set headers). A bad or missing token is refused with 401 before
// the 101, so no WebSocket connection ever exists for it; the client sees a `HandshakeError`
// whose `status` is 401.
//
//   node examples/out/auth-upgrade.js              server and client in one process
//   node examples/out/auth-upgrade.js server [port]
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  connect, handleUpgrade, HandshakeError, type Connection, type UpgradeDecision, type UpgradeRequestInfo,
} from 'websocket-streams/node';

/** Session token → user name. A real server keeps these in its session store. */
const sessions = new Map<string, string>();

function login(req: IncomingMessage, res: ServerResponse): void {
  const user = new URL(req.url ?? '/', 'http://localhost').searchParams.get('user') ?? 'anonymous';
  const token = randomBytes(24).toString('base64url');
  sessions.set(token, user);
  res.writeHead(200, {
    'Content-Type': 'application/json',
    // SameSite=Strict: a page of another site cannot make the browser send it (checked again below).
    'Set-Cookie': `session=${token}; HttpOnly; SameSite=Strict; Path=/`,
  });
  res.end(JSON.stringify({ token }));
}

function routes(req: IncomingMessage, res: ServerResponse): void {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  if (req.method === 'POST' && path === '/login') return login(req, res);
  if (req.method === 'GET' && path === '/health') return void res.end('ok');
  res.writeHead(404).end();
}

function cookie(header: string | undefined, name: string): string | undefined {
  for (const pair of header?.split(';') ?? []) {
    const [key, value] = pair.trim().split('=', 2);
    if (key === name) return value;
  }
  return undefined;
}

const UNAUTHORIZED: UpgradeDecision = {
  status: 401,
  headers: { 'WWW-Authenticate': 'Bearer realm="example"' },
  body: 'A valid session token is required',
};

/** The user an upgrade request speaks for, or the refusal to answer it with. */
async function authenticate(request: UpgradeRequestInfo): Promise<string | UpgradeDecision> {
  const bearer = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
  if (bearer !== undefined) return sessions.get(bearer) ?? UNAUTHORIZED;
  const token = cookie(request.headers.cookie, 'session');
  if (token === undefined) return UNAUTHORIZED;
  // A browser sends the cookie with a WebSocket opened by any page, and the same-origin policy
  // does not apply to WebSockets: RFC 6455 §10.2 leaves checking `Origin` to the server.
  if (request.origin !== `http://${request.headers.host}`) return { status: 403, body: 'Cross-origin WebSocket refused' };
  return sessions.get(token) ?? UNAUTHORIZED;
}

async function greet(conn: Connection, user: string): Promise<void> {
  await conn.send(`hello ${user}`);
  for await (const msg of conn) await conn.send(`${user} said: ${await msg.text()}`);
}

function startServer(port: number): Promise<Server> {
  const server = createServer(routes);
  server.on('upgrade', (req: IncomingMessage, socket, head: Buffer) => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/ws') {
      handleUpgrade(req, socket, head, { onRequest: () => ({ status: 404 }) }, () => undefined);
      return;
    }
    // `attach()` would do the path routing, but what its `onRequest` learns (the user) cannot
    // reach its connection handler; one handshake per closure carries it from one to the other.
    let user = '';
    handleUpgrade(req, socket, head, {
      onRequest: async (request) => {
        const found = await authenticate(request);
        if (typeof found !== 'string') return found;
        user = found;
        return true;
      },
    }, (conn) => {
      // Unlike serve(), handleUpgrade() leaves the handler's promise to us: a connection lost
      // mid-send rejects it, and an unhandled rejection would end the process.
      greet(conn, user).catch((err: unknown) => console.error(`connection of ${user} failed:`, err));
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

/** What a refused handshake looked like to the client, or `undefined` when it was not refused. */
async function refusal(url: string, headers: Record<string, string>, origin?: string): Promise<{ kind: string; status?: number; wwwAuthenticate?: string } | undefined> {
  try {
    const conn = await connect(url, { headers, origin });
    await conn.close(1000);
    return undefined;
  } catch (err) {
    if (!(err instanceof HandshakeError)) throw err;
    return { kind: err.kind, status: err.status, wwwAuthenticate: err.headers?.['www-authenticate'] };
  }
}

/** Connects with `headers`, reads the greeting and one answer, and closes. */
async function chat(url: string, headers: Record<string, string>, origin?: string): Promise<string[]> {
  const conn = await connect(url, { headers, origin });
  const greeting = await (await conn.nextMessage())?.text();
  await conn.send('hi');
  const answer = await (await conn.nextMessage())?.text();
  await conn.close(1000);
  return [greeting ?? '(none)', answer ?? '(none)'];
}

async function selfTest(): Promise<boolean> {
  const server = await startServer(0);
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const ws = base.replace('http:', 'ws:') + '/ws';
  try {
    const health = (await fetch(`${base}/health`)).status;
    const alice = await fetch(`${base}/login?user=alice`, { method: 'POST' });
    const { token } = await alice.json() as { token: string };
    const bob = await fetch(`${base}/login?user=bob`, { method: 'POST' });
    const bobCookie = (bob.headers.get('set-cookie') ?? '').split(';')[0];

    const bearer = await chat(ws, { authorization: `Bearer ${token}` });
    const withCookie = await chat(ws, { cookie: bobCookie }, base);
    const badToken = await refusal(ws, { authorization: 'Bearer not-a-session' });
    const noToken = await refusal(ws, {});
    const foreignOrigin = await refusal(ws, { cookie: bobCookie }, 'https://evil.example');

    const ok = health === 200 && bearer[0] === 'hello alice' && bearer[1] === 'alice said: hi'
      && withCookie[0] === 'hello bob' && badToken?.status === 401 && noToken?.status === 401 && foreignOrigin?.status === 403;
    // The result line (see examples/README.md): read by spec/examples/examples.spec.ts.
    console.log(`RESULT ${JSON.stringify({ ok, health, bearer, cookie: withCookie, badToken, noToken, foreignOrigin })}`);
    return ok;
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

async function main(): Promise<boolean> {
  const [mode = 'self-test', port = '8080'] = process.argv.slice(2);
  if (mode !== 'server') return selfTest();
  await startServer(Number(port));
  console.log(`listening on http://127.0.0.1:${port}: POST /login?user=NAME, then a WebSocket to /ws with its token`);
  return true;
}

main().then((ok) => {
  if (!ok) process.exitCode = 1;
}, (err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
