// The two node-redis connections of a RedisTopics: one publishes, one subscribes (a
// connection in subscriber mode can send nothing but (UN)SUBSCRIBE and PING). Neither queues
// commands while cut off, and both retry a lost connection with growing waits.
// `redis` is loaded here, on first use, not when the entry is imported: `Topics` alone works
// without the package installed.
import type { RedisClientType } from 'redis';

/** @internal A node-redis client as `createClient()` makes it (default modules, RESP3). */
export type RedisClient = RedisClientType<{}, {}, {}, 3, {}>;

const FIRST_RECONNECT_DELAY = 50;

/** @internal How to reach Redis. */
export interface RedisPairOptions {
  readonly url: string;
  readonly connectTimeout: number;
  readonly maxReconnectDelay: number;
}

/** @internal Two clients, not yet connected; `connect()` connects both or neither. */
export interface RedisPair {
  readonly publisher: RedisClient;
  readonly subscriber: RedisClient;
  connect(): Promise<void>;
}

/** @internal */
export async function createRedisPair(options: RedisPairOptions): Promise<RedisPair> {
  let createClient: typeof import('redis').createClient;
  try {
    ({ createClient } = await import('redis'));
  } catch (err) {
    throw new Error(`RedisTopics needs the redis package (npm install redis): ${(err as Error).message}`, { cause: err });
  }
  // Until the first connection is made, a failure ends connect() (reconnectStrategy returns
  // it); from then on a lost connection is retried, waits doubling from 50 ms to the maximum.
  let connected = false;
  const clientOptions = {
    url: options.url,
    // A command while cut off fails at once instead of waiting in an unbounded queue.
    disableOfflineQueue: true,
    socket: {
      connectTimeout: options.connectTimeout,
      // A fresh Error of this realm: the client checks `instanceof Error`, which a socket
      // error made by Node's core fails where the client runs in a vm context (jest).
      reconnectStrategy: (retries: number, cause: Error) => (connected
        ? Math.min(options.maxReconnectDelay, FIRST_RECONNECT_DELAY * 2 ** Math.min(retries, 16))
        : new Error(cause.message, { cause })),
    },
  };
  const publisher = createClient(clientOptions);
  const subscriber = createClient(clientOptions);
  // An error emitted by a client without an 'error' listener would end the process.
  publisher.on('error', () => {});
  subscriber.on('error', () => {});
  return {
    publisher,
    subscriber,
    async connect() {
      try {
        await Promise.all([publisher.connect(), subscriber.connect()]);
      } catch (err) {
        publisher.destroy();
        subscriber.destroy();
        throw new Error(`Cannot connect to Redis at ${options.url}: ${(err as Error).message}`, { cause: err });
      }
      connected = true;
    },
  };
}
