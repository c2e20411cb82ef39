// RedisTopics against a real redis-server, two buses in one process (each its own publisher,
// as two processes would be; spec/pubsub/redis-processes.spec.ts runs real processes): text
// and binary payloads cross unchanged and reach each subscriber exactly once; channels follow
// the local subscribers; foreign messages are counted and ignored; when Redis is lost, local
// delivery goes on, publishes are counted as lost, the bus reconnects and the receivers count
// the gap; the pending bytes are bounded; bad options get clear errors.
import { createHash } from 'node:crypto';
import { createClient } from 'redis';
import { Topics } from '../../lib/pubsub/topics';
import { RedisTopics, type RedisGap, type RedisStatus, type RedisTopicsOptions } from '../../lib/pubsub/redis-topics';
import { RedisServer } from '../helpers/redis-server';
import type { RecordingClient } from '../helpers/recording-ws-client';
import { startTopicServer, type TopicServer } from '../helpers/topic-server';

/** A bus with a topic server, recording its gaps and status changes, with waits on them. */
interface Node {
  readonly bus: RedisTopics;
  readonly ts: TopicServer;
  readonly gaps: RedisGap[];
  readonly statuses: RedisStatus[];
  /** Resolves once a status of this type has been reported `n` times in all. */
  status(type: RedisStatus['type'], n: number): Promise<void>;
}

let redis: RedisServer;
const nodes: Node[] = [];
const clients: RecordingClient[] = [];

beforeAll(async () => {
  redis = await RedisServer.start();
});

afterEach(async () => {
  for (const n of nodes.splice(0)) {
    await n.ts.close(clients.splice(0));
    await n.bus.close();
  }
  if (!redis.running) await redis.restart();
});

afterAll(async () => {
  await redis?.stop();
});

async function startNode(options: Partial<RedisTopicsOptions> = {}): Promise<Node> {
  const gaps: RedisGap[] = [];
  const statuses: RedisStatus[] = [];
  const waiters: Array<() => void> = [];
  const bus = await RedisTopics.connect({
    url: redis.url,
    maxReconnectDelay: 100,
    onGap: (gap) => gaps.push(gap),
    onStatus: (s) => {
      statuses.push(s);
      for (const w of waiters.splice(0)) w();
    },
    ...options,
  });
  const ts = await startTopicServer((conn, topic) => bus.subscribe(conn, topic));
  const status = async (type: RedisStatus['type'], n: number): Promise<void> => {
    while (statuses.filter((s) => s.type === type).length < n) await new Promise<void>((resolve) => waiters.push(resolve));
  };
  const node = { bus, ts, gaps, statuses, status };
  nodes.push(node);
  return node;
}

async function clientsOf(node: Node, paths: string[]): Promise<RecordingClient[]> {
  const opened = await node.ts.clients(paths);
  clients.push(...opened);
  return opened;
}

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

/** A plain Redis connection of the test's own, to look at and write to the channels directly. */
async function inspector() {
  const client = createClient({ url: redis.url });
  client.on('error', () => {});
  await client.connect();
  return Object.assign(client, { [Symbol.asyncDispose]: async () => void client.destroy() });
}

