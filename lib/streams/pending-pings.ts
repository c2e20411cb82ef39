import type { Clock } from './clock';
import { markHandled } from './abort';
import { WebSocketError } from './errors';

/**
 * Pings sent with `Connection.ping()` whose pong has not come yet. Past this many, the oldest
 * is given up (its promise rejects with `'PING_UNANSWERED'`) when another is sent: a peer that
 * never answers cannot make a loop of `ping()` calls grow the connection without bound, and
 * the ping itself still goes out, as it did before pings could be awaited.
 */
export const MAX_PENDING_PINGS = 64;

interface Pending {
  readonly sentAt: number;
  resolve(rtt: number): void;
  reject(err: unknown): void;
}

/**
 * The pings `Connection.ping()` waits on, by payload, oldest first (a `Map` keeps insertion
 * order). Made on a connection's first awaitable ping; the heartbeat and the Autobahn tier's
 * `sendPing` do not register theirs.
 *
 * As in python-websockets (`acknowledge_pings`), a pong acknowledges the ping with its payload
 * and every ping sent before it: RFC 6455 §5.5.3 lets a peer that got several pings answer
 * only the most recent one.
 */
export class PendingPings {
  readonly #clock: Clock;
  readonly #pending = new Map<string, Pending>();
  /** Source of generated payloads: unique among the pings in flight, 4 bytes as python-websockets sends. */
  #counter = 0;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /**
   * A payload no ping in flight has: a 4-byte big-endian counter (wire bytes a test can
   * predict, unlike python-websockets' random ones), skipping any a user chose.
   */
  generatePayload(): Uint8Array {
    for (;;) {
      const n = (this.#counter = (this.#counter + 1) >>> 0);
      const bytes = new Uint8Array([n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
      if (!this.#pending.has(keyOf(bytes))) return bytes;
    }
  }

  /** Whether a ping with `payload` waits for its pong. */
  has(payload: Uint8Array): boolean {
    return this.#pending.has(keyOf(payload));
  }

  /**
   * Registers a ping about to be sent; the promise resolves with its round-trip time in ms.
   * Marked handled: a caller that ignores it never causes an unhandled rejection.
   */
  add(payload: Uint8Array): Promise<number> {
    if (this.#pending.size >= MAX_PENDING_PINGS) {
      const [oldestKey, oldest] = this.#pending.entries().next().value as [string, Pending];
      this.#pending.delete(oldestKey);
      oldest.reject(new WebSocketError(
        `The ping was given up: more than ${MAX_PENDING_PINGS} pings were waiting for their pongs`, { kind: 'PING_UNANSWERED' }));
    }
    const sentAt = this.#clock.now();
    return markHandled(new Promise<number>((resolve, reject) => this.#pending.set(keyOf(payload), { sentAt, resolve, reject })));
  }

  /**
   * A pong arrived: resolves the ping with its payload and every ping sent before it. A pong
   * that matches no ping (unsolicited, RFC 6455 §5.5.3 allows it as a heartbeat) changes nothing.
   */
  acknowledge(payload: Uint8Array): void {
    const key = keyOf(payload);
    if (!this.#pending.has(key)) return;
    const now = this.#clock.now();
    for (const [k, ping] of this.#pending) {
      this.#pending.delete(k);
      ping.resolve(now - ping.sentAt);
      if (k === key) return;
    }
  }

  /** The connection is over: no pong will come for any ping still waiting. */
  rejectAll(err: WebSocketError): void {
    for (const ping of this.#pending.values()) ping.reject(err);
    this.#pending.clear();
  }
}

/** A control payload (at most 125 bytes) as a Map key: one char per byte. */
function keyOf(payload: Uint8Array): string {
  return String.fromCharCode.apply(null, payload as unknown as number[]);
}
