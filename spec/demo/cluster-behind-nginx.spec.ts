import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { get } from 'node:http';
import { connect } from '../../lib/node/client';
import type { Connection } from '../../lib/streams/connection';
import { demoPath, startDemo, stopDemo } from '../helpers/demo-process';
import { startNginx, type Nginx } from '../helpers/nginx';
import { RedisServer } from '../helpers/redis-server';
import { createClient } from 'redis';

// demo/cluster end to end: a real redis-server and a real nginx (demo/cluster/nginx.conf, its
// ports filled in) started here on loopback, demo/cluster/server.mjs with two node:cluster
// workers on one port behind nginx, and clients that connect to nginx only. A message crosses
// processes when a client on one worker receives what was published on the other: the workers
// share nothing but Redis.
//
// A worker answers a subscribe request once Redis has its SUBSCRIBE for the topic's channel
// (RedisTopics.settled()), so a client may publish as soon as every subscriber has its answer.
// The specs check that with Redis too (PUBSUB NUMSUB counts the workers on the channel).

interface Hello { type: 'hello'; worker: number; forwardedFor: string | null }
interface Delivered { type: 'message'; topic: string; text: string; from: number }

const json = async <T>(conn: Connection): Promise<T> => {
  const msg = await conn.nextMessage();
  if (msg === undefined) throw new Error('The connection closed before the next message');
  return JSON.parse(await msg.text()) as T;
};

describe('demo/cluster: node:cluster workers on one port behind nginx, joined through Redis', () => {
  let redis: RedisServer | undefined;
  let cluster: ChildProcess | undefined;
  let nginx: Nginx | undefined;
  let url: string;
  const open: Connection[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
    const started = await startDemo(demoPath('cluster', 'server.mjs'), ['--workers', '2'], { REDIS_URL: redis.url });
    cluster = started.child;
    nginx = await startNginx(Number(new URL(started.url).port));
    url = `ws://127.0.0.1:${nginx.port}`;
  });
  afterAll(async () => {
    await Promise.all(open.map((c) => c.close(1000)));
    await nginx?.stop();
    if (cluster) await stopDemo(cluster);
    await redis?.stop();
  });

  /** How many processes have the topic's channel subscribed on Redis now (PUBSUB NUMSUB). */
  const channelSubscribers = async (topic: string): Promise<number> => {
    const client = createClient({ url: redis!.url });
    await client.connect();
    try {
      const channel = `cluster-demo:${topic}`;
      return (await client.pubSubNumSub(channel))[channel] ?? 0;
    } finally {
      await client.close();
    }
  };

  /** Connects through nginx until clients sit on two different workers (bounded: 20 connections). */
  const clientsOnTwoWorkers = async (): Promise<Array<{ conn: Connection; hello: Hello }>> => {
    const clients: Array<{ conn: Connection; hello: Hello }> = [];
    for (let i = 0; i < 20 && new Set(clients.map((c) => c.hello.worker)).size < 2; i++) {
      const conn = await connect(url);
      open.push(conn);
      clients.push({ conn, hello: await json<Hello>(conn) });
    }
    return clients;
  };

  it('spreads clients connecting through nginx over both workers, and each worker sees nginx as the proxy', async () => {
    const clients = await clientsOnTwoWorkers();
    expect(new Set(clients.map((c) => c.hello.worker)).size).toBe(2);
    // nginx adds X-Forwarded-For (proxy_set_header in nginx.conf): the upgrade went through it.
    for (const c of clients) expect(c.hello.forwardedFor).toBe('127.0.0.1');
  });

  it('delivers every message published on one worker to subscribers on both workers, all of them, in order', async () => {
    const clients = await clientsOnTwoWorkers();
    // Every client subscribes, the publisher too: subscribers on the publisher's worker get its
    // messages locally, those on the other worker only through Redis.
    const publisher = clients[0]!;
    const subscribers = clients;
    const topic = `room:${process.pid}`;
    for (const s of subscribers) {
      await s.conn.send(JSON.stringify({ type: 'subscribe', topic }));
      expect(await json<{ type: string; topic: string }>(s.conn)).toEqual({ type: 'subscribed', topic });
    }
    // Every subscribe was answered: both workers have the channel on Redis already.
    expect(await channelSubscribers(topic)).toBe(2);
    const count = 50;
    for (let i = 0; i < count; i++) await publisher.conn.send(JSON.stringify({ type: 'publish', topic, text: `m${i}` }));
    for (const s of subscribers) {
      const got: Delivered[] = [];
      while (got.length < count) got.push(await json<Delivered>(s.conn));
      expect(got.map((m) => m.text)).toEqual(Array.from({ length: count }, (_, i) => `m${i}`));
      expect(new Set(got.map((m) => m.from))).toEqual(new Set([publisher.hello.worker]));
    }
    expect(subscribers.some((s) => s.hello.worker !== publisher.hello.worker)).toBe(true);
  });

  it('runs demo/cluster/client.mjs through nginx: every client gets every message, across processes', async () => {
    const child = spawn(process.execPath, [demoPath('cluster', 'client.mjs'), url, '--clients', '4', '--messages', '5'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(out).toContain('ok: every client got every message, in order, across processes');
    expect(code).toBe(0);
    // 4 clients × 5 messages each, every one delivered to every client.
    expect(out.match(/received 20 messages/g)).toHaveLength(4);
  });

  it('passes a plain HTTP request through nginx to a worker, which answers 426 Upgrade Required', async () => {
    const status = await new Promise<number | undefined>((resolve, reject) => {
      get(`http://127.0.0.1:${nginx!.port}/`, (res) => {
        res.resume();
        resolve(res.statusCode);
      }).once('error', reject);
    });
    expect(status).toBe(426);
  });
});
