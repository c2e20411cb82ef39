import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { connect } from '../../lib/node/client';
import { serve } from '../../lib/node/server';
import { parseUnixUrl } from '../../lib/node/unix-socket';

// WebSockets over Unix domain sockets: our client and server, ws's server, Python's
// websockets `unix_serve`, all on socket files in a fresh temporary directory.

describe('Unix domain sockets', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ws-unix-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('parses ws+unix: URLs as ws does: socket path, then a colon and the request path', () => {
    expect(parseUnixUrl('ws+unix:///tmp/app.sock:/chat?room=1')).toEqual({ socketPath: '/tmp/app.sock', url: new URL('ws://localhost/chat?room=1') });
    expect(parseUnixUrl('ws+unix:/tmp/app.sock')).toEqual({ socketPath: '/tmp/app.sock', url: new URL('ws://localhost/') });
    expect(parseUnixUrl('wss+unix:///run/s.sock:/x')?.url.href).toBe('wss://localhost/x');
    expect(parseUnixUrl('ws://localhost/')).toBeUndefined();
    expect(() => parseUnixUrl('ws+unix://:/chat')).toThrow(SyntaxError);
  });

  it('our client and our server talk over a socket file; the server removes it when it stops', async () => {
    const socketPath = join(dir, 'ours.sock');
    const seen: string[] = [];
    const server = await serve({ socketPath }, (conn) => {
      seen.push(conn.handshake.path);
      return conn.readable.pipeTo(conn.writable);
    });
    try {
      expect(server.url).toBe(`ws+unix://${socketPath}`);
      expect(server.address).toEqual({ host: socketPath, port: 0 });
      const conn = await connect(`ws+unix://${socketPath}:/chat?x=1`);
      await conn.send('over a unix socket');
      expect(await (await conn.nextMessage())!.text()).toBe('over a unix socket');
      expect(await conn.close(1000)).toMatchObject({ wasClean: true, code: 1000 });
      expect(seen).toEqual(['/chat?x=1']);
      expect(conn.handshake.requestHeaders.host).toBe('localhost');
    } finally {
      await server.close();
    }
    expect(existsSync(socketPath)).toBe(false);
  });

  it('the socketPath option reaches a ws server listening on a socket file, with the URL giving Host and path', async () => {
    const socketPath = join(dir, 'ws.sock');
    const http = createHttpServer();
    const wss = new WebSocketServer({ server: http });
    const requests: Array<[string | undefined, string | undefined]> = [];
    wss.on('connection', (ws, req) => {
      requests.push([req.url, req.headers.host]);
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
    await new Promise<void>((resolve) => http.listen(socketPath, resolve));
    try {
      const conn = await connect('ws://example.test/feed', { socketPath });
      await conn.send(new Uint8Array([1, 2, 3]));
      expect([...(await (await conn.nextMessage())!.bytes())]).toEqual([1, 2, 3]);
      expect(await conn.close(1000)).toMatchObject({ wasClean: true, code: 1000 });
      expect(requests).toEqual([['/feed', 'example.test']]);
    } finally {
      await new Promise((resolve) => wss.close(resolve));
      await new Promise((resolve) => http.close(resolve));
    }
  });

  it('Python websockets unix_serve answers our client', async () => {
    const socketPath = join(dir, 'py.sock');
    const script = [
      'import asyncio, sys, websockets',
      'async def echo(ws, path):',
      '    async for m in ws: await ws.send(m)',
      'async def main():',
      '    async with websockets.unix_serve(echo, sys.argv[1]):',
      '        print("ready", flush=True)',
      '        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)',
      'asyncio.run(main())',
    ].join('\n');
    const py = spawn('/usr/bin/python3', ['-c', script, socketPath], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      const [line] = await Promise.race([
        once(py.stdout, 'data'),
        once(py, 'exit').then(([code]) => Promise.reject(new Error(`python3 exited with ${code} before serving (is python3-websockets installed?)`))),
      ]);
      expect(String(line).trim()).toBe('ready');
      const conn = await connect(`ws+unix://${socketPath}:/`);
      await conn.send('from node');
      expect(await (await conn.nextMessage())!.text()).toBe('from node');
      expect(await conn.close(1000)).toMatchObject({ wasClean: true, code: 1000 });
    } finally {
      py.stdin.end();
      if (py.exitCode === null) await once(py, 'exit');
    }
  });

  it('serve replaces a stale socket file nobody listens on', async () => {
    const socketPath = join(dir, 'stale.sock');
    // A socket bound by a process that exits without unlinking it, as after a crash.
    execFileSync('/usr/bin/python3', ['-c', 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', socketPath]);
    expect(existsSync(socketPath)).toBe(true);
    const server = await serve({ socketPath }, (conn) => conn.readable.pipeTo(conn.writable));
    try {
      const conn = await connect(server.url);
      expect(await conn.close(1000)).toMatchObject({ wasClean: true, code: 1000 });
    } finally {
      await server.close();
    }
  });

  it('serve leaves a live socket and a regular file alone: EADDRINUSE', async () => {
    const live = join(dir, 'live.sock');
    const holder = createNetServer();
    await new Promise<void>((resolve) => holder.listen(live, resolve));
    try {
      await expect(serve({ socketPath: live }, () => undefined)).rejects.toMatchObject({ code: 'EADDRINUSE' });
      expect(existsSync(live)).toBe(true);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
    const file = join(dir, 'not-a-socket');
    writeFileSync(file, 'keep me');
    await expect(serve({ socketPath: file }, () => undefined)).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(existsSync(file)).toBe(true);
  });
});
