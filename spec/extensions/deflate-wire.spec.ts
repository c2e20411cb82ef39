// permessage-deflate on the wire, rule by rule (RFC 7692 §6, §7.2), against a raw client that
// writes exact bytes and reads what our server sends.
import { connect as netConnect, type Socket } from 'node:net';
import { deflateRawSync, constants as zc } from 'node:zlib';
import { FrameParser } from '../../lib/codec/frame-parser';
import { PerMessageDeflate } from '../../lib/extensions/permessage-deflate/permessage-deflate';
import type { DeflateEngine, RawCodec } from '../../lib/extensions/permessage-deflate/deflate-engine';
import type { PerMessageDeflateSetting } from '../../lib/node/deflate-option';
import { serve, type WebSocketServerHandle } from '../../lib/node/server';
import { zlibEngine } from '../../lib/node/zlib-engine';
import type { ServerOptions } from '../../lib/node/upgrade';
import type { Connection } from '../../lib/streams/connection';
import { DECODED_BACKLOG_BYTES } from '../../lib/streams/decoded-backlog';
import { hex, toHex } from '../helpers/connection-pair';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** A client frame: masked with a zero key, so the payload bytes are as given. */
function frame(opcode: number, payload: Uint8Array, o: { fin?: boolean; rsv1?: boolean } = {}): Buffer {
  const b0 = ((o.fin ?? true) ? 0x80 : 0) | (o.rsv1 ? 0x40 : 0) | opcode;
  const n = payload.length;
  const head = n < 126 ? Buffer.from([b0, 0x80 | n]) : n < 65536 ? Buffer.from([b0, 0x80 | 126, n >> 8, n & 255]) : (() => {
    const h = Buffer.alloc(10);
    h[0] = b0;
    h[1] = 0x80 | 127;
    h.writeBigUInt64BE(BigInt(n), 2);
    return h;
  })();
  return Buffer.concat([head, Buffer.alloc(4), payload]);
}

/** Compressed per RFC 7692 §7.2.1: raw deflate, sync flush, trailing 00 00 FF FF removed. */
function compress(data: Uint8Array): Buffer {
  const out = deflateRawSync(data, { finishFlush: zc.Z_SYNC_FLUSH });
  return out.subarray(0, out.length - 4);
}

interface ServerFrame { opcode: number; rsv: number; fin: boolean; payload: string }

/** A raw client: handshake with an extensions header, then frames in and out. */
class RawClient {
  readonly frames: ServerFrame[] = [];
  readonly response: Promise<string>;
  readonly closed: Promise<void>;
  readonly #socket: Socket;
  readonly #parser = new FrameParser({ role: 'client', allowedRsv: 0b100 });
  #current: { opcode: number; rsv: number; fin: boolean; parts: Uint8Array[] } | undefined;

