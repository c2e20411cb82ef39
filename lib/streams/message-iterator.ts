// `for await (const msg of conn)` and `conn.values()`: a connection's messages as an async iterator.
import { CloseCode } from '../codec/constants';
import type { IncomingMessage } from './incoming-message';

/** What the iterator needs of a connection (`Connection`, the browser entry's `BrowserConnection`). */
export interface IteratedConnection<M> {
  nextMessage(): Promise<M | undefined>;
  /** Starts the closing handshake; errors are reported by `closed`. */
  _closeQuietly(code: number): void;
}

/** Options of `Connection.values()`, as `ReadableStream.values()` takes them. */
export interface MessageIteratorOptions {
  /** Leave the connection open when the loop is left early (`break`, `throw`). Default false: it closes (1000). */
  readonly preventCancel?: boolean;
}

/**
 * `for await (const msg of conn)`: the next message on each step; leaving early closes the
 * connection unless `preventCancel`, as `ReadableStream`'s async iterator cancels its stream.
 */
export class MessageIterator<M = IncomingMessage> implements AsyncIterableIterator<M> {
  readonly #conn: IteratedConnection<M>;
  readonly #preventCancel: boolean;
  #done = false;

  constructor(conn: IteratedConnection<M>, preventCancel: boolean) {
    this.#conn = conn;
    this.#preventCancel = preventCancel;
  }

  async next(): Promise<IteratorResult<M, undefined>> {
    if (this.#done) return { done: true, value: undefined };
    const m = await this.#conn.nextMessage();
    if (m !== undefined) return { done: false, value: m };
    this.#done = true;
    return { done: true, value: undefined };
  }

  async return(): Promise<IteratorResult<M, undefined>> {
    const wasDone = this.#done;
    this.#done = true;
    if (!wasDone && !this.#preventCancel) this.#conn._closeQuietly(CloseCode.Normal);
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<M> {
    return this;
  }
}

