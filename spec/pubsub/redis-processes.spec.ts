// RedisTopics across real processes: two and three child processes, each a real `serve()`
// server on one redis-server, with ws clients on each. Every message reaches every subscriber
// exactly once, in order per publisher; Redis killed and restarted while they publish: local
// delivery goes on, every message is either received or counted as missed by the receiver
// (and as lost by its publisher), and delivery resumes; a subscriber that stops reading
// does not hold up the others, and what is queued for it stays bounded.
import { PubSubProcess } from '../helpers/pubsub-process';
import { RecordingClient, type Received } from '../helpers/recording-ws-client';
import { RedisServer } from '../helpers/redis-server';

let redis: RedisServer | undefined;
let processes: PubSubProcess[] = [];
let clients: RecordingClient[] = [];

afterEach(async () => {
  for (const c of clients) c.ws.terminate();
  clients = [];
  await Promise.all(processes.map((p) => p.stop()));
  processes = [];
  await redis?.stop();
  redis = undefined;
});

/** Starts redis-server and `names.length` server processes on it. */
async function startCluster(names: string[], env: Record<string, string> = {}): Promise<PubSubProcess[]> {
  redis = await RedisServer.start();
  const url = redis.url;
  processes = await Promise.all(names.map((n) => PubSubProcess.start(n, url, env)));
  return processes;
}

async function clientsOn(p: PubSubProcess, path: string, n: number): Promise<RecordingClient[]> {
  const opened: RecordingClient[] = [];
  for (let i = 0; i < n; i++) {
    const c = new RecordingClient(p.url + path);
    clients.push(c);
    await c.opened();
    opened.push(c);
  }
  return opened;
}

/** Who published a message and its index, from `<name>:<index>` (text) or name byte + u32 (binary). */
function origin(m: Received): { from: string; index: number } {
  if (m.binary) return { from: String.fromCharCode(m.data[0]!), index: m.data.readUInt32BE(1) };
  const [from, index] = m.data.toString('utf8').split(':');
  return { from: from!, index: Number(index) };
}

