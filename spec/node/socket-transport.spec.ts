import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import type { TransportSink } from '../../lib/streams/byte-transport';
import { SocketTransport } from '../../lib/node/socket-transport';

interface Recorder extends TransportSink {
  events: string[];
  data: Buffer[];
}

function recorder(): Recorder {
  const r: Recorder = {
    events: [],
    data: [],
    onData: (c) => {
      r.data.push(Buffer.from(c));
      r.events.push(`data ${c.length}`);
    },
    onEnd: () => void r.events.push('end'),
    onError: (e) => void r.events.push(`error ${(e as NodeJS.ErrnoException).code ?? e.message}`),
    onDrain: () => void r.events.push('drain'),
    onClose: () => void r.events.push('close'),
  };
  return r;
}

let server: Server;
const sockets: Socket[] = [];

/** A connected pair: `ours` (client side, wrapped by the transport) and `peer` (server side). */
async function pair(): Promise<{ ours: Socket; peer: Socket }> {
  const peerP = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const ours = netConnect({ host: '127.0.0.1', port: (server.address() as { port: number }).port });
  await new Promise<void>((r) => ours.once('connect', () => r()));
  const peer = await peerP;
  sockets.push(ours, peer);
  return { ours, peer };
}

const until = async (cond: () => boolean): Promise<void> => {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
};

beforeAll(async () => {
  server = createServer({ allowHalfOpen: true });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
});
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});

