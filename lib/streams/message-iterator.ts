// `for await (const msg of conn)` and `conn.values()`: a connection's messages as an async iterator.
import { CloseCode } from '../codec/constants';
import type { Connection } from './connection';
import type { IncomingMessage } from './incoming-message';

/** Options of `Connection.values()`, as `ReadableStream.values()` takes them. */
export interface MessageIteratorOptions {
  /** Leave the connection open when the loop is left early (`break`, `throw`). Default false: it closes (1000). */
  readonly preventCancel?: boolean;
}

/**
 * `for await (const msg of conn)`: the next message on each step; leaving early closes the
 * connection unless `preventCancel`, as `ReadableStream`'s async iterator cancels its stream.
 */
export class MessageIterator implements AsyncIterableIterator<IncomingMessage> {
  readonly #conn: Connection;
  readonly #preventCancel: boolean;
  #done = false;

  constructor(conn: Connection, preventCancel: boolean) {
    this.#conn = conn;
    this.#preventCancel = preventCancel;
  }

  async next(): Promise<IteratorResult<IncomingMessage, undefined>> {
    if (this.#done) return { done: true, value: undefined };
    const m = await this.#conn.nextMessage();
    if (m !== undefined) return { done: false, value: m };
    this.#done = true;
    return { done: true, value: undefined };
  }

  async return(): Promise<IteratorResult<IncomingMessage, undefined>> {
    const wasDone = this.#done;
    this.#done = true;
    if (!wasDone && !this.#preventCancel) this.#conn._closeQuietly(CloseCode.Normal);
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<IncomingMessage> {
    return this;
  }
}

