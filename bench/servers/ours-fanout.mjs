// Fan-out server: every connection on /sub is subscribed to one topic, and every message a
// connection on /pub sends is published to it, unchanged (binary). With REDIS_URL the topic goes
// through Redis (RedisTopics), so the subscribers of every server process of the run get it;
// without, through this process's Topics only. Run one per process; the runner (bench/fanout.mjs)
// reads each one's CPU time over IPC (common.mjs).
import { lifecycle, listening } from './common.mjs';
import { loadEntry, loadOurs, portOf } from './ours-lib.mjs';

const TOPIC = 'fanout';
lifecycle();
const { serve } = await loadOurs('serve');
const { Topics, RedisTopics } = await loadEntry('pubsub', ['Topics', 'RedisTopics']);
const redisUrl = process.env.REDIS_URL;
const bus = redisUrl ? await RedisTopics.connect({ url: redisUrl, prefix: 'bench-fanout:' }) : new Topics();
const server = await serve({ host: '127.0.0.1', port: 0 }, async (conn) => {
  if (conn.handshake.path !== '/pub') {
    bus.subscribe(conn, TOPIC);
    return;
  }
  // In order: the publisher's order is every subscriber's order. A publish is not awaited:
  // awaiting Redis's answer to each would cap a publisher at one message per round trip to
  // Redis; RedisTopics sends them in order on one connection, and bounds what waits for
  // Redis (maxPendingBytes; a message over it would be missing, and the run fail).
  for await (const msg of conn) void bus.publish(TOPIC, await msg.bytes());
});
listening(portOf(server));
