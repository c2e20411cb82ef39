// Keeps the Redis channels a process subscribes in line with the topics that have local
// subscribers: a channel from a topic's first local subscriber to its last. One command at a
// time; a command that fails (Redis lost) stops it, and it runs again on reconnection.
import type { RedisClient } from './redis-client';
import type { Topics } from './topics';

/** @internal */
export class ChannelSubscriptions {
  readonly #subscriber: RedisClient;
  readonly #prefix: string;
  readonly #topics: Topics;
  readonly #onMessage: (topic: string, message: Buffer) => void;
  readonly #onUnsubscribed: (topic: string) => void;
  /** Topics whose channel is subscribed on Redis (SUBSCRIBE answered, UNSUBSCRIBE not yet). */
  readonly #subscribed = new Set<string>();
  #syncing = false;
  #closed = false;
  /** `settled()` calls waiting for the subscriptions to match the local topics. */
  #waiters: Array<{ resolve(): void; reject(err: Error): void }> = [];

  constructor(
    subscriber: RedisClient, prefix: string, topics: Topics,
    onMessage: (topic: string, message: Buffer) => void, onUnsubscribed: (topic: string) => void,
  ) {
    this.#subscriber = subscriber;
    this.#prefix = prefix;
    this.#topics = topics;
    this.#onMessage = onMessage;
    this.#onUnsubscribed = onUnsubscribed;
  }

  /** Resolves once the subscribed channels match the local topics. */
  settled(): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('RedisTopics is closed'));
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      this.sync();
    });
  }

  /** Sends the next SUBSCRIBE or UNSUBSCRIBE needed, and so on until none is. */
  sync(): void {
    if (this.#syncing || this.#closed || !this.#subscriber.isReady) return;
    const next = this.#nextChange();
    if (next === undefined) {
      for (const w of this.#waiters.splice(0)) w.resolve();
      return;
    }
    const { topic, subscribe } = next;
    const channel = this.#prefix + topic;
    this.#syncing = true;
    const done = subscribe
      ? this.#subscriber.subscribe(channel, (message: Buffer) => this.#onMessage(topic, message), true)
        .then(() => void this.#subscribed.add(topic))
      : this.#subscriber.unsubscribe(channel).then(() => {
        this.#subscribed.delete(topic);
        this.#onUnsubscribed(topic);
      });
    done.then(
      () => {
        this.#syncing = false;
        this.sync();
      },
      () => {
        this.#syncing = false;
      },
    );
  }

  /** Stops; pending `settled()` calls reject. */
  close(): void {
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w.reject(new Error('RedisTopics is closed'));
  }

  #nextChange(): { topic: string; subscribe: boolean } | undefined {
    const wanted = new Set(this.#topics.activeTopics());
    for (const topic of wanted) if (!this.#subscribed.has(topic)) return { topic, subscribe: true };
    for (const topic of this.#subscribed) if (!wanted.has(topic)) return { topic, subscribe: false };
    return undefined;
  }
}
