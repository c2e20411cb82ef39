import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import WebSocket from 'ws';
import { demoPath, startDemo, stopDemo } from '../helpers/demo-process';

describe('demo/echo: one echo server per tier', () => {
  it.each(['stream-tier.mjs', 'message-tier.mjs', 'frame-tier.mjs', 'streaming-tier.mjs'])('%s echoes text, fragmented binary and empty messages', async (script) => {
    const { child, url } = await startDemo(demoPath('echo', script));
    try {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      await once(ws, 'open');
      const got: Array<[boolean, Buffer]> = [];
      ws.on('message', (d: Buffer, isBinary: boolean) => got.push([isBinary, d]));
      const big = Buffer.alloc(200_000).map((_, i) => i % 253);
      ws.send('héllo');
      ws.send(big.subarray(0, 100_000), { fin: false });
      ws.send(big.subarray(100_000), { fin: true });
      ws.send(Buffer.alloc(0));
      for (let i = 0; i < 200 && got.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
      expect(got.map(([b, d]) => [b, d.length])).toEqual([[false, Buffer.byteLength('héllo')], [true, 200_000], [true, 0]]);
      expect(got[0]![1].toString()).toBe('héllo');
      expect(Buffer.compare(got[1]![1], big)).toBe(0);
      ws.close(1000);
      await once(ws, 'close');
    } finally {
      await stopDemo(child);
    }
  });
});

describe('demo/compress', () => {
  it('gzip-to-file.mjs streams a message through CompressionStream into a file that gunzips to it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ws-streams-compress-'));
    const { child, url } = await startDemo(demoPath('compress', 'gzip-to-file.mjs'), ['--dir', dir]);
    try {
      const ws = new WebSocket(url, { perMessageDeflate: false });
      await once(ws, 'open');
      const text = 'websocket-streams '.repeat(60_000);
      ws.send(text);
      const [reply] = await once(ws, 'message');
      const [, file, size] = String(reply).split(' ');
      const gz = readFileSync(file!);
      expect(gz.length).toBe(Number(size));
      expect(gz.length).toBeLessThan(text.length / 20);
      expect(gunzipSync(gz).toString()).toBe(text);
      ws.close(1000);
      await once(ws, 'close');
    } finally {
      await stopDemo(child);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
