// WebStreamTransport's write side ending: closing the writable, or a half-close of its own
// (`closeWrite`, for Deno.Conn, whose writable.close() closes the whole socket).
import { WebStreamTransport } from '../../lib/streams/web-stream-transport';
import type { TransportSink } from '../../lib/streams/byte-transport';
import { streamClasses } from '../../lib/streams/stream-classes';

interface Recorded { data: number[][]; events: string[]; errors: string[] }

function recordingSink(): TransportSink & Recorded {
  const r: Recorded = { data: [], events: [], errors: [] };
  return {
    ...r,
    onData: (chunk) => void r.data.push(Array.from(chunk)),
    onEnd: () => void r.events.push('end'),
    onError: (err) => void r.errors.push(err.message),
    onDrain: () => void r.events.push('drain'),
    onClose: () => void r.events.push('close'),
  };
}

/** A socket-like pair: the test feeds the readable and releases each write when it wants. */
function socketPair() {
  const { ReadableStream, WritableStream } = streamClasses();
  let feed!: ReadableStreamDefaultController<Uint8Array>;
  const readable = new ReadableStream<Uint8Array>({ start: (c) => void (feed = c) });
  const writes: { bytes: number[]; done: () => void }[] = [];
  const log: string[] = [];
  const writable = new WritableStream<Uint8Array>({
    write: (chunk) => new Promise<void>((resolve) => writes.push({ bytes: Array.from(chunk), done: resolve })),
    close: () => void log.push('writable closed'),
  });
  return { readable, writable, feed, writes, log };
}

const turns = async (n = 10): Promise<void> => {
  for (let i = 0; i < n; i++) await Promise.resolve();
};

describe('WebStreamTransport ending its write side', () => {
  it('without closeWrite, end() closes the writable once the queued writes are done', async () => {
    const s = socketPair();
    const t = new WebStreamTransport(s.readable, s.writable);
    t.attach(recordingSink());
    t.write([new Uint8Array([1])]);
    t.end();
    await turns();
    expect(s.log).toEqual([]);
    s.writes[0]!.done();
    await turns();
    expect(s.log).toEqual(['writable closed']);
  });

  it('with closeWrite, end() half-closes after every queued write completed, never closes the writable, and keeps reading', async () => {
    const s = socketPair();
    const halfClosed: number[] = [];
    const t = new WebStreamTransport(s.readable, s.writable, { closeWrite: () => void halfClosed.push(s.writes.length) });
    const sink = recordingSink();
    t.attach(sink);
    t.write([new Uint8Array([1]), new Uint8Array([2])]);
    t.end();
    await turns();
    s.writes[0]!.done();
    await turns();
    expect(halfClosed).toEqual([]);
    s.writes[1]!.done();
    await turns();
    expect(halfClosed).toEqual([2]);
    expect(s.log).toEqual([]);
    // The peer's bytes and its FIN still arrive after ours.
    s.feed.enqueue(new Uint8Array([7, 8]));
    s.feed.close();
    await turns();
    expect(sink.data).toEqual([[7, 8]]);
    expect(sink.events).toEqual(['end', 'close']);
    expect(sink.errors).toEqual([]);
  });

  it.each([
    // Deno closes the whole socket once its readable has ended: nothing was lost, every write had completed.
    { outcome: 'is no error after the readable ended (Deno closed the socket with the peer\'s FIN)', readableEnded: true, errors: [], events: ['end', 'close'] },
    { outcome: 'fails the transport with its error while the readable is open', readableEnded: false, errors: ['closeWrite failed'], events: ['close'] },
  ])('a closeWrite that fails $outcome', async ({ readableEnded, errors, events }) => {
    const s = socketPair();
    const t = new WebStreamTransport(s.readable, s.writable, { closeWrite: () => Promise.reject(new Error('closeWrite failed')) });
    const sink = recordingSink();
    t.attach(sink);
    if (readableEnded) s.feed.close();
    await turns();
    t.end();
    await turns();
    expect(sink.errors).toEqual(errors);
    expect(sink.events).toEqual(events);
  });
});