/** The indexes a client received from each publisher, in the order received. */
function byPublisher(c: RecordingClient): Map<string, number[]> {
  const map = new Map<string, number[]>();
  for (const m of c.messages) {
    const { from, index } = origin(m);
    map.set(from, [...(map.get(from) ?? []), index]);
  }
  return map;
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

/** Resolves once `c` has received message `index` of `from` (messages arrive in order per publisher). */
async function receivedUpTo(c: RecordingClient, from: string, index: number): Promise<void> {
  for (let n = 1; ; n++) {
    await c.received(n);
    const o = origin(c.messages[n - 1]!);
    if (o.from === from && o.index >= index) return;
  }
}

describe('RedisTopics across processes (real redis-server, real servers)', () => {
  it.each([[2], [3]])('%i server processes: every message reaches every subscriber exactly once, in order per publisher', async (count) => {
    const names = ['A', 'B', 'C'].slice(0, count);
    const procs = await startCluster(names);
    const perProcess = await Promise.all(procs.map((p) => clientsOn(p, '/chat', 2)));
    await Promise.all(procs.map((p) => p.request({ cmd: 'settled' })));
    const n = 300;
    // All publish at once: their messages interleave on Redis and in each process.
    const reports = await Promise.all(procs.map((p) => p.request({ cmd: 'publish', topic: 'chat', count: n })));
    for (const r of reports) expect(r.stats).toMatchObject({ published: n, forwarded: n, lostWhilePublishing: 0 });
    const all = perProcess.flat();
    await Promise.all(all.map((c) => c.received(count * n)));
    for (const c of all) {
      const seen = byPublisher(c);
      expect([...seen.keys()].sort()).toEqual(names);
      for (const name of names) expect(seen.get(name)).toEqual(range(0, n));
    }
    // Exactly once: a marker from each is the next thing every client gets.
    await Promise.all(procs.map((p) => p.request({ cmd: 'publish', topic: 'chat', count: 1 })));
    await Promise.all(all.map((c) => c.received(count * (n + 1))));
    for (const c of all) expect(c.messages).toHaveLength(count * (n + 1));
    for (const p of procs) {
      const r = await p.request({ cmd: 'report' });
      expect(r.stats).toMatchObject({ received: (count - 1) * (n + 1), missed: 0, gaps: 0, malformed: 0 });
    }
  }, 120_000);

  it('Redis killed and restarted while three processes publish: local delivery goes on, the gap is counted, delivery resumes', async () => {
    const names = ['A', 'B', 'C'];
    const procs = await startCluster(names);
    const perProcess = await Promise.all(procs.map((p) => clientsOn(p, '/live', 1)));
    const all = perProcess.flat();
    await Promise.all(procs.map((p) => p.request({ cmd: 'settled' })));
    await Promise.all(procs.map((p) => p.request({ cmd: 'stream-start', topic: 'live', max: 100_000 })));
    /** Resolves once every client has received `k` more messages from each publisher in `from` than it had. */
    const progress = async (k: number, from: (client: number) => string[]): Promise<void> => {
      const base = all.map((c) => byPublisher(c));
      await Promise.all(all.map(async (c, i) => {
        for (const name of from(i)) await receivedUpTo(c, name, (base[i]!.get(name)?.at(-1) ?? -1) + k);
      }));
    };
    await progress(20, () => names);
    await redis!.kill();
    await Promise.all(procs.map((p) => p.status('disconnected', 1)));
    // Cut off from Redis: each process still delivers its own messages to its own clients.
    await progress(20, (i) => [names[i]!]);
    await redis!.restart();
    await Promise.all(procs.map((p) => p.status('reconnected', 1)));
    // Delivery across processes resumes while they keep publishing.
    await progress(20, () => names);
    const reports = await Promise.all(procs.map((p) => p.request({ cmd: 'stream-stop' })));
    const published = new Map(names.map((name, i) => [name, reports[i]!.published]));
    // Wait for every publisher's last message everywhere (all are connected by now).
    await Promise.all(all.map(async (c) => {
      for (const name of names) await receivedUpTo(c, name, published.get(name)! - 1);
    }));
    const final = await Promise.all(procs.map((p) => p.request({ cmd: 'report' })));
    for (const [i, name] of names.entries()) {
      const r = final[i]!;
      // Every publish was delivered locally; each either went to Redis or was counted as lost.
      expect(r.stats.forwarded + r.stats.lostWhilePublishing + r.stats.lostToBacklog).toBe(r.published);
      expect(r.stats.lostWhilePublishing).toBeGreaterThan(0);
      expect(r.stats.reconnects).toBe(1);
      const seen = byPublisher(all[i]!);
      expect(seen.get(name)).toEqual(range(0, r.published));
      for (const other of names.filter((x) => x !== name)) {
        const got = seen.get(other)!;
        // In order, each at most once, and every message not received is counted as missed.
        expect(got.every((v, k) => k === 0 || v > got[k - 1]!)).toBe(true);
        const otherId = procs[names.indexOf(other)]!.publisherId;
        const missed = r.gaps.filter((g) => g.publisher === otherId).reduce((sum, g) => sum + g.missed, 0);
        expect(missed).toBeGreaterThan(0);
        expect(got.length + missed).toBe(published.get(other));
      }
      expect(r.stats.missed).toBe(r.gaps.reduce((sum, g) => sum + g.missed, 0));
    }
  }, 120_000);

  it('a subscriber that stops reading does not hold up the others, and what is queued for it stays bounded', async () => {
    const maxBuffered = 256 * 1024;
    const procs = await startCluster(['A', 'B'], { PUBSUB_MAX_BUFFERED: String(maxBuffered) });
    const [healthyA, stalledA] = await clientsOn(procs[0]!, '/feed', 2);
    const [healthyB] = await clientsOn(procs[1]!, '/feed', 1);
    await Promise.all(procs.map((p) => p.request({ cmd: 'settled' })));
    stalledA!.socket.pause();
    const size = 64 * 1024;
    const n = 300; // 300 × 64 KiB ≈ 19 MiB: far more than loopback's socket buffers hold
    let peak = 0;
    for (let i = 0; i < n; i++) {
      await procs[1]!.request({ cmd: 'publish', topic: 'feed', count: 1, binary: true, size });
      await Promise.all([healthyA!.received(i + 1), healthyB!.received(i + 1)]);
      peak = Math.max(peak, (await procs[0]!.request({ cmd: 'report' })).maxBuffered);
    }
    for (const c of [healthyA!, healthyB!]) {
      expect(c.messages.map((m) => origin(m).index)).toEqual(range(0, n));
      expect(c.messages.every((m) => m.binary && m.data.length === size)).toBe(true);
    }
    const a = await procs[0]!.request({ cmd: 'report' });
    expect(a.stats.received).toBe(n);
    expect(a.stats.skipped).toBeGreaterThan(0);
    // Never more than maxBuffered plus one message queued in process A for the stalled client.
    expect(peak).toBeLessThanOrEqual(maxBuffered + size + 10);
  }, 120_000);
});
