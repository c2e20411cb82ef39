// What a connection's transport and heartbeat report to: small objects with shared methods,
// instead of closures per connection.
import { ReadyState } from '../protocol/state';
import type { TransportSink } from './byte-transport';
import type { Connection } from './connection';
import type { HeartbeatHost } from './heartbeat';

/** What the heartbeat sees of its connection (only connections with `autoPingInterval` have one). */
export class HeartbeatLink implements HeartbeatHost {
  readonly #conn: Connection;
  constructor(conn: Connection) {
    this.#conn = conn;
  }
  sendPing(): void {
    // Not an awaitable ping: liveness is judged on any traffic, so no payload to match, no
    // promise per beat, and the wire stays an empty ping.
    this.#conn._sendPing();
  }
  abort(err: Error): void {
    this.#conn._heartbeatAbort(err);
  }
  get readingPaused(): boolean {
    return this.#conn._readingPaused;
  }
  get closing(): boolean {
    return this.#conn.readyState !== ReadyState.Open;
  }
}

/**
 * What the transport reports to, as one small object with shared methods instead of five
 * closures per connection.
 */
export class ConnectionSink implements TransportSink {
  readonly #conn: Connection;
  constructor(conn: Connection) {
    this.#conn = conn;
  }
  onData(chunk: Uint8Array): void {
    this.#conn._transportData(chunk);
  }
  onEnd(): void {
    this.#conn._transportEnd();
  }
  onError(err: Error): void {
    this.#conn._transportError(err);
  }
  onDrain(): void {
    this.#conn._transportDrain();
  }
  onClose(): void {
    this.#conn._transportClose();
  }
}
