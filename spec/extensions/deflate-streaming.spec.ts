// Streaming through permessage-deflate: a frame written in pieces is compressed and sent as it
// goes (never collected whole), even one declared 2^63 − 1 bytes long.
import { createHash, randomBytes } from 'node:crypto';
import WebSocket, { WebSocketServer } from 'ws';
import { FrameParser } from '../../lib/codec/frame-parser';
import { connect } from '../../lib/node/client';
import { serve } from '../../lib/node/server';

jest.setTimeout(60_000);

describe('permessage-deflate, streamed frames', () => {
  it('a frame of 2^63 − 1 bytes streams compressed: the receiver inflates each piece as it comes', async () => {
    const total = 4 * 1024 * 1024;
    const source = randomBytes(total / 2).toString('hex'); // compressible, not trivially
    let received = 0;
    const hash = createHash('sha256');
    let gotAll!: () => void;
    const all = new Promise<void>((r) => (gotAll = r));
    let compressed: boolean | undefined;
    const server = await serve({ host: '127.0.0.1', port: 0, perMessageDeflate: true, maxFrameSize: Infinity, maxMessageSize: Infinity }, (conn) => {
      void (async () => {
        for await (const msg of conn.readable) {
          compressed = msg.compressed;
          for await (const chunk of msg.stream()) {
            hash.update(chunk);
            received += chunk.length;
            if (received >= total) gotAll();
          }
        }
      })().catch(() => undefined);
    });
    const conn = await connect(server.url, { perMessageDeflate: true });
    try {
      const frame = conn.beginMessage('binary').beginFrame(2n ** 63n - 1n).getWriter();
      const bytes = Buffer.from(source, 'latin1');
      for (let at = 0; at < total; at += 1024) await frame.write(bytes.subarray(at, at + 1024));
      // The frame never ends, yet the server has every byte, inflated.
      await all;
      expect(compressed).toBe(true);
      expect(received).toBe(total);
      expect(hash.digest('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
    } finally {
      void conn.close(1000).catch(() => undefined);
      await server.close();
    }
  });

  it('a frame declared in advance reaches ws intact, in compressed pieces of bounded size', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: true });
    // Our frames as the wire carries them, parsed beside ws (after its handshake bytes).
    const frameLengths: number[] = [];
    const parser = new FrameParser({ role: 'server', allowedRsv: 0b100, maxFrameSize: Infinity });
    const got = new Promise<Buffer>((resolve) => wss.on('connection', (s: WebSocket) => {
      const socket = (s as unknown as { _socket: import('node:net').Socket })._socket;
      socket.prependListener('data', (c: Buffer) => {
        parser.push(new Uint8Array(c));
        for (let ev = parser.next(); ev; ev = parser.next()) {
          if (ev.type === 'frame-start' && ev.header.opcode !== 0x8) frameLengths.push(Number(ev.header.length));
        }
      });
      s.on('message', (d: Buffer) => resolve(d));
    }));
    await new Promise((r) => wss.once('listening', r));
    const conn = await connect(`ws://127.0.0.1:${(wss.address() as { port: number }).port}`, { perMessageDeflate: true });
    try {
      const data = randomBytes(1024 * 1024);
      const w = conn.beginMessage('binary');
      const frame = w.beginFrame(data.length, { fin: true }).getWriter();
      for (let at = 0; at < data.length; at += 4096) await frame.write(data.subarray(at, at + 4096));
      await frame.close();
      expect((await got).equals(data)).toBe(true);
      // 1 MiB of input went out as 16 compressed frames of 64 KiB of input each (random data does
      // not shrink), not as one frame collected whole.
      expect(frameLengths.length).toBe(16);
      expect(Math.max(...frameLengths)).toBeLessThan(66 * 1024);
    } finally {
      await conn.close(1000);
      await new Promise((r) => wss.close(r));
    }
  });
});
