// Run by spec/streams/ping-flood.spec.ts in a process of its own (`node --expose-gc`): the side
// under test of a ping flood, over real TCP with the Node adapter. As a server (`serve`) it
// prints `listening <port>`; as a client (`connect`) it connects to the port it is given. Its
// connection echoes messages (a consumer that reads) while the peer floods it with pings and
// never reads. Once `count` pings were reported by `onPing` (or the connection ended), it
// prints one JSON line: what memory grew by, and how the connection fared.
import type { Connection } from '../../lib/streams/connection';

export interface PingFloodResult {
  pings: number;
  /** How the connection ended, if it did before all the pings were in. */
  closed: { wasClean: boolean; code: number; reason: string } | undefined;
  /** Growth of heapUsed + arrayBuffers after gc (or of rss without gc), when the last ping was reported. */
  retained: number;
  /** Largest growth of the same measure seen while the pings came in (sampled, no gc). */
  peak: number;
  /** Largest growth of rss seen while the pings came in. */
  peakRss: number;
  measuredWith: 'gc' | 'rss';
  bufferedAmount: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

function used(): number {
  const m = process.memoryUsage();
  return gc ? m.heapUsed + m.arrayBuffers : m.rss;
}

function settledUsage(): number {
  gc?.();
  gc?.();
  return used();
}

function watch(conn: Connection, count: number): void {
  const base = settledUsage();
  const baseRss = process.memoryUsage().rss;
  let peak = 0;
  let peakRss = 0;
  let pings = 0;
  let done = false;
  const sample = (): void => {
    peak = Math.max(peak, used() - base);
    peakRss = Math.max(peakRss, process.memoryUsage().rss - baseRss);
  };
  const finish = (closed: PingFloodResult['closed']): void => {
    if (done) return;
    done = true;
    sample();
    const result: PingFloodResult = {
      pings, closed, retained: settledUsage() - base, peak, peakRss, measuredWith: gc ? 'gc' : 'rss', bufferedAmount: conn.bufferedAmount,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    void conn.close(1000).catch(() => undefined);
  };
  conn.onPing = () => {
    if (++pings % 16_384 === 0) sample();
    if (pings === count) finish(undefined);
  };
  void conn.closed.then((info) => finish(info));
  // An ordinary consumer: it reads (and echoes) messages; the flood has none.
  void (async () => {
    for await (const msg of conn) await conn.send(msg);
  })().catch(() => undefined);
}

async function main(): Promise<void> {
  const [role, countArg, portArg] = process.argv.slice(2);
  const count = Number(countArg);
  if (role === 'server') {
    const { serve } = await import('../../lib/node/server');
    const server = await serve({ host: '127.0.0.1', port: 0 }, (conn) => watch(conn, count));
    process.stdout.write(`listening ${server.port}\n`);
    process.stdin.resume();
    process.stdin.on('end', () => void server.close().then(() => process.exit(0)));
  } else {
    const { connect } = await import('../../lib/node/client');
    const conn = await connect(`ws://127.0.0.1:${portArg}/`);
    watch(conn, count);
    process.stdin.resume();
    process.stdin.on('end', () => process.exit(0));
  }
}

void main().catch((err: unknown) => {
  process.stderr.write(String(err instanceof Error ? err.stack : err));
  process.exit(1);
});
