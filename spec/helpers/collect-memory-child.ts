// Run by spec/streams/collect-memory.spec.ts in a process of its own (`node --expose-gc`):
// receives one large client message on a server Connection and reads it with `bytes()`,
// recording the growth of memory above what was in use before the message arrived.
import { Connection } from '../../lib/streams/connection';
import type { ByteTransport, TransportSink } from '../../lib/streams/byte-transport';
import { handshakeInfo } from './connection-pair';

export interface CollectMemoryResult {
  size: number;
  /** Peak growth of `process.memoryUsage().arrayBuffers` while the message came in, in bytes. */
  arrayBuffers: number;
  /** Peak growth of `external` (ArrayBuffers and other memory held outside V8's heap). */
  external: number;
  /** Peak growth of the resident set size. */
  rss: number;
  /** The message came out intact. */
  intact: boolean;
  /** Byte length of the ArrayBuffer under the result (a collector that over-allocated leaves it larger). */
  resultBufferLength: number;
}

/** A transport the test feeds by hand; what the server writes is dropped. */
class FeedTransport implements ByteTransport {
  sink!: TransportSink;
  paused = false;
  bufferedAmount = 0;
  attach(sink: TransportSink): void {
    this.sink = sink;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  write(): boolean {
    return true;
  }
  end(): void {}
  destroy(): void {}
}

const gc = (globalThis as { gc?: () => void }).gc;

async function main(): Promise<void> {
  const size = Number(process.argv[2] ?? 64 * 1024 * 1024);
  const chunkSize = Number(process.argv[3] ?? 64 * 1024);
  // As the Node adapter passes it (lib/node/unzeroed.ts), without loading the adapter.
  const allocUnsafe = process.argv[4] === 'unzeroed' ? (n: number) => new Uint8Array(Buffer.allocUnsafeSlow(n).buffer, 0, n) : undefined;
  if (gc === undefined) throw new Error('run with --expose-gc');

  // The wire bytes, built before measuring: one masked client frame carrying `size` bytes.
  const key = new Uint8Array([0x12, 0x34, 0x56, 0x78]);
  const header = new Uint8Array(14);
  header[0] = 0x82;
  header[1] = 0x80 | 127;
  new DataView(header.buffer).setUint32(6, size);
  header.set(key, 10);
  const wire = new Uint8Array(size);
  for (let i = 0; i < size; i++) wire[i] = ((i * 131) & 0xff) ^ key[i & 3]!;

  const transport = new FeedTransport();
  const server = new Connection(transport, {
    role: 'server',
    handshake: handshakeInfo(),
    options: { maxMessageSize: size, maxFrameSize: size },
    runtime: { allocUnsafe },
  });
  transport.sink.onData(header.slice());
  const msg = (await server.nextMessage())!;
  gc();
  gc();
  const base = process.memoryUsage();
  const peak = { arrayBuffers: 0, external: 0, rss: 0 };
  const sample = (): void => {
    const m = process.memoryUsage();
    peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers - base.arrayBuffers);
    peak.external = Math.max(peak.external, m.external - base.external);
    peak.rss = Math.max(peak.rss, m.rss - base.rss);
  };
  const collected = msg.bytes();
  // Views of the prepared bytes: feeding allocates no ArrayBuffer of its own.
  for (let at = 0; at < size; at += chunkSize) {
    if (transport.paused) throw new Error('the collector stopped reading');
    transport.sink.onData(wire.subarray(at, Math.min(size, at + chunkSize)));
    sample();
  }
  const out = await collected;
  sample();
  let intact = out.length === size;
  for (let i = 0; intact && i < size; i += 4099) intact = out[i] === ((i * 131) & 0xff);
  const result: CollectMemoryResult = { size, ...peak, intact, resultBufferLength: out.buffer.byteLength };
  process.stdout.write(JSON.stringify(result));
}

void main().catch((err: unknown) => {
  process.stderr.write(String(err instanceof Error ? err.stack : err));
  process.exitCode = 1;
});
