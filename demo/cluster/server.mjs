// Many processes on one port: node:cluster forks one worker per core, every worker serve()s on
// the same port (the primary accepts and hands each connection to a worker in turn), and a
// Redis bus (RedisTopics) carries what one worker publishes to the subscribers of all of them.
// Put nginx in front (demo/cluster/nginx.conf) and clients see one address.
//
//   REDIS_URL=redis://127.0.0.1:6379 PORT=9000 node demo/cluster/server.mjs [--workers N]
//
// JSON text messages:
//   server → client, first:  {"type":"hello","worker":<pid>,"forwardedFor":"<X-Forwarded-For or null>"}
//   client → server:         {"type":"subscribe","topic":"room:1"}   answered {"type":"subscribed","topic":"room:1"}
//                                                                    once messages from every worker reach it
//                            {"type":"unsubscribe","topic":"room:1"} answered {"type":"unsubscribed","topic":"room:1"}
//                            {"type":"publish","topic":"room:1","text":"hi"}
//   server → subscribers:    {"type":"message","topic":"room:1","text":"hi","from":<pid of the worker it was published on>}
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';

const { values: args } = parseArgs({ options: { workers: { type: 'string' } } });
const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 9000);
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

if (cluster.isPrimary) await runPrimary(Number(args.workers ?? availableParallelism()));
else await runWorker();

/** Forks the workers, says where they listen once all do, and stops them on SIGTERM/SIGINT. */
async function runPrimary(count) {
  if (!(count >= 1 && Number.isInteger(count))) throw new RangeError(`--workers takes a whole number ≥ 1, got ${args.workers}`);
  let stopping = false;
  let listening = 0;
  cluster.on('listening', (worker, address) => {
    // Workers that listen on port 0 share the one port the first of them got (node:cluster
    // keys the shared handle by address and port), so every worker reports the same port.
    if (++listening === count) console.log(`listening on ws://${host}:${address.port} (${count} workers, primary ${process.pid})`);
  });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    if (listening < count) {
      // A worker that dies before it listens (Redis unreachable, port taken) would die again.
      console.error(`worker ${worker.process.pid} exited (${signal ?? code}) before listening`);
      stop(1);
      return;
    }
    console.error(`worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
    cluster.fork();
  });
  const stop = (code) => {
    if (stopping) return;
    stopping = true;
    const workers = Object.values(cluster.workers ?? {});
    let left = workers.length;
    if (left === 0) process.exit(code);
    for (const w of workers) {
      w.once('exit', () => { if (--left === 0) process.exit(code); });
      w.process.kill('SIGTERM');
    }
  };
  process.on('SIGTERM', () => stop(0));
  process.on('SIGINT', () => stop(0));
  for (let i = 0; i < count; i++) cluster.fork();
}

/** One worker: the WebSocket server on the shared port, and its connection to the Redis bus. */
async function runWorker() {
  const { serve } = await import('../../dist/node.mjs');
  const { RedisTopics } = await import('../../dist/pubsub.mjs');
  const bus = await RedisTopics.connect({ url: redisUrl, prefix: 'cluster-demo:' });
  const server = await serve({ host, port }, async (conn) => {
    await conn.send(JSON.stringify({ type: 'hello', worker: process.pid, forwardedFor: conn.handshake.requestHeaders['x-forwarded-for'] ?? null }));
    for await (const msg of conn) {
      if (msg.type !== 'text') continue;
      let m;
      try {
        m = JSON.parse(await msg.text());
      } catch {
        await conn.close(1007, 'Messages are JSON');
        return;
      }
      if (typeof m?.topic !== 'string') continue;
      if (m.type === 'subscribe') {
        // The topic's first subscriber here makes this worker SUBSCRIBE its Redis channel, a
        // round trip to Redis: the answer waits for it (settled()), so that from the answer on,
        // what other workers publish reaches this client. A subscriber leaves every topic when
        // its connection closes.
        bus.subscribe(conn, m.topic);
        await bus.settled();
        await conn.send(JSON.stringify({ type: 'subscribed', topic: m.topic }));
      } else if (m.type === 'unsubscribe') {
        bus.unsubscribe(conn, m.topic);
        await conn.send(JSON.stringify({ type: 'unsubscribed', topic: m.topic }));
      } else if (m.type === 'publish') {
        await bus.publish(m.topic, JSON.stringify({ type: 'message', topic: m.topic, text: String(m.text), from: process.pid }));
      }
    }
  });
  process.on('SIGTERM', async () => {
    await server.close(); // 1001 to every connection
    await bus.close();
    process.exit(0);
  });
}
