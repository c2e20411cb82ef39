// broadcast(): one message to many connections, its frame encoded once, never inside another
// message, bounded per connection, and quiet about connections that are gone.
import { inflateRawSync, constants as zc } from 'node:zlib';
import type { DeflateEngine } from '../../lib/extensions/permessage-deflate/deflate-engine';
import { PerMessageDeflate } from '../../lib/extensions/permessage-deflate/permessage-deflate';
import { zlibEngine } from '../../lib/node/zlib-engine';
import type { Extension } from '../../lib/protocol/extension';
import { broadcast } from '../../lib/streams/broadcast';
import { Connection } from '../../lib/streams/connection';
import { concat, handshakeInfo, toHex } from '../helpers/connection-pair';
import { FakeClock } from '../helpers/fake-clock';
import { MemoryTransport } from '../helpers/memory-transport';
import { describeFrames, framesOf, turns } from '../helpers/wire';

const dec = new TextDecoder();

interface Endpoint {
  conn: Connection;
  peer: MemoryTransport;
  transport: MemoryTransport;
  /** The chunk arrays the connection handed to its transport, as handed (MemoryTransport keeps copies). */
  writes: Array<readonly Uint8Array[]>;
  /** Resolves once the connection has made `n` writes to its transport. */
  writesDone(n: number): Promise<void>;
}

function endpoint(role: 'client' | 'server' = 'server', extensions?: Extension[]): Endpoint {
  const [peer, transport] = MemoryTransport.pair();
  const writes: Array<readonly Uint8Array[]> = [];
  let waiter: { n: number; resolve(): void } | undefined;
  const write = transport.write.bind(transport);
  transport.write = (chunks) => {
    writes.push(chunks);
    if (waiter !== undefined && writes.length >= waiter.n) waiter.resolve();
    return write(chunks);
  };
  const writesDone = (n: number): Promise<void> =>
    writes.length >= n ? Promise.resolve() : new Promise((resolve) => (waiter = { n, resolve }));
  // A clock nobody moves: the close timers of connections closed here never run, nor linger.
  const conn = new Connection(transport, { role, handshake: handshakeInfo(), activeExtensions: extensions, options: { clock: new FakeClock() } });
  peer.attach({ onData: () => {}, onEnd: () => {}, onError: () => {}, onDrain: () => {}, onClose: () => {} });
  return { conn, peer, transport, writes, writesDone };
}

/** A permessage-deflate engine that counts the compressors made. */
function countingEngine(): { engine: DeflateEngine; deflaters: () => number } {
  const base = zlibEngine();
  let n = 0;
  const engine: DeflateEngine = {
    createDeflater: (o) => {
      n++;
      return base.createDeflater(o);
    },
    createInflater: (w) => base.createInflater(w),
    recycle: (c) => base.recycle?.(c),
  };
  return { engine, deflaters: () => n };
}

function inflate(payload: Uint8Array): string {
  return dec.decode(inflateRawSync(concat([payload, new Uint8Array([0, 0, 0xff, 0xff])]), { finishFlush: zc.Z_SYNC_FLUSH }));
}

/** Records unhandled rejections while `body` runs and a few event-loop turns after it. */
async function unhandledRejectionsDuring(body: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const onRejection = (reason: unknown): void => {
    seen.push(reason);
  };
  process.on('unhandledRejection', onRejection);
  try {
    await body();
    await turns(5);
  } finally {
    process.off('unhandledRejection', onRejection);
  }
  return seen;
}

