// Topics across processes and machines over Redis pub/sub. Each process delivers its own
// publishes to its local subscribers at once (Topics.publish) and PUBLISHes them on the
// topic's Redis channel; every process with local subscribers to a topic SUBSCRIBEs its
// channel and delivers what other processes publish. Redis pub/sub delivers at most once and
// keeps nothing for a subscriber that is away, so losses are counted, never hidden: a publish
// made while cut off is counted as lost on the publishing side, and a sequence number per
// publisher and topic lets receivers count what they missed.
import { broadcast, type BroadcastOptions, type BroadcastResult } from '../streams/broadcast';
import type { BinaryData } from '../streams/outgoing';
import { toBytes } from '../streams/outgoing';
import type { Connection } from '../streams/connection';
import { ChannelSubscriptions } from './channel-subscriptions';
import { createRedisPair, type RedisClient } from './redis-client';
import { PublishedSequences, ReceivedSequences } from './sequences';
import { checkTopic, Topics } from './topics';
import { decodeWireMessage, encodeWireMessage, newPublisherId } from './wire-format';

/** Options of `RedisTopics.connect()`. */
export interface RedisTopicsOptions {
  /** The Redis server, `redis://[[user]:password@]host[:port][/db]` or `rediss://` for TLS. */
  readonly url: string;
  /** The local registry to deliver to and to follow; a new one when left out (`bus.topics`). */
  readonly topics?: Topics;
  /**
   * Put before each topic to make its Redis channel name, so that several applications can
   * share one Redis. Default `'websocket-streams:'`.
   */
  readonly prefix?: string;
  /** How messages from other processes are delivered to local subscribers (`broadcast()` options). Default `{}`. */
  readonly delivery?: BroadcastOptions;
  /**
   * Called when messages of another process were not received (see `RedisGap`). A callback
   * that throws does so as an uncaught exception, as an EventEmitter listener's would, after
   * the message has been delivered.
   */
  readonly onGap?: (gap: RedisGap) => void;
  /** Called when the connection to Redis is lost and when it is back (see `RedisStatus`); a throw is uncaught, as for `onGap`. */
  readonly onStatus?: (status: RedisStatus) => void;
  /** The longest wait between two reconnection attempts, in ms; waits double from 50 ms up to it. Default 2000. */
  readonly maxReconnectDelay?: number;
  /**
   * At most this many bytes of publishes waiting for Redis's answer: a publish beyond it is
   * delivered locally but not sent to Redis, and counted in `stats.lostToBacklog`. It bounds
   * the memory of a publisher that does not await `publish()` while Redis is slow. Default 16 MiB.
   */
  readonly maxPendingBytes?: number;
  /** Topics whose sequence numbers a publisher remembers (the least recently used is forgotten beyond it). Default 65536. */
  readonly maxTrackedTopics?: number;
  /** How long the first connection may take, in ms, before `connect()` fails. Default 5000. */
  readonly connectTimeout?: number;
}

/** Messages of one other process on one topic that this process did not receive, found by a skipped sequence number. */
export interface RedisGap {
  /** The topic. */
  readonly topic: string;
  /** The publishing process's id (16 hex digits; `RedisTopics.publisherId` over there). */
  readonly publisher: string;
  /** How many of its messages were missed. */
  readonly missed: number;
  /** The sequence number of the message received after the gap. */
  readonly resumedAt: number;
}

/**
 * A change of the connection to Redis: `'disconnected'` when it is lost, `'reconnected'` when
 * both Redis connections are back.
 */
export type RedisStatus =
  | {
    /** This process can no longer publish to or receive from other processes; local delivery goes on. */
    readonly type: 'disconnected';
    /** What the Redis client reported, when it reported something. */
    readonly error: Error | undefined;
  }
  | {
    /** Both Redis connections are back and the channels subscribed again. */
    readonly type: 'reconnected';
    /** How long this process was cut off, in ms. */
    readonly outageMs: number;
    /** Publishes of this process not sent to the other processes meanwhile (they are in `stats.lostWhilePublishing` too). */
    readonly lostWhilePublishing: number;
  };

/** What `RedisTopics.publish()` did: the local delivery's counts, and whether Redis took the message. */
export interface PublishResult extends BroadcastResult {
  /** Whether Redis took the message for the other processes. False when cut off from Redis or over `maxPendingBytes` (see `stats`). */
  readonly forwarded: boolean;
  /** Redis's answer to PUBLISH: how many subscribed processes got it (this one included when it has subscribers to the topic); 0 when not forwarded. */
  readonly redisSubscribers: number;
}

