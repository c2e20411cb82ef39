// One server process of the multi-process pubsub specs: a real `serve()` server whose
// connections subscribe to the topic their path names, on a RedisTopics bus. The parent
// (spec/helpers/pubsub-process.ts) drives it over IPC: publish, report, close.
// Messages are `<name>:<index>` (text) or, binary, the name's first byte and the index as
// u32 big-endian followed by zeros up to `size`, so receivers can check order per publisher.
import { serve } from '../../lib/node/server';
import { RedisTopics, type RedisGap } from '../../lib/pubsub/redis-topics';
import type { Connection } from '../../lib/streams/connection';

/** What the parent asks; every request gets one reply with its id. */
export type ChildRequest =
  | { id: number; cmd: 'publish'; topic: string; count: number; binary?: boolean; size?: number }
  | { id: number; cmd: 'stream-start'; topic: string; max: number }
  | { id: number; cmd: 'stream-stop' }
  | { id: number; cmd: 'settled' }
  | { id: number; cmd: 'report' }
  | { id: number; cmd: 'close' };

/** What the child reports about itself. */
export interface ChildReport {
  readonly stats: RedisTopics['stats'];
  readonly gaps: RedisGap[];
  /** Messages this process has published so far (the next index). */
  readonly published: number;
  /** The largest `bufferedAmount` of any of its connections. */
  readonly maxBuffered: number;
}

/** Unsolicited messages to the parent. */
export type ChildEvent =
  | { event: 'ready'; url: string; publisherId: string }
  | { event: 'status'; type: 'disconnected' | 'reconnected' };

const name = process.env.PUBSUB_NAME!;
const send = (m: unknown): void => void process.send!(m);

function payload(index: number, binary: boolean, size: number): string | Uint8Array {
  if (!binary) return `${name}:${index}`;
  const bytes = Buffer.alloc(Math.max(size, 5));
  bytes[0] = name.charCodeAt(0);
  bytes.writeUInt32BE(index, 1);
  return bytes;
}

async function main(): Promise<void> {
  const gaps: RedisGap[] = [];
  const bus = await RedisTopics.connect({
    url: process.env.REDIS_URL!,
    maxReconnectDelay: 100,
    delivery: { maxBuffered: Number(process.env.PUBSUB_MAX_BUFFERED ?? 1024 * 1024) },
    onGap: (gap) => gaps.push(gap),
    onStatus: (status) => send({ event: 'status', type: status.type }),
  });
  const conns: Connection[] = [];
  const server = await serve({ host: '127.0.0.1', port: 0 }, (conn) => {
    conns.push(conn);
    const topic = decodeURIComponent(conn.handshake.path.slice(1));
    if (topic !== '') bus.subscribe(conn, topic);
  });
  let next = 0;
  let streaming: Promise<void> | undefined;
  let stop = false;

  const publishOne = async (topic: string, binary = false, size = 0): Promise<void> => {
    await bus.publish(topic, payload(next++, binary, size));
  };
  const report = (): ChildReport => ({
    stats: bus.stats, gaps, published: next, maxBuffered: Math.max(0, ...conns.map((c) => c.bufferedAmount)),
  });

  process.on('message', (req: ChildRequest) => void (async () => {
    switch (req.cmd) {
      case 'publish':
        for (let i = 0; i < req.count; i++) await publishOne(req.topic, req.binary, req.size);
        return report();
      case 'stream-start':
        stop = false;
        // Paced by a 1 ms timer to keep the CPU modest on a shared machine; bounded by `max`.
        streaming = (async () => {
          for (let i = 0; i < req.max && !stop; i++) {
            await publishOne(req.topic);
            await new Promise((resolve) => setTimeout(resolve, 1));
          }
        })();
        return undefined;
      case 'stream-stop':
        stop = true;
        await streaming;
        return report();
      case 'settled':
        await bus.settled();
        return undefined;
      case 'report':
        return report();
      case 'close':
        await server.close();
        await bus.close();
        setImmediate(() => process.exit(0));
        return undefined;
    }
  })().then(
    (result) => send({ id: req.id, result }),
    (err: Error) => send({ id: req.id, error: err.stack ?? String(err) }),
  ));
  // The parent gone (a test run killed): nobody will ask this process to close, so it ends itself.
  process.once('disconnect', () => process.exit(1));
  send({ event: 'ready', url: server.url, publisherId: bus.publisherId });
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? String(err)}\n`);
  process.exit(1);
});
