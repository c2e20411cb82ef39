import type { Clock } from './clock';

/** What the heartbeat needs of its connection. */
export interface HeartbeatHost {
  /** Sends a ping now. May throw once the connection can send no more (it is then closing). */
  sendPing(): void;
  /** Drops the transport: the peer is gone (the connection ends with 1006). */
  abort(err: Error): void;
  /** Our own consumer holds the transport paused: whatever the peer sent waits unread. */
  readonly readingPaused: boolean;
  /** Our close frame went out: no more pings; the close timeout bounds what is left. */
  readonly closing: boolean;
}

/**
 * A connection's heartbeat, made only when `autoPingInterval` > 0: the peer is checked every
 * `interval` ms; a check that finds a whole interval without inbound traffic sends a ping, and
 * the check `timeout` ms later drops the connection if still nothing arrived (any traffic
 * counts as the answer, not only the pong). Liveness is not judged while our own consumer
 * holds the transport paused: a ping could not overtake the unread data anyway.
 *
 * Receiving costs one store (`inbound()` sets a flag the next check reads and clears), not a
 * clock read per chunk: the price is that a ping goes out after at least `interval` ms of
 * silence and less than twice that, at the first check that finds the interval before it
 * silent. Deciding the drop needs no clock at all: the window starts at the ping.
 */
export class Heartbeat {
  readonly #host: HeartbeatHost;
  readonly #clock: Clock;
  readonly #interval: number;
  readonly #timeout: number;
  /** The one timer callback, made once and reused by every check. */
  readonly #onTimer: () => void;
  #timer: unknown = undefined;
  #armed = false;
  #stopped = false;
  /** Something arrived since the last check. */
  #heard = false;
  #awaitingPong = false;

  /** Starts checking at once: the first check is `interval` ms from now. */
  constructor(host: HeartbeatHost, clock: Clock, interval: number, timeout: number) {
    this.#host = host;
    this.#clock = clock;
    this.#interval = interval;
    this.#timeout = timeout;
    this.#onTimer = () => this.#check();
    this.#arm(interval);
  }

  /** Bytes arrived from the peer. On the receive hot path: one store. */
  inbound(): void {
    this.#heard = true;
  }

  /** The connection is over: no timer is left behind, and nothing runs any more. */
  stop(): void {
    this.#stopped = true;
    if (this.#armed) {
      this.#armed = false;
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #arm(ms: number): void {
    this.#armed = true;
    this.#timer = this.#clock.setTimeout(this.#onTimer, ms);
  }

  #check(): void {
    this.#armed = false;
    this.#timer = undefined;
    if (this.#stopped) return;
    const host = this.#host;
    const heard = this.#heard;
    this.#heard = false;
    if (this.#awaitingPong) {
      if (heard) {
        this.#awaitingPong = false;
        this.#arm(this.#interval);
      } else if (host.readingPaused) {
        // The answer may be among the bytes we do not read: judge again later.
        this.#arm(this.#timeout);
      } else {
        this.stop();
        host.abort(new Error(`No traffic from the peer for ${this.#timeout} ms after a ping`));
      }
      return;
    }
    // Closing: no ping can go out after our close frame; the close timeout takes over.
    if (host.closing) return;
    if (heard || host.readingPaused) {
      this.#arm(this.#interval);
      return;
    }
    this.#awaitingPong = true;
    try {
      host.sendPing();
    } catch {
      /* the connection can send no more: it is closing, and its close timeout takes over */
    }
    this.#arm(this.#timeout);
  }
}