/** Counters of a `RedisTopics`, since `connect()`. */
export interface RedisTopicsStats {
  /** `publish()` calls (each delivered locally). */
  readonly published: number;
  /** Publishes Redis took for the other processes. */
  readonly forwarded: number;
  /** Publishes not sent to the other processes because this process was cut off from Redis (or lost it while sending). */
  readonly lostWhilePublishing: number;
  /** Publishes not sent to the other processes because `maxPendingBytes` were waiting for Redis. */
  readonly lostToBacklog: number;
  /** Messages of other processes received and delivered locally. */
  readonly received: number;
  /** Times a local subscriber got nothing of a message from another process because more than `delivery.maxBuffered` bytes were queued for it. */
  readonly skipped: number;
  /** Messages of other processes not received, found by skipped sequence numbers (the sum of `RedisGap.missed`). */
  readonly missed: number;
  /** Gaps found (`onGap` calls). */
  readonly gaps: number;
  /** Times the connection to Redis came back after being lost. */
  readonly reconnects: number;
  /** Messages on this process's channels that were not in this library's format, ignored. */
  readonly malformed: number;
  /** Whether both Redis connections are up now. */
  readonly connected: boolean;
}

const DEFAULT_PREFIX = 'websocket-streams:';
const DEFAULT_MAX_PENDING_BYTES = 16 * 1024 * 1024;
const DEFAULT_MAX_TRACKED_TOPICS = 65536;
const DEFAULT_MAX_RECONNECT_DELAY = 2000;
const DEFAULT_CONNECT_TIMEOUT = 5000;

// ignoreBOM: a text message that starts with U+FEFF keeps it, as it does in this process.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Topics shared by every process connected to one Redis server: a publish reaches the
 * subscribers of its topic in this process at once, and in every other process through
 * Redis pub/sub. Each process delivers its own messages itself and ignores them when Redis
 * echoes them, so every subscriber gets each message exactly once, in the order its
 * publisher published them.
 *
 * It holds two Redis connections (a connection that subscribes cannot publish) and
 * subscribes a topic's channel while the topic has local subscribers. When Redis is lost,
 * local delivery goes on; publishes are counted as lost for the other processes (never
 * queued), the connections are retried, and receivers count what they missed.
 *
 * @example
 * ```ts
 * import { serve } from 'websocket-streams/node';
 * import { RedisTopics } from 'websocket-streams/pubsub';
 *
 * const bus = await RedisTopics.connect({ url: 'redis://127.0.0.1:6379' });
 * const server = await serve({ host: '127.0.0.1', port: 0 }, async (conn) => {
 *   bus.subscribe(conn, 'chat');
 *   for await (const msg of conn) await bus.publish('chat', await msg.text());
 * });
 * ```
 */
export class RedisTopics {
  /** The local registry this bus delivers to and follows. */
  readonly topics: Topics;
  /** This process's publisher id (16 hex digits), as other processes' `RedisGap.publisher` names it. */
  readonly publisherId: string;

