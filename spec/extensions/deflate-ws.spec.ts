// permessage-deflate against the `ws` package, both roles, every combination of the four
// RFC 7692 parameters, text and random binary of 0 B, 1 B, 64 KiB and 16 MiB, both directions.
import { randomBytes } from 'node:crypto';
import WebSocket, { WebSocketServer } from 'ws';
import { connect } from '../../lib/node/client';
import { serve } from '../../lib/node/server';
import type { PerMessageDeflateOptions } from '../../lib/extensions/permessage-deflate/params';

jest.setTimeout(120_000);

const MiB = 1024 * 1024;
const SIZES = [0, 1, 64 * 1024, 16 * MiB];
const random = randomBytes(16 * MiB);
const text = (n: number): string => {
  const unit = '{"id":12345,"name":"websocket-streams","tags":["a","b"],"ok":true},';
  return unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
};
const MESSAGES: Array<{ label: string; data: string | Buffer }> = SIZES.flatMap((n) => [
  { label: `text ${n}`, data: text(n) },
  { label: `binary ${n}`, data: random.subarray(0, n) },
]);

/**
 * The 16 combinations: each parameter on or off (windows 10 and 11 when on). The ponyfill
 * project runs the first and the last only: deflate does not touch the stream classes, and
 * the whole matrix once per suite keeps the suite's time in bounds.
 */
const ALL = Array.from({ length: 16 }, (_, i) => i);
const PONYFILL = (globalThis as Record<string, unknown>).__WEBSOCKET_STREAMS_PONYFILL_FORCED__ === true;
const COMBOS: PerMessageDeflateOptions[] = (PONYFILL ? [0, 15] : ALL).map((i) => ({
  ...(i & 1 ? { serverNoContextTakeover: true } : {}),
  ...(i & 2 ? { clientNoContextTakeover: true } : {}),
  ...(i & 4 ? { serverMaxWindowBits: 10 } : {}),
  ...(i & 8 ? { clientMaxWindowBits: 11 } : {}),
}));
const name = (o: PerMessageDeflateOptions): string =>
  Object.entries(o).map(([k, v]) => (v === true ? k : `${k}=${v}`)).join(', ') || 'no parameters';

/** What a header says about each parameter, to compare with the options that asked for it. */
function expectAgreed(header: string, o: PerMessageDeflateOptions): void {
  expect(header.startsWith('permessage-deflate')).toBe(true);
  expect(header.includes('server_no_context_takeover')).toBe(o.serverNoContextTakeover === true);
  expect(header.includes('client_no_context_takeover')).toBe(o.clientNoContextTakeover === true);
  expect(/server_max_window_bits=10\b/.test(header)).toBe(o.serverMaxWindowBits === 10);
  expect(/client_max_window_bits=11\b/.test(header)).toBe(o.clientMaxWindowBits === 11);
}

const same = (got: Buffer | string, want: Buffer | string): boolean =>
  Buffer.from(got as Buffer).equals(Buffer.from(want as Buffer));

describe('permessage-deflate with ws', () => {
  it.each(COMBOS.map((o) => [name(o), o]))('ws client ↔ our server, %s', async (_n, o) => {
    const server = await serve({ host: '127.0.0.1', port: 0, perMessageDeflate: true }, (conn) => {
      void (async () => {
        for await (const msg of conn.readable) {
          // Every message ws sent must have come compressed (threshold 0 on its side).
          if (!msg.compressed) throw new Error('ws sent a message uncompressed');
          await conn.send(msg);
        }
      })().catch(() => conn.close(1011, 'unexpected'));
    });
    const ws = new WebSocket(server.url, { perMessageDeflate: { ...o, threshold: 0 } as WebSocket.PerMessageDeflateOptions });
    let answered = '';
    ws.once('upgrade', (res) => (answered = String(res.headers['sec-websocket-extensions'])));
    try {
      await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
      expectAgreed(answered, o);
      for (const m of MESSAGES) {
        const echoed = new Promise<[Buffer, boolean]>((resolve) => ws.once('message', (d: Buffer, isBinary: boolean) => resolve([d, isBinary])));
        ws.send(m.data, { binary: typeof m.data !== 'string', compress: true });
        const [data, isBinary] = await echoed;
        expect([m.label, isBinary, same(data, m.data)]).toEqual([m.label, typeof m.data !== 'string', true]);
      }
      const closed = new Promise<[number, string]>((resolve) => ws.once('close', (code: number, reason: Buffer) => resolve([code, reason.toString()])));
      ws.close(4000, 'done');
      expect(await closed).toEqual([4000, 'done']);
    } finally {
      ws.terminate();
      await server.close();
    }
  });

  it.each(COMBOS.map((o) => [name(o), o]))('our client ↔ ws server, %s', async (_n, o) => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: { threshold: 0 } });
    const compressedByUs: boolean[] = [];
    wss.on('connection', (s) => s.on('message', (d: Buffer, isBinary: boolean) => s.send(d, { binary: isBinary, compress: true })));
    // ws tells whether a frame had RSV1 only through its receiver; check on the raw socket instead.
    wss.on('connection', (s) => {
      const socket = (s as unknown as { _socket: import('node:net').Socket })._socket;
      let first = true;
      socket.prependListener('data', (chunk: Buffer) => {
        if (first && chunk.length > 0) compressedByUs.push((chunk[0] & 0x40) !== 0);
        first = false;
      });
    });
    await new Promise((r) => wss.once('listening', r));
    const port = (wss.address() as { port: number }).port;
    const conn = await connect(`ws://127.0.0.1:${port}`, { perMessageDeflate: { ...o, threshold: 0 } });
    try {
      expectAgreed(conn.extensions, o);
      const reader = conn.readable.getReader();
      for (const m of MESSAGES) {
        await conn.send(m.data);
        const { value: msg } = await reader.read();
        expect(msg!.compressed).toBe(true);
        const got = Buffer.from(await msg!.bytes());
        expect([m.label, msg!.type, same(got, m.data)]).toEqual([m.label, typeof m.data === 'string' ? 'text' : 'binary', true]);
      }
      reader.releaseLock();
      expect(compressedByUs[0]).toBe(true);
      await conn.close(4001, 'bye');
      expect(await conn.closed).toEqual({ wasClean: true, code: 4001, reason: 'bye', endedBy: 'close-handshake' });
    } finally {
      await new Promise((r) => wss.close(r));
    }
  });
});