describe('SocketTransport', () => {
  it('SocketTransport delivers the peer bytes in order as Uint8Array chunks', async () => {
    const { ours, peer } = await pair();
    const t = new SocketTransport(ours);
    const r = recorder();
    t.attach(r);
    peer.write('hello ');
    peer.write('world');
    await until(() => Buffer.concat(r.data).length === 11);
    expect(Buffer.concat(r.data).toString()).toBe('hello world');
    expect(r.data[0]).toBeInstanceOf(Uint8Array);
  });

  it('SocketTransport reads nothing while paused and everything after resume', async () => {
    const { ours, peer } = await pair();
    const t = new SocketTransport(ours);
    const r = recorder();
    t.pause();
    t.attach(r);
    peer.write('abc');
    await new Promise((res) => setTimeout(res, 50));
    expect(r.data).toEqual([]);
    expect(ours.isPaused()).toBe(true);
    t.resume();
    await until(() => r.data.length > 0);
    expect(Buffer.concat(r.data).toString()).toBe('abc');
  });

  it('SocketTransport writes several chunks in order as they are', async () => {
    const { ours, peer } = await pair();
    const t = new SocketTransport(ours);
    t.attach(recorder());
    const got: Buffer[] = [];
    peer.on('data', (c: Buffer) => got.push(c));
    expect(t.write([new Uint8Array([0x82, 3]), new Uint8Array(0), new Uint8Array([1, 2, 3])])).toBe(true);
    expect(t.write([new Uint8Array([9])])).toBe(true);
    await until(() => Buffer.concat(got).length === 6);
    expect([...Buffer.concat(got)]).toEqual([0x82, 3, 1, 2, 3, 9]);
  });

  it('SocketTransport copies a small lone Uint8Array (kept in V8\'s heap) instead of handing it to the socket', async () => {
    const { ours, peer } = await pair();
    const t = new SocketTransport(ours);
    t.attach(recorder());
    const got: Buffer[] = [];
    peer.on('data', (c: Buffer) => got.push(c));
    const written: unknown[] = [];
    const write = ours.write.bind(ours) as (chunk: unknown, cb?: unknown) => boolean;
    ours.write = ((chunk: unknown, cb?: unknown) => {
      written.push(chunk);
      return write(chunk, cb);
    }) as typeof ours.write;
    const small = new Uint8Array([0x82, 2, 1, 2]);
    const large = new Uint8Array(65).fill(7);
    const buffer = Buffer.from([0x82, 1, 5]);
    // Each the first write of its event-loop turn (later ones of a turn are batched, see below).
    const nextTurn = (): Promise<void> => new Promise((r) => setImmediate(r));
    expect(t.write([small])).toBe(true);
    await nextTurn();
    expect(t.write([large])).toBe(true);
    await nextTurn();
    expect(t.write([buffer])).toBe(true);
    // The small one went out as a Buffer copy; beyond 64 bytes, or already a Buffer, as it was.
    expect(written[0]).not.toBe(small);
    expect(Buffer.isBuffer(written[0])).toBe(true);
    expect(written[1]).toBe(large);
    expect(written[2]).toBe(buffer);
    await until(() => Buffer.concat(got).length === 4 + 65 + 3);
    expect([...Buffer.concat(got)]).toEqual([0x82, 2, 1, 2, ...new Array(65).fill(7), 0x82, 1, 5]);
  });

  it('SocketTransport writes the first write of a turn at once and batches the small ones after it into one socket write at the turn\'s end, in order', async () => {
    const { ours, peer } = await pair();
    const t = new SocketTransport(ours, { highWaterMark: 1 << 20 });
    t.attach(recorder());
    const got: Buffer[] = [];
    peer.on('data', (c: Buffer) => got.push(c));
    const written: Buffer[] = [];
    const write = ours.write.bind(ours) as (chunk: unknown, cb?: unknown) => boolean;
    ours.write = ((chunk: Uint8Array, cb?: unknown) => {
      written.push(Buffer.from(chunk));
      return write(chunk, cb);
    }) as typeof ours.write;
    const frame = (i: number): Uint8Array[] => [new Uint8Array([0x82, 2]), new Uint8Array([i >> 8, i & 255])];
    const expected: number[] = [];
    const big = new Uint8Array(5000).fill(9);
    for (let i = 0; i < 300; i++) {
      expect(t.write(frame(i))).toBe(true);
      expected.push(0x82, 2, i >> 8, i & 255);
      if (i === 150) {
        // A large write in the middle: what was batched before it goes before it.
        expect(t.write([new Uint8Array([0x82, 126, 5000 >> 8, 5000 & 255]), big])).toBe(true);
        expected.push(0x82, 126, 5000 >> 8, 5000 & 255, ...big);
      }
    }
    // Until the turn ends: the first frame; frames 1–150 in one batch, handed over (corked) when
    // the large frame came; that frame's header and payload; frames 151–299 batched, counted.
    expect(written.map((b) => b.length)).toEqual([4, 150 * 4, 4, 5000]);
    expect(t.bufferedAmount).toBeGreaterThanOrEqual(149 * 4);
    await new Promise((r) => setImmediate(r));
    // First frame; frames 1–150 batched; the large frame's header and payload; frames 151–299 batched.
    expect(written.map((b) => b.length)).toEqual([4, 150 * 4, 4, 5000, 149 * 4]);
    await until(() => Buffer.concat(got).length === expected.length);
    expect([...Buffer.concat(got)]).toEqual(expected);
  });

  it('SocketTransport keeps a full batch corked until the turn ends: a turn of many small writes leaves in one writev, not a syscall per 16 KiB', async () => {
    const { ours, peer } = await pair();
    const t = new SocketTransport(ours, { highWaterMark: 1 << 20 });
    t.attach(recorder());
    let got = 0;
    peer.on('data', (c: Buffer) => (got += c.length));
    const frame = new Uint8Array(1024 + 4).fill(1);
    for (let i = 0; i < 40; i++) t.write([frame]); // 40 KiB: the first at once, then two full batches and a part
    expect(ours.writableCorked).toBeGreaterThan(0);
    await new Promise((r) => setImmediate(r));
    expect(ours.writableCorked).toBe(0);
    await until(() => got === 40 * frame.length);
  });

  it('SocketTransport hands the socket a small batch as an exact-size copy, never a view of its 16 KiB batch buffer (a peer that stops reading cannot make a few counted bytes hold 16 KiB each)', async () => {
    const { ours } = await pair();
    const t = new SocketTransport(ours);
    t.attach(recorder());
    const written: Buffer[] = [];
    const write = ours.write.bind(ours) as (chunk: unknown, cb?: unknown) => boolean;
    ours.write = ((chunk: Buffer, cb?: unknown) => {
      written.push(chunk);
      return write(chunk, cb);
    }) as typeof ours.write;
    for (let turn = 0; turn < 3; turn++) {
      t.write([new Uint8Array([0x82, 1, turn])]);
      t.write([new Uint8Array([0x82, 1, turn + 10])]);
      await new Promise((r) => setImmediate(r));
    }
    expect(written.map((b) => b.length)).toEqual([3, 3, 3, 3, 3, 3]);
    // The batched ones (every second write) hold no more memory than node's own small writes do.
    for (const b of written.filter((_, i) => i % 2 === 1)) expect(b.buffer.byteLength).toBeLessThanOrEqual(8 * 1024);
  });

  it('SocketTransport returns false at its high-water mark and reports a drain when under the socket mark', async () => {
    const { ours, peer } = await pair();
    const t = new SocketTransport(ours, { highWaterMark: 1000 });
    const r = recorder();
    t.attach(r);
    ours.cork(); // hold writes in node's buffer so the amount is exact
    expect(t.write([new Uint8Array(600)])).toBe(true);
    expect(t.bufferedAmount).toBe(600);
    expect(t.write([new Uint8Array(300), new Uint8Array(200)])).toBe(false);
    expect(t.bufferedAmount).toBe(1100);
    expect(ours.writableNeedDrain).toBe(false); // node's own 16 KiB mark is not reached
    const got: Buffer[] = [];
    peer.on('data', (c: Buffer) => got.push(c));
    ours.uncork();
    await until(() => r.events.includes('drain'));
    expect(r.events.filter((e) => e === 'drain')).toHaveLength(1);
    await until(() => Buffer.concat(got).length === 1100);
  });

  it('SocketTransport reports one drain when above the socket mark too', async () => {
    const { ours } = await pair();
    const t = new SocketTransport(ours, { highWaterMark: 32 * 1024 });
    const r = recorder();
    t.attach(r);
    ours.cork();
    expect(t.write([new Uint8Array(20 * 1024)])).toBe(true);
    expect(t.write([new Uint8Array(20 * 1024)])).toBe(false);
    ours.uncork();
    await until(() => r.events.includes('drain'));
    await new Promise((res) => setTimeout(res, 20));
    expect(r.events.filter((e) => e === 'drain')).toHaveLength(1);
  });

  it('SocketTransport half-closes: end() sends FIN and the peer can still send to us', async () => {
    const { ours, peer } = await pair();
    const t = new SocketTransport(ours);
    const r = recorder();
    t.attach(r);
    const peerEnded = new Promise<void>((res) => peer.once('end', () => res()));
    peer.resume();
    t.end();
    await peerEnded;
    peer.end('after');
    await until(() => r.events.includes('close'));
    expect(Buffer.concat(r.data).toString()).toBe('after');
    expect(r.events.slice(-2)).toEqual(['end', 'close']);
  });

  it('SocketTransport keeps writing after the peer FIN (allowHalfOpen) until it ends itself', async () => {
    const { ours, peer } = await pair();
    const t = new SocketTransport(ours);
    const r = recorder();
    t.attach(r);
    const got: Buffer[] = [];
    peer.on('data', (c: Buffer) => got.push(c));
    peer.end();
    await until(() => r.events.includes('end'));
    expect(t.write([Buffer.from('still here')])).toBe(true);
    t.end();
    await until(() => r.events.includes('close'));
    expect(Buffer.concat(got).toString()).toBe('still here');
    expect(r.events).toEqual(['end', 'close']);
  });

  it('SocketTransport destroy() drops the socket and reports close exactly once', async () => {
    const { ours, peer } = await pair();
    const t = new SocketTransport(ours);
    const r = recorder();
    t.attach(r);
    const peerClosed = new Promise<void>((res) => peer.once('end', () => res()));
    peer.on('error', () => undefined);
    peer.resume();
    t.destroy();
    t.destroy();
    await until(() => r.events.includes('close'));
    await peerClosed;
    await new Promise((res) => setTimeout(res, 10));
    expect(r.events).toEqual(['close']);
    expect(t.write([new Uint8Array(1)])).toBe(false);
  });

  it('SocketTransport reports a reset as an error, then close', async () => {
    const { ours, peer } = await pair();
    const t = new SocketTransport(ours);
    const r = recorder();
    t.attach(r);
    peer.resetAndDestroy();
    await until(() => r.events.includes('close'));
    expect(r.events).toEqual(['error ECONNRESET', 'close']);
  });

  it('SocketTransport attached to a socket that is already gone reports close', async () => {
    const { ours } = await pair();
    ours.destroy();
    await new Promise((res) => ours.once('close', res));
    const t = new SocketTransport(ours);
    const r = recorder();
    t.attach(r);
    await until(() => r.events.length > 0);
    expect(r.events).toEqual(['close']);
  });

  it('SocketTransport refuses a high-water mark below 1', async () => {
    const { ours } = await pair();
    expect(() => new SocketTransport(ours, { highWaterMark: 0 })).toThrow(new RangeError('highWaterMark must be at least 1, got 0'));
  });
});

describe('SocketTransport containment', () => {
  it('SocketTransport drops the socket and reports the error when the sink throws on data', async () => {
    const { ours, peer } = await pair();
    const t = new SocketTransport(ours);
    const r = recorder();
    r.onData = () => {
      throw new Error('bug in the connection');
    };
    t.attach(r);
    peer.on('error', () => undefined);
    peer.write('x');
    await until(() => r.events.includes('close'));
    expect(r.events).toEqual(['error bug in the connection', 'close']);
  });
});
