import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import WebSocket from 'ws';

// The server under test runs in its own process so that its RSS is its own.
function startServer(mode: 'hash' | 'slow'): Promise<{ child: ChildProcessWithoutNullStreams; port: number; ask(cmd: string): Promise<string> }> {
  const child = spawn(process.execPath, [join(__dirname, '../fixtures/sha256-server.mjs'), mode], { stdio: ['pipe', 'pipe', 'pipe'] });
  let buf = '';
  const waiters: Array<(line: string) => void> = [];
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      waiters.shift()?.(line);
    }
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const next = () => new Promise<string>((resolve, reject) => {
    waiters.push(resolve);
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${err}`)));
  });
  return next().then((line) => ({
    child,
    port: Number(line.split(' ')[1]),
    ask: (cmd: string) => {
      const p = next();
      child.stdin.write(`${cmd}\n`);
      return p;
    },
  }));
}

async function stop(s: { child: ChildProcessWithoutNullStreams }): Promise<void> {
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.stdin.write('exit\n');
  await exited;
}

/** Sends `total` bytes as one message of `chunk`-sized continuation frames, never holding it whole. */
async function sendStreamed(ws: WebSocket, total: number, chunk: number): Promise<string> {
  const hash = createHash('sha256');
  const block = randomBytes(chunk);
  for (let sent = 0; sent < total; ) {
    const n = Math.min(chunk, total - sent);
    block[0] = (sent / chunk) & 0xff; // every chunk differs
    const piece = block.subarray(0, n);
    hash.update(piece);
    sent += n;
    await new Promise<void>((resolve, reject) => ws.send(piece, { binary: true, fin: sent === total }, (e) => (e ? reject(e) : resolve())));
    while (ws.bufferedAmount > 4 * chunk) await new Promise((r) => setTimeout(r, 1));
  }
  return hash.digest('hex');
}

const open = (port: number) =>
  new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });

describe('streaming proofs (real TCP, ws as the peer)', () => {
  it('serve hashes a 1 GiB message streamed by ws with server RSS growth under 100 MiB', async () => {
    const server = await startServer('hash');
    try {
      const ws = await open(server.port);
      const reply = new Promise<string>((r) => ws.once('message', (d) => r(d.toString())));
      const digest = await sendStreamed(ws, 1024 * 1024 * 1024, 1024 * 1024);
      expect(await reply).toBe(digest);
      const growth = Number((await server.ask('rss')).split(' ')[1]);
      expect(growth).toBeLessThan(100 * 1024 * 1024);
      ws.close(1000);
    } finally {
      await stop(server);
    }
  }, 180_000);

  it('serve holds a fast sender back when its consumer reads slowly, losing nothing', async () => {
    const server = await startServer('slow');
    try {
      const ws = await open(server.port);
      const reply = new Promise<string>((r) => ws.once('message', (d) => r(d.toString())));
      const total = 64 * 1024 * 1024;
      await sendStreamed(ws, total, 256 * 1024);
      expect(await reply).toBe(String(total));
      const growth = Number((await server.ask('rss')).split(' ')[1]);
      // The server may hold its receive high-water mark (1 MiB) plus socket buffers, not 64 MiB.
      expect(growth).toBeLessThan(48 * 1024 * 1024);
      ws.close(1000);
    } finally {
      await stop(server);
    }
  }, 180_000);
});