  constructor(port: number, extensions: string) {
    this.#socket = netConnect({ host: '127.0.0.1', port });
    let head = '';
    let gotHead: (s: string) => void;
    this.response = new Promise((r) => (gotHead = r));
    this.closed = new Promise((r) => this.#socket.on('close', () => r()));
    this.#socket.on('error', () => undefined);
    this.#socket.on('data', (chunk: Buffer) => {
      if (!head.includes('\r\n\r\n')) {
        head += chunk.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        gotHead(head.slice(0, end));
        chunk = Buffer.from(head.slice(end + 4), 'latin1');
      }
      this.#parser.push(new Uint8Array(chunk));
      for (let ev = this.#parser.next(); ev; ev = this.#parser.next()) {
        if (ev.type === 'frame-start') this.#current = { opcode: ev.header.opcode, rsv: ev.header.rsv, fin: ev.header.fin, parts: [] };
        else if (ev.type === 'frame-data') this.#current!.parts.push(ev.data.slice());
        else if (ev.type === 'frame-end') {
          const c = this.#current!;
          this.frames.push({ opcode: c.opcode, rsv: c.rsv, fin: c.fin, payload: toHex(Buffer.concat(c.parts)) });
        } else if (ev.type === 'control') {
          this.frames.push({ opcode: ev.header.opcode, rsv: ev.header.rsv, fin: true, payload: toHex(ev.payload) });
        }
      }
    });
    this.#socket.write([
      'GET / HTTP/1.1', 'Host: 127.0.0.1', 'Upgrade: websocket', 'Connection: Upgrade',
      `Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13',
      ...(extensions ? [`Sec-WebSocket-Extensions: ${extensions}`] : []), '', '',
    ].join('\r\n'));
  }

  send(...frames: Buffer[]): void {
    this.#socket.write(Buffer.concat(frames));
  }

  async waitFrames(n: number): Promise<ServerFrame[]> {
    for (let i = 0; i < 500 && this.frames.length < n; i++) await new Promise((r) => setTimeout(r, 10));
    return this.frames;
  }

  /** The close code of the server's close frame, once it came. */
  async closeCode(): Promise<number | undefined> {
    await this.closed;
    const c = this.frames.find((f) => f.opcode === 8);
    return c ? parseInt(c.payload.slice(0, 4), 16) : undefined;
  }

  destroy(): void {
    this.#socket.destroy();
  }
}

const servers: WebSocketServerHandle[] = [];
const clients: RawClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  for (const s of servers.splice(0)) await s.close();
});

async function server(perMessageDeflate: PerMessageDeflateSetting, handler: (conn: Connection) => void, more: Partial<ServerOptions> = {}): Promise<number> {
  const s = await serve({ host: '127.0.0.1', port: 0, perMessageDeflate, onError: () => undefined, ...more }, handler);
  servers.push(s);
  return s.port;
}

function client(port: number, extensions = 'permessage-deflate'): RawClient {
  const c = new RawClient(port, extensions);
  clients.push(c);
  return c;
}

/** A server that records each message's text and answers it with `reply` (compressed when it may). */
async function textServer(setting: PerMessageDeflateSetting, reply?: string): Promise<{ port: number; got: string[] }> {
  const got: string[] = [];
  const port = await server(setting, (conn) => {
    void (async () => {
      for await (const msg of conn.readable) {
        got.push(await msg.text());
        if (reply !== undefined) await conn.send(reply);
      }
    })().catch(() => undefined);
  });
  return { port, got };
}

const HELLO = new TextEncoder().encode('Hello');

describe('permessage-deflate on the wire', () => {
  it('sends RFC 7692 §7.2.3.1 "Hello" exactly, then §7.2.3.2 with the context taken over', async () => {
    const { port } = await textServer({ threshold: 0 }, 'Hello');
    const c = client(port);
    expect(await c.response).toMatch(/\r\nSec-WebSocket-Extensions: permessage-deflate$/i);
    c.send(frame(1, HELLO));
    await c.waitFrames(1);
    c.send(frame(1, HELLO));
    const frames = await c.waitFrames(2);
    expect(frames.slice(0, 2)).toEqual([
      { opcode: 1, rsv: 0b100, fin: true, payload: 'f248cdc9c90700' },
      { opcode: 1, rsv: 0b100, fin: true, payload: 'f200110000' },
    ]);
  });

  it('resets its compressor per message with server_no_context_takeover', async () => {
    const { port } = await textServer({ threshold: 0 }, 'Hello');
    const c = client(port, 'permessage-deflate; server_no_context_takeover');
    expect(await c.response).toMatch(/permessage-deflate; server_no_context_takeover/);
    c.send(frame(1, HELLO));
    await c.waitFrames(1);
    c.send(frame(1, HELLO));
    const frames = await c.waitFrames(2);
    expect(frames.slice(0, 2).map((f) => f.payload)).toEqual(['f248cdc9c90700', 'f248cdc9c90700']);
  });

  it('sends messages below the threshold uncompressed (RSV1 clear)', async () => {
    const { port } = await textServer(true, 'Hello');
    const c = client(port);
    c.send(frame(1, HELLO));
    expect((await c.waitFrames(1))[0]).toEqual({ opcode: 1, rsv: 0, fin: true, payload: toHex(HELLO) });
  });

  it('reads compressed messages: one frame, fragmented (RSV1 on the first only), the RFC\'s stored block, and uncompressed ones', async () => {
    const { port, got } = await textServer(true);
    const c = client(port);
    await c.response;
    const body = compress(new TextEncoder().encode('Hello, fragmented world'));
    c.send(
      frame(1, hex('f248cdc9c90700'), { rsv1: true }),
      frame(1, body.subarray(0, 5), { rsv1: true, fin: false }), frame(0, body.subarray(5, 9), { fin: false }), frame(0, body.subarray(9)),
      frame(1, hex('f2 48 cd c9 c9 07 00'), { rsv1: true }),
      frame(1, hex('00 05 00 fa ff 48 65 6c 6c 6f 00'), { rsv1: true }), // §7.2.3.3: a stored block
      frame(1, HELLO),
      frame(1, hex('00'), { rsv1: true }), // §7.2.3.6: an empty message
    );
    for (let i = 0; i < 300 && got.length < 6; i++) await new Promise((r) => setTimeout(r, 10));
    expect(got).toEqual(['Hello', 'Hello, fragmented world', 'Hello', 'Hello', 'Hello', '']);
  });

  it.each([
    ['RSV1 on a continuation frame', 1002, () => [frame(1, compress(HELLO), { rsv1: true, fin: false }), frame(0, hex('00'), { rsv1: true })]],
    ['RSV1 on a ping', 1002, () => [frame(9, hex(''), { rsv1: true })]],
    ['RSV2, which no extension owns', 1002, () => [Buffer.from([0xa1, 0x80, 0, 0, 0, 0])]],
    ['data that does not inflate', 1007, () => [frame(2, hex('ff ff ff ff 12 34'), { rsv1: true })]],
    ['text that inflates to invalid UTF-8', 1007, () => [frame(1, compress(hex('48 65 c3 28')), { rsv1: true })]],
  ])('fails the connection on %s with close code %p', async (_what, code, frames) => {
    const { port } = await textServer(true);
    const c = client(port);
    await c.response;
    c.send(...(frames as () => Buffer[])());
    expect(await c.closeCode()).toBe(code);
  });

  it('refuses RSV1 when permessage-deflate was not negotiated (1002)', async () => {
    const { port } = await textServer(false);
    const c = client(port);
    expect(await c.response).not.toMatch(/Sec-WebSocket-Extensions/i);
    c.send(frame(1, compress(HELLO), { rsv1: true }));
    expect(await c.closeCode()).toBe(1002);
  });

  it('refuses with 1009 a small message that inflates past maxMessageSize, having inflated at most that much', async () => {
    const bomb = compress(new Uint8Array(64 * 1024 * 1024)); // 64 MiB of zeros: ~64 KiB on the wire
    expect(bomb.length).toBeLessThan(100 * 1024);
    let delivered = 0;
    const port = await server(true, (conn) => {
      void (async () => {
        for await (const msg of conn.readable) for await (const chunk of msg.stream()) delivered += chunk.length;
      })().catch(() => undefined);
    }, { maxMessageSize: 1024 * 1024 });
    const c = client(port);
    await c.response;
    c.send(frame(2, bomb, { rsv1: true }));
    expect(await c.closeCode()).toBe(1009);
    expect(delivered).toBeLessThanOrEqual(1024 * 1024);
  });

  it('inflates only as fast as the message is read: a reader that stops holds the decoder back', async () => {
    const total = 32 * 1024 * 1024;
    let produced = 0;
    const counting = countingEngine(zlibEngine(), (n) => (produced += n));
    const [paused, readSome] = signal();
    const [resumed, resume] = signal();
    let received = 0;
    const port = await server({}, (conn) => {
      void (async () => {
        for await (const msg of conn.readable) {
          const reader = msg.stream().getReader();
          received += (await reader.read()).value!.length;
          readSome();
          await resumed;
          for (let r = await reader.read(); !r.done; r = await reader.read()) received += r.value.length;
          await conn.send(String(received));
        }
      })().catch(() => undefined);
    }, { extensions: [new PerMessageDeflate(counting)], perMessageDeflate: false, maxMessageSize: total });
    const c = client(port);
    await c.response;
    c.send(frame(2, compress(new Uint8Array(total)), { rsv1: true }));
    await paused;
    await new Promise((r) => setTimeout(r, 300));
    // The decoder runs ahead of the reader by at most the backlog's bound, and zlib stops
    // within a couple of its 64 KiB output chunks of that.
    expect(produced).toBeLessThan(DECODED_BACKLOG_BYTES + 256 * 1024);
    resume();
    const frames = await c.waitFrames(1);
    expect(Buffer.from(frames[0].payload, 'hex').toString()).toBe(String(total));
  });

  describe('decoding ahead of a busy consumer', () => {
    const enc = (t: string): Uint8Array => new TextEncoder().encode(t);
    const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

    /** A server whose consumer stays busy after the first message until `release()`. */
    async function busyServer(then: (conn: Connection, first: string) => Promise<void> = async () => undefined) {
      let produced = 0;
      const counting = countingEngine(zlibEngine(), (n) => (produced += n));
      const [isBusy, busy] = signal();
      const [released, release] = signal();
      const got: string[] = [];
      const port = await server({}, (conn) => {
        void (async () => {
          for await (const msg of conn.readable) {
            got.push(await msg.text());
            if (got.length === 1) {
              busy();
              await released;
              await then(conn, got[0]);
            }
          }
        })().catch(() => undefined);
      }, { extensions: [new PerMessageDeflate(counting)], perMessageDeflate: false });
      return { port, got, isBusy, release, produced: () => produced };
    }

    it('inflates the next message while the consumer is busy with the previous one, and hands it over in order', async () => {
      const s = await busyServer();
      const c = client(s.port);
      await c.response;
      const a = 'a'.repeat(40_000);
      const b = 'b'.repeat(50_000);
      c.send(frame(1, compress(enc(a)), { rsv1: true }), frame(1, compress(enc(b)), { rsv1: true }));
      await s.isBusy;
      for (let i = 0; i < 300 && s.produced() < a.length + b.length; i++) await sleep(10);
      expect(s.produced()).toBe(a.length + b.length);
      expect(s.got).toEqual([a]);
      s.release();
      for (let i = 0; i < 300 && s.got.length < 2; i++) await sleep(10);
      expect(s.got).toEqual([a, b]);
    });

    it('runs ahead by at most its bound, and answers a ping behind the message it holds at once', async () => {
      const s = await busyServer();
      const c = client(s.port);
      await c.response;
      const big = 8 * 1024 * 1024;
      c.send(frame(1, compress(HELLO), { rsv1: true }), frame(2, compress(new Uint8Array(big)), { rsv1: true }), frame(9, enc('p')));
      await s.isBusy;
      // The consumer is still busy with the first message: the ping is answered anyway.
      const frames = await c.waitFrames(1);
      expect(frames[0]).toEqual({ opcode: 10, rsv: 0, fin: true, payload: toHex(enc('p')) });
      expect(s.got).toEqual(['Hello']);
      expect(s.produced()).toBeLessThan(HELLO.length + DECODED_BACKLOG_BYTES + 256 * 1024);
      s.release();
      for (let i = 0; i < 300 && s.got.length < 2; i++) await sleep(10);
      expect(s.got.map((t) => t.length)).toEqual([HELLO.length, big]);
    });

    it('a message that does not inflate, decoded ahead, fails the connection only after the one before it', async () => {
      const s = await busyServer((conn, first) => conn.send(`got ${first}`));
      const c = client(s.port);
      await c.response;
      c.send(frame(1, compress(HELLO), { rsv1: true }), frame(2, hex('ff ff ff ff 12 34'), { rsv1: true }));
      await s.isBusy;
      await sleep(200);
      expect(c.frames).toEqual([]);
      s.release();
      expect(await c.closeCode()).toBe(1007);
      expect(c.frames[0]).toEqual({ opcode: 1, rsv: 0, fin: true, payload: toHex(enc('got Hello')) });
    });
  });
});

/** A promise and the function that resolves it. */
function signal(): [Promise<void>, () => void] {
  let fire!: () => void;
  const wait = new Promise<void>((r) => (fire = r));
  return [wait, fire];
}

/** Wraps an engine to count the bytes its inflaters produce. */
function countingEngine(inner: DeflateEngine, count: (n: number) => void): DeflateEngine {
  return {
    createDeflater: (o) => inner.createDeflater(o),
    createInflater: (bits): RawCodec => {
      const c = inner.createInflater(bits);
      const wrap = (sink: Parameters<RawCodec['write']>[1]): Parameters<RawCodec['write']>[1] => (out) => {
        count(out.length);
        return sink(out);
      };
      return { write: (i, s) => c.write(i, wrap(s)), flush: (s) => c.flush(wrap(s)), close: () => c.close() };
    },
  };
}
