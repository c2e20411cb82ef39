// The node:zlib engine's bound on concurrent zlib work, seen from outside: how many zlib streams
// have a write in flight at once, and that a connection waiting on a slow reader does not hold
// the others back.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { InflateRaw } from 'node:zlib';
import { connect } from '../../lib/node/client';
import { serve } from '../../lib/node/server';

jest.setTimeout(60_000);

/** Counts zlib writes in flight across every zlib stream of the process (node's ZlibBase). */
function watchZlib(): { max: () => number; restore: () => void } {
  const base = Object.getPrototypeOf(InflateRaw.prototype) as { _transform: (c: unknown, e: unknown, cb: (...a: unknown[]) => void) => void };
  const original = base._transform;
  let now = 0;
  let max = 0;
  base._transform = function (this: unknown, chunk, encoding, cb) {
    now++;
    max = Math.max(max, now);
    return original.call(this, chunk, encoding, (...args: unknown[]) => {
      now--;
      cb(...args);
    });
  };
  return { max: () => max, restore: () => void (base._transform = original) };
}

/** Eight ws clients with deflate, five 96 KiB compressible messages each, all at once. */
const CLIENTS = `
const WebSocket = require('ws');
const text = require('crypto').randomBytes(96 * 1024).toString('base64');
const one = () => new Promise((resolve, reject) => {
  const ws = new WebSocket(process.argv[1], { perMessageDeflate: true });
  let n = 0;
  ws.on('open', () => ws.send(text));
  ws.on('message', (d) => {
    if (String(d) !== text) return reject(new Error('bad echo'));
    if (++n === 5) { ws.close(1000); resolve(); } else ws.send(text);
  });
  ws.on('error', reject);
});
Promise.all(Array.from({ length: 8 }, one)).then(() => console.log('8 x 5 echoed'), (e) => { console.error(e); process.exit(1); });
`;

describe('zlibEngine concurrency', () => {
  it('with concurrency 2, eight connections echoing compressed messages never have more than 2 zlib writes in flight', async () => {
    const server = await serve({ host: '127.0.0.1', port: 0, perMessageDeflate: { concurrency: 2, threshold: 0 } }, (conn) => {
      void conn.readable.pipeTo(conn.writable).catch(() => undefined);
    });
    const watch = watchZlib();
    try {
      // The clients run in another process (ws, compressing too), so only the server's zlib is counted.
      const out = await new Promise<string>((resolve, reject) => execFile(process.execPath, ['-e', CLIENTS, server.url],
        { cwd: join(__dirname, '../..'), timeout: 50_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))));
      expect(out.trim()).toBe('8 x 5 echoed');
      expect(watch.max()).toBeGreaterThanOrEqual(1);
      expect(watch.max()).toBeLessThanOrEqual(2);
    } finally {
      watch.restore();
      await server.close();
    }
  });

  it('a connection whose reader stalls gives its slot up: with concurrency 1 another connection still gets through', async () => {
    let stalled!: () => void;
    const isStalled = new Promise<void>((r) => (stalled = r));
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let n = 0;
    const server = await serve({ host: '127.0.0.1', port: 0, perMessageDeflate: { concurrency: 1 }, maxMessageSize: 256 * 1024 * 1024 }, (conn) => {
      const me = n++;
      void (async () => {
        for await (const msg of conn.readable) {
          if (me === 0) {
            // Read one chunk of a message that inflates to 64 MiB, then stop reading.
            const reader = msg.stream().getReader();
            await reader.read();
            stalled();
            await released;
            let total = 0;
            for (let r = await reader.read(); !r.done; r = await reader.read()) total += r.value.length;
            await conn.send(`read ${total}`);
          } else {
            await conn.send(msg);
          }
        }
      })().catch(() => undefined);
    });
    try {
      const slow = await connect(server.url, { perMessageDeflate: true });
      const fast = await connect(server.url, { perMessageDeflate: true });
      const big = new Uint8Array(64 * 1024 * 1024); // zeros: ~64 KiB compressed
      void slow.send(big);
      await isStalled;
      const reader = fast.readable.getReader();
      for (let i = 0; i < 3; i++) {
        await fast.send(`hello ${i} `.repeat(300));
        expect(await (await reader.read()).value!.text()).toBe(`hello ${i} `.repeat(300));
      }
      release();
      const slowReader = slow.readable.getReader();
      expect(await (await slowReader.read()).value!.text()).toMatch(/^read \d+$/);
      await Promise.all([slow.close(1000), fast.close(1000)]);
    } finally {
      release();
      await server.close();
    }
  });
});
