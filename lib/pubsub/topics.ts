// Topics in one process: named sets of connections, each message sent to a topic through
// `broadcast()`, so it is encoded once and a slow subscriber is skipped (or closed), never
// buffered without bound. Runtime-neutral: no Node API, no dependency.
import { broadcast, type BroadcastOptions, type BroadcastResult } from '../streams/broadcast';
import { Connection } from '../streams/connection';
import type { BinaryData } from '../streams/outgoing';
import { ReadyState } from '../protocol/state';

/** @internal Told when a topic gets its first subscriber and when it loses its last (`RedisTopics` follows them). */
export interface TopicObserver {
  /** `topic` had no subscriber and now has one. */
  topicActive(topic: string): void;
  /** `topic` lost its last subscriber. */
  topicInactive(topic: string): void;
}

const NOBODY: ReadonlySet<Connection> = new Set();

/**
 * A registry of topics in one process: connections subscribe to topics by name, and
 * `publish()` sends a message to the open subscribers of one topic with `broadcast()`
 * (encoded once; connections with more than `maxBuffered` bytes queued are skipped or
 * closed, see `BroadcastOptions`). A connection leaves all its topics when it closes.
 *
 * To reach subscribers in other processes too, hand it to `RedisTopics.connect({ topics })`.
 *
 * @example
 * ```ts
 * import { serve } from 'websocket-streams/node';
 * import { Topics } from 'websocket-streams/pubsub';
 *
 * const topics = new Topics();
 * const server = await serve({ host: '127.0.0.1', port: 0 }, async (conn) => {
 *   topics.subscribe(conn, 'news');
 *   for await (const msg of conn) topics.publish('news', await msg.text());
 * });
 * ```
 */
export class Topics {
  readonly #subscribers = new Map<string, Set<Connection>>();
  readonly #topicsOf = new Map<Connection, Set<string>>();
  /** Connections whose `closed` already leads to `#leaveAll`: one handler per connection, however often it re-subscribes. */
  readonly #watched = new WeakSet<Connection>();
  readonly #observers = new Set<TopicObserver>();

  /**
   * Subscribes `conn` to `topic`. Returns true if it was not subscribed before; false if it
   * already was (subscribing is idempotent) or if it is closing or closed (it would never
   * receive anything, so it is not added).
   */
  subscribe(conn: Connection, topic: string): boolean {
    checkConnection(conn);
    checkTopic(topic);
    if (conn.readyState !== ReadyState.Open) return false;
    let topics = this.#topicsOf.get(conn);
    if (topics?.has(topic)) return false;
    if (topics === undefined) {
      topics = new Set();
      this.#topicsOf.set(conn, topics);
    }
    topics.add(topic);
    let subscribers = this.#subscribers.get(topic);
    const first = subscribers === undefined;
    if (subscribers === undefined) {
      subscribers = new Set();
      this.#subscribers.set(topic, subscribers);
    }
    subscribers.add(conn);
    if (!this.#watched.has(conn)) {
      this.#watched.add(conn);
      void conn.closed.then(() => this.#leaveAll(conn));
    }
    if (first) for (const o of this.#observers) o.topicActive(topic);
    return true;
  }

  /** Unsubscribes `conn` from `topic`; returns whether it was subscribed. */
  unsubscribe(conn: Connection, topic: string): boolean {
    checkConnection(conn);
    checkTopic(topic);
    const topics = this.#topicsOf.get(conn);
    if (topics === undefined || !topics.delete(topic)) return false;
    if (topics.size === 0) this.#topicsOf.delete(conn);
    this.#remove(conn, topic);
    return true;
  }

  /**
   * Sends `data` to every open subscriber of `topic` in this process, encoded once: a string
   * is a text message, bytes a binary message (see `broadcast()`). Returns at once with the
   * counts; a topic nobody subscribed to gives all zeros.
   */
  publish(topic: string, data: string | BinaryData, options?: BroadcastOptions): BroadcastResult {
    checkTopic(topic);
    return broadcast(this.#subscribers.get(topic) ?? NOBODY, data, options);
  }

  /** How many connections are subscribed to `topic` in this process. */
  subscriberCount(topic: string): number {
    checkTopic(topic);
    return this.#subscribers.get(topic)?.size ?? 0;
  }

  /** The topics `conn` is subscribed to (a copy). */
  topicsOf(conn: Connection): string[] {
    checkConnection(conn);
    return [...(this.#topicsOf.get(conn) ?? [])];
  }

  /** The topics with at least one subscriber in this process. */
  activeTopics(): string[] {
    return [...this.#subscribers.keys()];
  }

  /** @internal Follows topics becoming active and inactive; returns the function that stops it. */
  _observe(observer: TopicObserver): () => void {
    this.#observers.add(observer);
    return () => this.#observers.delete(observer);
  }

  #leaveAll(conn: Connection): void {
    const topics = this.#topicsOf.get(conn);
    if (topics === undefined) return;
    this.#topicsOf.delete(conn);
    for (const topic of topics) this.#remove(conn, topic);
  }

  #remove(conn: Connection, topic: string): void {
    const subscribers = this.#subscribers.get(topic);
    if (subscribers === undefined || !subscribers.delete(conn)) return;
    if (subscribers.size > 0) return;
    this.#subscribers.delete(topic);
    for (const o of this.#observers) o.topicInactive(topic);
  }
}

function checkConnection(conn: Connection): void {
  if (!(conn instanceof Connection)) {
    throw new TypeError(`Expected a Connection, got ${Object.prototype.toString.call(conn)}`);
  }
}

/** @internal A topic is a non-empty string (it names a Redis channel too, so any characters go). */
export function checkTopic(topic: string): void {
  if (typeof topic !== 'string' || topic.length === 0) {
    throw new TypeError(`A topic must be a non-empty string, got ${typeof topic === 'string' ? "''" : Object.prototype.toString.call(topic)}`);
  }
}