describe('RedisTopics (real redis-server)', () => {
  it('delivers text and binary payloads unchanged to every subscriber of both processes, each exactly once', async () => {
    const a = await startNode();
    const b = await startNode();
    const [a1, a2] = await clientsOf(a, ['/room', '/room']);
    const [b1] = await clientsOf(b, ['/room']);
    await Promise.all([a.bus.settled(), b.bus.settled()]);
    const random = crypto.getRandomValues(new Uint8Array(65536));
    const big = Buffer.concat(Array.from({ length: 16 }, () => random)); // 1 MiB
    const payloads: Array<string | Uint8Array> = [
      Uint8Array.from({ length: 256 }, (_, i) => i), new Uint8Array(0), '', 'héllo ✓ 😀 \u0000 end', '\uFEFFstarts with a BOM', big,
    ];
    for (const p of payloads) {
      const r = await a.bus.publish('room', p);
      expect(r).toMatchObject({ sent: 2, forwarded: true, redisSubscribers: 2 });
    }
    // Order holds per publisher: b publishes once it has received a's messages, so they come first everywhere.
    await b1!.received(payloads.length);
    expect(await b.bus.publish('room', 'from b')).toMatchObject({ sent: 1, forwarded: true });
    const expected = [...payloads, 'from b'];
    await Promise.all([a1!, a2!, b1!].map((c) => c.received(expected.length)));
    for (const c of [a1!, a2!, b1!]) {
      expect(c.messages.map((m) => m.binary)).toEqual(expected.map((p) => typeof p !== 'string'));
      // Compared as digests: jest's deep equality walks a 1 MiB buffer byte by byte, for seconds.
      expect(c.messages.map((m) => sha256(m.data))).toEqual(expected.map((p) => sha256(typeof p === 'string' ? Buffer.from(p, 'utf8') : p)));
    }
    // Nothing after the last: a marker published now is the next message everyone gets.
    await b.bus.publish('room', 'marker');
    await Promise.all([a1!, a2!, b1!].map((c) => c.received(expected.length + 1)));
    for (const c of [a1!, a2!, b1!]) expect(c.messages).toHaveLength(expected.length + 1);
    expect(a.bus.stats).toMatchObject({ published: 6, forwarded: 6, received: 2, missed: 0, malformed: 0, connected: true });
    expect(b.bus.stats).toMatchObject({ published: 2, forwarded: 2, received: 6, missed: 0 });
    expect(a.gaps).toEqual([]);
  }, 60_000);

  it('subscribes a channel with the first local subscriber and unsubscribes it with the last', async () => {
    const a = await startNode({ prefix: 'app1:' });
    await using redisCli = await inspector();
    const numsub = async (): Promise<number> => Number((await redisCli.pubSubNumSub('app1:lobby'))['app1:lobby']);
    const [c1, c2] = await clientsOf(a, ['/lobby', '/lobby']);
    await a.bus.settled();
    expect(await numsub()).toBe(1);
    expect(a.bus.unsubscribe(a.ts.conns[0]!, 'lobby')).toBe(true);
    await a.bus.settled();
    expect(await numsub()).toBe(1);
    c2!.ws.close();
    await a.ts.conns[1]!.closed;
    await a.bus.settled();
    expect(await numsub()).toBe(0);
    expect(a.bus.topics.activeTopics()).toEqual([]);
    // Subscribing again subscribes the channel again.
    expect(a.bus.subscribe(a.ts.conns[0]!, 'lobby')).toBe(true);
    await a.bus.settled();
    expect(await numsub()).toBe(1);
    void c1;
  });

  it('subscribes at connect() the channels of a registry that already has subscribers', async () => {
    const topics = new Topics();
    const ts = await startTopicServer((conn, topic) => topics.subscribe(conn, topic));
    const [early] = await ts.clients(['/early']);
    clients.push(early!);
    const late = await startNode({ topics });
    nodes.push({ ...late, ts }); // so that afterEach closes this server too
    expect(late.bus.topics).toBe(topics);
    const other = await startNode();
    await late.bus.settled();
    expect(await other.bus.publish('early', 'got it')).toMatchObject({ forwarded: true, redisSubscribers: 1 });
    await early!.received(1);
    expect(early!.texts).toEqual(['got it']);
  });

  it('ignores and counts messages on its channels that are not in its format, or are text but not UTF-8', async () => {
    const a = await startNode();
    const b = await startNode();
    const [client] = await clientsOf(b, ['/t']);
    await b.bus.settled();
    await using redisCli = await inspector();
    await redisCli.publish('websocket-streams:t', 'hello from elsewhere');
    const badText = Buffer.from('01010123456789abcdef0000000000000001ff', 'hex');
    await redisCli.publish('websocket-streams:t', badText);
    // Redis passes messages on in the order it ran the PUBLISHes: these come after the two above.
    await a.bus.publish('t', 'valid');
    await client!.received(1);
    expect(client!.texts).toEqual(['valid']);
    expect(b.bus.stats).toMatchObject({ malformed: 2, received: 1, missed: 0 });
  });

  it('keeps delivering locally when Redis is lost, counts what it could not send, reconnects and reports the gap', async () => {
    const a = await startNode();
    const b = await startNode();
    const [aClient] = await clientsOf(a, ['/news']);
    const [bClient] = await clientsOf(b, ['/news']);
    await Promise.all([a.bus.settled(), b.bus.settled()]);
    // Before the outage each hears from the other once: a receiver counts gaps from the first message it saw of a publisher.
    await a.bus.publish('news', 'a1');
    await bClient!.received(1); // order holds per publisher only: b publishes once a1 is in
    await b.bus.publish('news', 'b0');
    await Promise.all([aClient!.received(2), bClient!.received(2)]);
    await redis.kill();
    await Promise.all([a.status('disconnected', 1), b.status('disconnected', 1)]);
    expect(a.bus.stats.connected).toBe(false);
    // Cut off: local subscribers still get every message; nothing is queued for Redis.
    for (const text of ['a2', 'a3', 'a4']) expect(await a.bus.publish('news', text)).toMatchObject({ sent: 1, forwarded: false, redisSubscribers: 0 });
    expect(await b.bus.publish('news', 'b1')).toMatchObject({ sent: 1, forwarded: false });
    await Promise.all([aClient!.received(5), bClient!.received(3)]);
    expect(aClient!.texts).toEqual(['a1', 'b0', 'a2', 'a3', 'a4']);
    expect(bClient!.texts).toEqual(['a1', 'b0', 'b1']);
    await redis.restart();
    await Promise.all([a.status('reconnected', 1), b.status('reconnected', 1)]);
    await Promise.all([a.bus.settled(), b.bus.settled()]);
    expect(a.statuses.map((s) => s.type)).toEqual(['disconnected', 'reconnected']);
    expect(a.statuses[1]).toMatchObject({ lostWhilePublishing: 3 });
    expect(b.statuses[1]).toMatchObject({ lostWhilePublishing: 1 });
    // Delivery resumes; the first message each receives from the other after the outage reveals the gap.
    expect(await a.bus.publish('news', 'a5')).toMatchObject({ forwarded: true, redisSubscribers: 2 });
    await bClient!.received(4);
    expect(await b.bus.publish('news', 'b2')).toMatchObject({ forwarded: true });
    await Promise.all([aClient!.received(7), bClient!.received(5)]);
    expect(aClient!.texts).toEqual(['a1', 'b0', 'a2', 'a3', 'a4', 'a5', 'b2']);
    expect(bClient!.texts).toEqual(['a1', 'b0', 'b1', 'a5', 'b2']);
    expect(b.gaps).toEqual([{ topic: 'news', publisher: a.bus.publisherId, missed: 3, resumedAt: 5 }]);
    expect(a.gaps).toEqual([{ topic: 'news', publisher: b.bus.publisherId, missed: 1, resumedAt: 3 }]);
    expect(a.bus.stats).toMatchObject({ published: 5, forwarded: 2, lostWhilePublishing: 3, received: 2, missed: 1, gaps: 1, reconnects: 1, connected: true });
    expect(b.bus.stats).toMatchObject({ published: 3, forwarded: 2, lostWhilePublishing: 1, received: 2, missed: 3, gaps: 1, reconnects: 1 });
  }, 60_000);

  it('sends nothing to Redis beyond maxPendingBytes waiting for an answer, and counts it', async () => {
    const a = await startNode({ maxPendingBytes: 100 });
    const [client] = await clientsOf(a, ['/q']);
    // Not awaited: the first is waiting for Redis's answer when the second comes.
    const first = a.bus.publish('q', new Uint8Array(60));
    const second = a.bus.publish('q', new Uint8Array(60));
    expect(await first).toMatchObject({ sent: 1, forwarded: true });
    expect(await second).toMatchObject({ sent: 1, forwarded: false });
    expect(a.bus.stats).toMatchObject({ published: 2, forwarded: 1, lostToBacklog: 1 });
    await client!.received(2);
  });

  it('refuses bad options and arguments with clear errors, and fails to connect to a Redis that is not there', async () => {
    await expect(RedisTopics.connect(undefined as unknown as RedisTopicsOptions)).rejects.toThrow(new TypeError('RedisTopics.connect() needs options with a url'));
    await expect(RedisTopics.connect({ url: 'http://127.0.0.1:1' })).rejects.toThrow(new TypeError('url must be a redis:// or rediss:// URL, got "http://127.0.0.1:1"'));
    await expect(RedisTopics.connect({ url: redis.url, maxPendingBytes: 0 })).rejects.toThrow(new RangeError('maxPendingBytes must be a number > 0, got 0'));
    await expect(RedisTopics.connect({ url: redis.url, onGap: 5 as unknown as () => void })).rejects.toThrow(new TypeError('onGap must be a function'));
    await expect(RedisTopics.connect({ url: redis.url, delivery: { whenFull: 'drop' as 'skip' } })).rejects.toThrow(new TypeError("whenFull must be 'skip' or 'close', got drop"));
    const a = await startNode();
    await expect(a.bus.publish('', 'x')).rejects.toThrow(TypeError);
    await expect(a.bus.publish('t', 5 as unknown as string)).rejects.toThrow(TypeError);
    await a.bus.close();
    await expect(a.bus.publish('t', 'x')).rejects.toThrow(new Error('RedisTopics is closed'));
    await expect(a.bus.settled()).rejects.toThrow(new Error('RedisTopics is closed'));
    await redis.kill();
    await expect(RedisTopics.connect({ url: redis.url })).rejects.toThrow(/^Cannot connect to Redis at redis:\/\/127\.0\.0\.1:\d+: /);
  });
});