  readonly #publisher: RedisClient;
  readonly #subscriber: RedisClient;
  readonly #prefix: string;
  readonly #delivery: BroadcastOptions;
  readonly #onGap: ((gap: RedisGap) => void) | undefined;
  readonly #onStatus: ((status: RedisStatus) => void) | undefined;
  readonly #maxPendingBytes: number;
  readonly #id: Buffer;
  readonly #published: PublishedSequences;
  readonly #received = new ReceivedSequences();
  readonly #channels: ChannelSubscriptions;
  readonly #stopObserving: () => void;
  #pendingBytes = 0;
  #up = true;
  #downSince = 0;
  /** `stats.lostWhilePublishing` when the last outage was reported over (publishes failing just before one is noticed count in it). */
  #lostBefore = 0;
  #closed = false;
  readonly #stats = {
    published: 0, forwarded: 0, lostWhilePublishing: 0, lostToBacklog: 0, received: 0, skipped: 0, missed: 0, gaps: 0,
    reconnects: 0, malformed: 0,
  };

  /**
   * Connects to Redis (two connections) and subscribes the channels of the topics that
   * already have local subscribers. Rejects if Redis cannot be reached within
   * `connectTimeout`; once connected, a lost connection is retried until `close()`.
   */
  static async connect(options: RedisTopicsOptions): Promise<RedisTopics> {
    if (typeof options !== 'object' || options === null) throw new TypeError('RedisTopics.connect() needs options with a url');
    const pair = await createRedisPair({
      url: checkUrl(options.url),
      connectTimeout: positive(options.connectTimeout, 'connectTimeout', DEFAULT_CONNECT_TIMEOUT),
      maxReconnectDelay: positive(options.maxReconnectDelay, 'maxReconnectDelay', DEFAULT_MAX_RECONNECT_DELAY),
    });
    const bus = new RedisTopics(pair.publisher, pair.subscriber, options);
    try {
      await pair.connect();
    } catch (err) {
      bus.#closed = true;
      bus.#stopObserving();
      bus.#channels.close();
      throw err;
    }
    bus.#watch(pair.publisher);
    bus.#watch(pair.subscriber);
    bus.#channels.sync();
    return bus;
  }

  private constructor(publisher: RedisClient, subscriber: RedisClient, options: RedisTopicsOptions) {
    if (options.topics !== undefined && !(options.topics instanceof Topics)) throw new TypeError('topics must be a Topics');
    if (options.prefix !== undefined && typeof options.prefix !== 'string') throw new TypeError('prefix must be a string');
    for (const name of ['onGap', 'onStatus'] as const) {
      if (options[name] !== undefined && typeof options[name] !== 'function') throw new TypeError(`${name} must be a function`);
    }
    this.#publisher = publisher;
    this.#subscriber = subscriber;
    this.topics = options.topics ?? new Topics();
    this.#prefix = options.prefix ?? DEFAULT_PREFIX;
    this.#delivery = options.delivery ?? {};
    // Checked now, the way every delivery will check them, rather than in each message from Redis.
    broadcast([], '', this.#delivery);
    this.#onGap = options.onGap;
    this.#onStatus = options.onStatus;
    this.#maxPendingBytes = positive(options.maxPendingBytes, 'maxPendingBytes', DEFAULT_MAX_PENDING_BYTES);
    this.#published = new PublishedSequences(positive(options.maxTrackedTopics, 'maxTrackedTopics', DEFAULT_MAX_TRACKED_TOPICS));
    const id = newPublisherId();
    this.#id = id.bytes;
    this.publisherId = id.hex;
    this.#channels = new ChannelSubscriptions(
      subscriber, this.#prefix, this.topics,
      (topic, message) => this.#receive(topic, message),
      (topic) => this.#received.forget(topic),
    );
    this.#stopObserving = this.topics._observe({ topicActive: () => this.#channels.sync(), topicInactive: () => this.#channels.sync() });
  }

  /** Subscribes `conn` to `topic` (see `Topics.subscribe`); the topic's Redis channel is subscribed with its first local subscriber. */
  subscribe(conn: Connection, topic: string): boolean {
    return this.topics.subscribe(conn, topic);
  }

  /** Unsubscribes `conn` from `topic` (see `Topics.unsubscribe`); the channel is unsubscribed with the last local subscriber. */
  unsubscribe(conn: Connection, topic: string): boolean {
    return this.topics.unsubscribe(conn, topic);
  }

  /**
   * Sends `data` to the subscribers of `topic` in this process, at once (`options` apply
   * here, as in `broadcast()`), and through Redis to those of every other process. Resolves
   * when Redis has answered, or at once when the message cannot be sent to Redis (cut off,
   * or over `maxPendingBytes`): it is then counted as lost and never queued. Rejects only
   * for bad arguments and after `close()`.
   */
  async publish(topic: string, data: string | BinaryData, options?: BroadcastOptions): Promise<PublishResult> {
    checkTopic(topic);
    if (this.#closed) throw new Error('RedisTopics is closed');
    const local = this.topics.publish(topic, data, options);
    this.#stats.published++;
    // Every publish takes a number, sent or not: receivers then see the ones never sent as a gap.
    const seq = this.#published.next(topic);
    if (!this.#publisher.isReady) return this.#lost(local);
    const message = encodeWireMessage(this.#id, seq, typeof data === 'string' ? data : toBytes(data));
    if (this.#pendingBytes + message.length > this.#maxPendingBytes) {
      this.#stats.lostToBacklog++;
      return { ...local, forwarded: false, redisSubscribers: 0 };
    }
    this.#pendingBytes += message.length;
    try {
      const redisSubscribers = await this.#publisher.publish(this.#prefix + topic, message);
      this.#stats.forwarded++;
      return { ...local, forwarded: true, redisSubscribers };
    } catch {
      // Lost with the connection: Redis may or may not have passed it on before.
      return this.#lost(local);
    } finally {
      this.#pendingBytes -= message.length;
    }
  }

  /**
   * Resolves once every topic with local subscribers has its channel subscribed on Redis, and
   * no channel is subscribed for a topic without any: from then on, every message other
   * processes publish to those topics reaches this process. A process cut off from Redis
   * settles after reconnecting. Rejects if the bus is closed first.
   */
  settled(): Promise<void> {
    return this.#channels.settled();
  }

  /** A snapshot of the counters. */
  get stats(): RedisTopicsStats {
    return { ...this.#stats, connected: this.#up && this.#publisher.isReady && this.#subscriber.isReady };
  }

  /** Closes both Redis connections and stops following `topics` (local subscribers stay subscribed there). */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopObserving();
    this.#channels.close();
    await Promise.all([this.#publisher, this.#subscriber].map((client) =>
      (client.isReady ? client.close() : Promise.resolve(client.destroy())).catch(() => client.destroy())));
  }

  #lost(local: BroadcastResult): PublishResult {
    this.#stats.lostWhilePublishing++;
    return { ...local, forwarded: false, redisSubscribers: 0 };
  }

  /** Follows one client's connection: down on any sign of loss, up again when both are ready. */
  #watch(client: RedisClient): void {
    const down = (error: Error | undefined): void => {
      if (this.#closed || !this.#up) return;
      this.#up = false;
      this.#downSince = Date.now();
      report(this.#onStatus, { type: 'disconnected', error });
    };
    // An error the client survives (its connection still ready) is no outage; a lost one is
    // followed by 'reconnecting' anyway.
    client.on('error', (err: Error) => {
      if (!client.isReady) down(err);
    });
    client.on('end', () => down(undefined));
    client.on('reconnecting', () => down(undefined));
    client.on('ready', () => {
      if (this.#closed || this.#up || !this.#publisher.isReady || !this.#subscriber.isReady) return;
      this.#up = true;
      this.#stats.reconnects++;
      const lostWhilePublishing = this.#stats.lostWhilePublishing - this.#lostBefore;
      this.#lostBefore = this.#stats.lostWhilePublishing;
      report(this.#onStatus, { type: 'reconnected', outageMs: Date.now() - this.#downSince, lostWhilePublishing });
      // The client resubscribed what it had; what changed meanwhile is done now.
      this.#channels.sync();
    });
  }

  #receive(topic: string, message: Buffer): void {
    if (this.#closed) return;
    const wire = decodeWireMessage(message);
    if (typeof wire === 'string') {
      this.#stats.malformed++;
      return;
    }
    // Our own message, echoed by Redis: it was delivered locally when published.
    if (wire.publisher === this.publisherId) return;
    let data: string | Buffer = wire.payload;
    if (wire.text) {
      try {
        data = utf8.decode(wire.payload);
      } catch {
        this.#stats.malformed++;
        return;
      }
    }
    const missed = this.#received.receive(topic, wire.publisher, wire.seq);
    this.#stats.received++;
    this.#stats.skipped += this.topics.publish(topic, data, this.#delivery).skipped;
    if (missed > 0) {
      this.#stats.missed += missed;
      this.#stats.gaps++;
      report(this.#onGap, { topic, publisher: wire.publisher, missed, resumedAt: wire.seq });
    }
  }
}

/**
 * Calls a user's callback. It runs inside the Redis client's reading of its socket, where a
 * throw would break the reading of what follows, so a throw is raised again on its own
 * (an uncaught exception, as from an EventEmitter listener).
 */
function report<T>(callback: ((value: T) => void) | undefined, value: T): void {
  try {
    callback?.(value);
  } catch (err) {
    queueMicrotask(() => {
      throw err;
    });
  }
}

function checkUrl(url: unknown): string {
  if (typeof url !== 'string' || !/^rediss?:\/\//.test(url)) {
    throw new TypeError(`url must be a redis:// or rediss:// URL, got ${typeof url === 'string' ? JSON.stringify(url) : String(url)}`);
  }
  return url;
}

function positive(value: number | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0)) throw new RangeError(`${name} must be a number > 0, got ${String(value)}`);
  return value;
}
