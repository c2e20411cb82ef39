import type { ResolvedOptions } from './connection-options';

/** What the heartbeat needs from its connection. */
export interface HeartbeatHost {
  /** Our own consumer holds the transport paused. */
  readonly _readingPaused: boolean;
  readonly _finalized: boolean;
  ping(): void;
  _heartbeatFailed(err: Error): void;
}

/**
 * Auto ping (`autoPingInterval`): a ping after that long without inbound traffic, and the
 * transport dropped (1006) when nothing arrives `autoPingTimeout` after it. Made only when
 * enabled.
 */
export class Heartbeat {
  readonly #host: HeartbeatHost;
  readonly #opts: ResolvedOptions;
  #timer: unknown;
  #lastInbound: number;
  /** Traffic arrived since the last look (cheaper than reading the clock per chunk). */
  #heard = false;
  #awaitingPong = false;

  constructor(host: HeartbeatHost, opts: ResolvedOptions) {
    this.#host = host;
    this.#opts = opts;
    this.#lastInbound = opts.clock.now();
    this.#arm(opts.autoPingInterval);
  }

  /** Bytes arrived from the peer. */
  inbound(): void {
    this.#heard = true;
  }

  stop(): void {
    if (this.#timer !== undefined) this.#opts.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(ms: number): void {
    this.#timer = this.#opts.clock.setTimeout(() => this.#tick(), ms);
  }

  #tick(): void {
    this.#timer = undefined;
    const host = this.#host;
    if (host._finalized) return;
    const opts = this.#opts;
    const now = opts.clock.now();
    if (this.#heard) {
      this.#heard = false;
      this.#awaitingPong = false;
      this.#lastInbound = now;
    }
    // Our own consumer holding the transport paused is not the peer's fault: liveness is not
    // judged while paused.
    if (host._readingPaused) this.#lastInbound = now;
    const idle = now - this.#lastInbound;
    if (this.#awaitingPong && idle >= opts.autoPingTimeout) {
      host._heartbeatFailed(new Error(`No traffic from the peer for ${idle} ms after a ping`));
      return;
    }
    if (!this.#awaitingPong && idle >= opts.autoPingInterval) {
      this.#awaitingPong = true;
      try {
        host.ping();
      } catch {
        /* closing: the close timer takes over */
      }
      this.#arm(opts.autoPingTimeout);
      return;
    }
    this.#arm(Math.max(1, this.#awaitingPong ? opts.autoPingTimeout - idle : opts.autoPingInterval - idle));
  }
}
