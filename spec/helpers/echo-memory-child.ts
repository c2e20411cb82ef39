// Run by spec/streams/echo-memory.spec.ts in a fresh `node --expose-gc` (a heap no other spec
// touched): the JS heap a server connection keeps after echoing one message, per connection.
// argv: 'pipe' | 'send', [ponyfill]
import type { ByteTransport, TransportSink } from '../../lib/streams/byte-transport';

const mode = process.argv[2] === 'send' ? 'send' : 'pipe';
if (process.argv[3] === 'ponyfill') {
  // As spec/setup/force-ponyfill.ts does for the ponyfill project.
  const g = globalThis as Record<string, unknown>;
  for (const name of ['ReadableStream', 'WritableStream', 'TransformStream']) delete g[name];
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ponyfill = require('web-streams-polyfill') as typeof import('web-streams-polyfill');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { useStreamClasses } = require('../../lib/streams/stream-classes') as typeof import('../../lib/streams/stream-classes');
  useStreamClasses({
    ReadableStream: ponyfill.ReadableStream as unknown as typeof ReadableStream,
    WritableStream: ponyfill.WritableStream as unknown as typeof WritableStream,
    TransformStream: ponyfill.TransformStream as unknown as typeof TransformStream,
  });
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Connection } = require('../../lib/streams/connection') as typeof import('../../lib/streams/connection');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handshakeInfo } = require('./connection-pair') as typeof import('./connection-pair');
const gc = (globalThis as { gc?: () => void }).gc!;

/** The smallest transport: it keeps its sink and counts what it was asked to write. */
class StubTransport implements ByteTransport {
  sink: TransportSink | undefined;
  written = 0;
  attach(sink: TransportSink): void {
    this.sink = sink;
  }
  pause(): void {}
  resume(): void {}
  write(chunks: readonly Uint8Array[]): boolean {
    for (const c of chunks) this.written += c.length;
    return true;
  }
  get bufferedAmount(): number {
    return 0;
  }
  end(): void {}
  destroy(): void {}
}

/** "hello" from a client, masked with the key 01 02 03 04. */
const HELLO_FRAME = (() => {
  const text = new TextEncoder().encode('hello');
  const key = [1, 2, 3, 4];
  return Uint8Array.from([0x81, 0x80 | text.length, ...key, ...text.map((b, i) => b ^ key[i % 4]!)]);
})();
const SERVER = { role: 'server' as const, handshake: handshakeInfo() };
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

async function settled(): Promise<void> {
  for (let i = 0; i < 3; i++) await turn();
  gc();
  gc();
}

async function heapPerItem(n: number, make: () => Promise<unknown>): Promise<number> {
  const keep: unknown[] = new Array(n);
  await settled();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) keep[i] = await make();
  await settled();
  const after = process.memoryUsage().heapUsed;
  if (keep.length !== n) throw new Error('lost');
  return (after - before) / n;
}

async function echoOnce(): Promise<unknown> {
  const t = new StubTransport();
  const conn = new Connection(t, SERVER);
  if (mode === 'pipe') {
    void conn.readable.pipeTo(conn.writable);
    t.sink!.onData(HELLO_FRAME.slice());
    await turn();
  } else {
    t.sink!.onData(HELLO_FRAME.slice());
    const msg = (await conn.nextMessage())!;
    await conn.send(await msg.text());
  }
  if (t.written !== 7) throw new Error(`not echoed: ${t.written} bytes written`); // 81 05 "hello"
  return conn;
}

void (async () => {
  const N = 2000;
  await heapPerItem(200, echoOnce); // warm up: compiled code and feedback are not per connection
  const stubs = await heapPerItem(N, async () => new StubTransport());
  const perConnection = await heapPerItem(N, echoOnce);
  process.stdout.write(JSON.stringify({ bytes: Math.round(perConnection - stubs) }));
})();