describe('broadcast', () => {
  it('writes the very same frame bytes to every server connection: encoded once', () => {
    const eps = [endpoint(), endpoint(), endpoint()];
    const result = broadcast(eps.map((e) => e.conn), 'héllo');
    expect(result).toEqual({ sent: 3, skipped: 0, closed: 0 });
    const first = eps[0]!.writes[0]![0]!;
    for (const e of eps) {
      expect(e.writes).toHaveLength(1);
      expect(e.writes[0]![0]).toBe(first);
      expect(toHex(concat(e.transport.written))).toBe('8106' + '68c3a96c6c6f');
    }
  });

  it('sends bytes as one binary frame, copied once: changing them afterwards changes nothing sent', () => {
    const eps = [endpoint(), endpoint()];
    const data = new Uint8Array([1, 2, 3]);
    broadcast(eps.map((e) => e.conn), data);
    data[0] = 9;
    for (const e of eps) expect(toHex(concat(e.transport.written))).toBe('8203010203');
    expect(eps[0]!.writes[0]![0]).toBe(eps[1]!.writes[0]![0]);
  });

  it('encodes a string to UTF-8 once for all connections', () => {
    const encode = jest.spyOn(TextEncoder.prototype, 'encode');
    try {
      const eps = [endpoint(), endpoint(), endpoint(), endpoint()];
      encode.mockClear();
      broadcast(eps.map((e) => e.conn), 'once');
      expect(encode).toHaveBeenCalledTimes(1);
    } finally {
      encode.mockRestore();
    }
  });

  it('gives each client connection a frame masked with its own key', () => {
    const keys = [new Uint8Array([1, 2, 3, 4]), new Uint8Array([5, 6, 7, 8])];
    const eps = keys.map((key) => {
      const [peer, transport] = MemoryTransport.pair();
      const conn = new Connection(transport, { role: 'client', handshake: handshakeInfo(), options: { maskKeySource: () => key, clock: new FakeClock() } });
      peer.attach({ onData: () => {}, onEnd: () => {}, onError: () => {}, onDrain: () => {}, onClose: () => {} });
      return { conn, transport };
    });
    expect(broadcast(eps.map((e) => e.conn), 'hi')).toEqual({ sent: 2, skipped: 0, closed: 0 });
    // RFC 6455 §5.3: masked, each with its connection's key; the same text underneath.
    expect(toHex(concat(eps[0]!.transport.written))).toBe('8182' + '01020304' + (0x68 ^ 1).toString(16) + (0x69 ^ 2).toString(16).padStart(2, '0'));
    expect(toHex(concat(eps[1]!.transport.written))).toBe('8182' + '05060708' + (0x68 ^ 5).toString(16) + (0x69 ^ 6).toString(16).padStart(2, '0'));
  });

  it('queues behind a fragmented message being sent, never inside it, and keeps later sends after it', async () => {
    const busy = endpoint();
    const idle = endpoint();
    const w = busy.conn.beginMessage('text');
    await w.sendFrame('frag-', { fin: false });
    expect(broadcast([busy.conn, idle.conn], 'news')).toEqual({ sent: 2, skipped: 0, closed: 0 });
    const later = busy.conn.send('later');
    expect(describeFrames(idle.transport.written)).toEqual(['text:news']);
    expect(describeFrames(busy.transport.written)).toEqual(['text:frag-']);
    await w.sendFrame('ment', { fin: true });
    await later;
    await turns(2);
    expect(describeFrames(busy.transport.written)).toEqual(['text:frag-', 'cont:ment', 'text:news', 'text:later']);
    // The frame queued is still the one shared with the idle connection.
    expect(busy.writes[2]![0]).toBe(idle.writes[0]![0]);
  });

  it('skips connections that are closing or closed, counts them, and ends in no unhandled rejection', async () => {
    const open = endpoint();
    const closing = endpoint();
    const lost = endpoint();
    const waiting = endpoint();
    const seen = await unhandledRejectionsDuring(async () => {
      void closing.conn.close(1000);
      lost.peer.destroy();
      await lost.conn.closed;
      // `waiting` is sending a message: the broadcast queues behind it, then the connection is lost.
      const w = waiting.conn.beginMessage('binary');
      await w.sendFrame(new Uint8Array([1]), { fin: false });
      expect(broadcast([open.conn, closing.conn, lost.conn, waiting.conn], 'x')).toEqual({ sent: 2, skipped: 0, closed: 2 });
      waiting.peer.destroy();
      await waiting.conn.closed;
      expect(() => w.sendFrame(new Uint8Array([2]), { fin: true })).toThrow('The connection was lost');
    });
    expect(seen).toEqual([]);
    expect(describeFrames(open.transport.written)).toEqual(['text:x']);
    expect(describeFrames(closing.transport.written)).toEqual(['close:1000']);
    expect(lost.transport.written).toEqual([]);
    expect(describeFrames(waiting.transport.written)).toEqual(['binary:\u0001']);
    expect(waiting.conn._sendBacklog).toBe(0);
  });

  it('skips a connection with more than maxBuffered bytes queued, so a peer that stops reading holds a bounded amount', () => {
    const reading = endpoint();
    const stalled = endpoint();
    stalled.peer.pause();
    // Nothing delivers while this test runs synchronously, so `reading` must be emptied by hand:
    // its peer drops what it takes.
    const message = 'm'.repeat(38); // a 40-byte frame
    const results = [];
    for (let i = 0; i < 6; i++) {
      results.push(broadcast([stalled.conn], message, { maxBuffered: 100 }));
      expect(stalled.conn.bufferedAmount).toBeLessThanOrEqual(100 + 40);
    }
    // Queued before each: 0, 40, 80 (sent), 120 (> 100: skipped from then on).
    expect(results.map((r) => r.sent)).toEqual([1, 1, 1, 0, 0, 0]);
    expect(results.map((r) => r.skipped)).toEqual([0, 0, 0, 1, 1, 1]);
    expect(stalled.conn.bufferedAmount).toBe(120);
    expect(broadcast([reading.conn, stalled.conn], message, { maxBuffered: 100 })).toEqual({ sent: 1, skipped: 1, closed: 0 });
  });

  it('counts broadcasts queued behind a message being sent towards maxBuffered', async () => {
    const e = endpoint();
    const w = e.conn.beginMessage('binary');
    await w.sendFrame(new Uint8Array(10), { fin: false });
    const transportBytes = e.conn.bufferedAmount;
    const sent = [];
    for (let i = 0; i < 5; i++) sent.push(broadcast([e.conn], 'm'.repeat(38), { maxBuffered: transportBytes + 100 }).sent);
    expect(sent).toEqual([1, 1, 1, 0, 0]);
    expect(e.conn._sendBacklog).toBe(transportBytes + 120);
    await w.sendFrame(new Uint8Array(0), { fin: true });
    await e.writesDone(2 + 3);
    await turns(1);
    expect(describeFrames(e.transport.written)).toEqual(['binary:' + '\u0000'.repeat(10), 'cont:', ...Array(3).fill('text:' + 'm'.repeat(38))]);
    expect(e.conn._sendBacklog).toBe(0);
  });

  it("whenFull 'close' starts closing a connection over maxBuffered with 1008", () => {
    const e = endpoint();
    e.peer.pause();
    broadcast([e.conn], 'x'.repeat(200));
    expect(broadcast([e.conn], 'y', { maxBuffered: 100, whenFull: 'close' })).toEqual({ sent: 0, skipped: 1, closed: 0 });
    expect(e.conn.readyState).toBe(2);
    expect(describeFrames(e.transport.written)).toEqual(['text:' + 'x'.repeat(200), 'close:1008']);
  });

  it('refuses bad options and data at once', () => {
    const e = endpoint();
    expect(() => broadcast([e.conn], 'x', { maxBuffered: -1 })).toThrow(RangeError);
    expect(() => broadcast([e.conn], 'x', { whenFull: 'wait' as 'skip' })).toThrow(TypeError);
    expect(() => broadcast([e.conn], 42 as unknown as string)).toThrow(TypeError);
    expect(e.transport.written).toEqual([]);
  });
});

