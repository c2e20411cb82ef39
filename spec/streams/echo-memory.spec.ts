import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { ByteTransport, TransportSink } from '../../lib/streams/byte-transport';
import { Connection } from '../../lib/streams/connection';
import { handshakeInfo } from '../helpers/connection-pair';

// What a server connection keeps once it has echoed one message: the state that stays for
// its lifetime (no closures, contexts or object literals built per connection by the send,
// forward and message paths). Measured as the heap per connection over many connections,
// less what the test's own transport stubs take.

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

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

/** "hello" from a client: masked with the key 01 02 03 04. */
const HELLO_FRAME = (() => {
  const text = new TextEncoder().encode('hello');
  const key = [1, 2, 3, 4];
  return Uint8Array.from([0x81, 0x80 | text.length, ...key, ...text.map((b, i) => b ^ key[i % 4]!)]);
})();

async function settled(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
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
  expect(keep.length).toBe(n);
  return (after - before) / n;
}

const N = 2000;
const SERVER = { role: 'server' as const, handshake: handshakeInfo() };

describe('What a connection keeps after echoing one message', () => {
  it('holds at most 2.5 KiB of JS heap, echoing with readable.pipeTo(writable)', async () => {
    const stubs = await heapPerItem(N, async () => new StubTransport());
    const perConnection = await heapPerItem(N, async () => {
      const t = new StubTransport();
      const conn = new Connection(t, SERVER);
      void conn.readable.pipeTo(conn.writable);
      t.sink!.onData(HELLO_FRAME.slice());
      await new Promise((r) => setImmediate(r));
      expect(t.written).toBe(7); // 81 05 "hello": echoed
      return conn;
    });
    expect(perConnection - stubs).toBeLessThanOrEqual(2.5 * 1024);
  });

  it('holds at most 2.5 KiB of JS heap, echoing with nextMessage() and send()', async () => {
    const stubs = await heapPerItem(N, async () => new StubTransport());
    const perConnection = await heapPerItem(N, async () => {
      const t = new StubTransport();
      const conn = new Connection(t, SERVER);
      t.sink!.onData(HELLO_FRAME.slice());
      const msg = (await conn.nextMessage())!;
      await conn.send(await msg.text());
      expect(t.written).toBe(7);
      return conn;
    });
    expect(perConnection - stubs).toBeLessThanOrEqual(2.5 * 1024);
  });
});
