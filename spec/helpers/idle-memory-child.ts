// Run by spec/streams/idle-memory.spec.ts in a fresh `node --expose-gc` (a heap no other spec
// touched): the heap per idle echo connection (`readable.pipeTo(writable)` started, nothing
// sent), over in-memory transport pairs, transports included.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { connectionPair } = require('./connection-pair') as typeof import('./connection-pair');
import type { Connection } from '../../lib/streams/connection';

const gc = (globalThis as { gc?: () => void }).gc!;

/** A full GC once the current job is over (WeakRef targets live until then). */
async function collect(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  gc();
  gc();
}

function startEcho(conn: Connection): void {
  void conn.readable.pipeTo(conn.writable);
}

void (async () => {
  const n = 500;
  const pairs: unknown[] = [];
  // Warm up: code and shared objects made once are not per-connection.
  for (let i = 0; i < 20; i++) startEcho(connectionPair().server);
  await collect();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < n; i++) {
    const pair = connectionPair();
    startEcho(pair.server);
    startEcho(pair.client);
    pairs.push(pair);
  }
  await collect();
  const perConnection = (process.memoryUsage().heapUsed - before) / (2 * n);
  process.stdout.write(JSON.stringify({ bytes: Math.round(perConnection), pairs: pairs.length }));
})();