describe('broadcast with permessage-deflate', () => {
  const NO_TAKEOVER: Array<[string, true]> = [['server_no_context_takeover', true]];
  const big = '{"event":"tick","price":101.25}, '.repeat(64);

  function deflateEndpoints(engine: DeflateEngine, offers: Array<Array<[string, true]>>, threshold = 1024): Endpoint[] {
    const factory = new PerMessageDeflate(engine, { threshold });
    return offers.map((params) => endpoint('server', [factory.accept([{ name: 'permessage-deflate', params }])!.extension]));
  }

  it('compresses once for every connection without context takeover, and they share the compressed frame', async () => {
    const { engine, deflaters } = countingEngine();
    const eps = deflateEndpoints(engine, [NO_TAKEOVER, NO_TAKEOVER, NO_TAKEOVER]);
    expect(broadcast(eps.map((e) => e.conn), big)).toEqual({ sent: 3, skipped: 0, closed: 0 });
    await eps[0]!.conn.send('after', { compress: false });
    await Promise.all(eps.map((e) => e.writesDone(1)));
    expect(deflaters()).toBe(1);
    for (const e of eps) {
      expect(e.writes[0]![0]).toBe(eps[0]!.writes[0]![0]);
      const [f] = framesOf(e.transport.written);
      expect(f!.rsv).toBe(0b100);
      expect(f!.payload.length).toBeLessThan(big.length / 4);
      expect(inflate(f!.payload)).toBe(big);
    }
    // A send made after the broadcast went after it, though the broadcast waited for zlib.
    expect(describeFrames(eps[0]!.transport.written)[1]).toBe('text:after');
  });

  it('sends connections whose compressor keeps its context the uncompressed frame, RSV1 clear', async () => {
    const { engine, deflaters } = countingEngine();
    const [takeover, plain] = [deflateEndpoints(engine, [[]])[0]!, endpoint()];
    expect(broadcast([takeover.conn, plain.conn], big)).toEqual({ sent: 2, skipped: 0, closed: 0 });
    await turns(2);
    expect(deflaters()).toBe(0);
    expect(takeover.writes[0]![0]).toBe(plain.writes[0]![0]);
    expect(framesOf(takeover.transport.written).map((f) => [f.rsv, f.text])).toEqual([[0, big]]);
  });

  it('sends a message below the threshold uncompressed, and skips compression with compress: false', async () => {
    const { engine, deflaters } = countingEngine();
    const eps = deflateEndpoints(engine, [NO_TAKEOVER, NO_TAKEOVER], 1024);
    broadcast(eps.map((e) => e.conn), 'short');
    broadcast(eps.map((e) => e.conn), big, { compress: false });
    await turns(2);
    expect(deflaters()).toBe(0);
    for (const e of eps) expect(framesOf(e.transport.written).map((f) => [f.rsv, f.text])).toEqual([[0, 'short'], [0, big]]);
  });

  it('queues behind a message that is still being compressed', async () => {
    const { engine } = countingEngine();
    const [e] = deflateEndpoints(engine, [NO_TAKEOVER]);
    const sending = e!.conn.send(big);
    broadcast([e!.conn], 'news');
    await sending;
    await e!.writesDone(2);
    const frames = framesOf(e!.transport.written);
    expect(frames.map((f) => f.rsv)).toEqual([0b100, 0]);
    expect(inflate(frames[0]!.payload)).toBe(big);
    expect(frames[1]!.text).toBe('news');
  });
});
