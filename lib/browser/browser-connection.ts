import { CloseCode } from '../codec/constants';
import { encodeClosePayload } from '../codec/close-payload';
import { InvalidStateError } from '../protocol/invalid-state-error';
import { ReadyState } from '../protocol/state';
import { markHandled, rejectedWith, untilAborted, whenAborted } from '../streams/abort';
import { WebSocketError, type CloseInfo } from '../streams/errors';
import { MessageIterator, type MessageIteratorOptions } from '../streams/message-iterator';
import type { StreamConnection, StreamSendOptions, StreamWaitOptions } from '../streams/stream-surface';
import type { ResolvedBrowserOptions } from './browser-options';
import { BrowserMessage } from './browser-message';
import { exceedsSize, type MessageSocket, type SocketEnd } from './message-socket';
import { toWireMessage, type BrowserOutgoing } from './outgoing-payload';

const noop = (): void => undefined;
const resolved = Promise.resolve();

/**
 * A WebSocket connection in a browser, over the browser's own WebSocket API, with the stream
 * tier's surface (`StreamConnection`): `for await (const msg of conn)`, `nextMessage()`,
 * `readable`/`writable`, `send()`, `close()`, `closed`. Made by `connect()` from
 * `websocket-streams/browser`, over `WebSocketStream` where the browser has it
 * (`implementation` says which), else over `WebSocket`.
 *
 * What a browser allows, and so what differs from `Connection`:
 * - Messages arrive whole (bounded by `maxMessageSize`) and go out whole: a browser never
 *   exposes frames, so a message is one frame, and a stream or Blob to send is read whole first.
 * - Receive backpressure exists over `WebSocketStream` only (nothing is read from the browser
 *   until asked for). Over `WebSocket` the browser delivers everything at once: at most
 *   `maxReceiveBuffer` bytes wait unread, then the connection fails with 1009.
 * - A page may send close codes 1000 and 3000–4999 only. Where this library fails a connection
 *   with 1009 or 1011, the peer sees 4009 or 4011; `closed` reports 1009 or 1011.
 * - No pings from script (the browser answers the peer's), no `beginMessage()`.
 *
 * @example
 * ```ts
 * import { connect } from 'websocket-streams/browser';
 * const conn = await connect('wss://example.com/chat');
 * await conn.send('hello');
 * for await (const msg of conn) console.log(await msg.text());
 * ```
 */
export class BrowserConnection implements StreamConnection {
  /** The URL the browser connected to. */
  readonly url: string;
  /** Resolves once the connection is over, with how it ended. Never rejects. */
  readonly closed: Promise<CloseInfo>;
  readonly #socket: MessageSocket;
  readonly #opts: ResolvedBrowserOptions;
  /** close() was called or we failed the connection: unread messages are dropped. */
  #closeStarted = false;
  #over = false;
  #current: BrowserMessage | undefined;
  /** A receive in flight: kept when a waiting nextMessage() is aborted, for the next caller. */
  #pending: Promise<BrowserMessage | undefined> | undefined;
  #waiting = false;
  /** Settles when the message sent last has been handed to the browser (or given up). */
  #sendTail: Promise<void> = resolved;
  #readable: ReadableStream<BrowserMessage> | undefined;
  #writable: WritableStream<BrowserOutgoing> | undefined;

  /** @internal `connect()` makes connections. */
  constructor(socket: MessageSocket, url: string, opts: ResolvedBrowserOptions) {
    this.#socket = socket;
    this.url = url;
    this.#opts = opts;
    this.closed = socket.ended.then((end) => {
      this.#over = true;
      return this.#closeInfo(end);
    });
  }

  /** Which browser API carries the connection: `'WebSocketStream'` (backpressure both ways) or `'WebSocket'`. */
  get implementation(): 'WebSocketStream' | 'WebSocket' {
    return this.#socket.implementation;
  }
  /** Negotiated subprotocol, `''` when none. */
  get protocol(): string {
    return this.#socket.protocol;
  }
  /** Negotiated extensions as the browser reports them (`permessage-deflate`, usually), `''` when none. */
  get extensions(): string {
    return this.#socket.extensions;
  }
  /** 1 open, 2 closing, 3 closed. */
  get readyState(): ReadyState {
    if (this.#over) return ReadyState.Closed;
    return this.#closeStarted || this.#socket.closing ? ReadyState.Closing : ReadyState.Open;
  }
  /**
   * Bytes handed to the browser and not yet sent on: `WebSocket.bufferedAmount`, or over
   * `WebSocketStream` the messages its writer has not taken yet (a string counted in UTF-16 code units).
   */
  get bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }

  // ---- receiving ----

  /** Incoming messages, one after another. Cancelling it closes the connection (1000). */
  get readable(): ReadableStream<BrowserMessage> {
    return (this.#readable ??= new ReadableStream<BrowserMessage>({
      pull: async (c) => {
        const m = await this.nextMessage();
        if (m === undefined) c.close();
        else c.enqueue(m);
      },
      cancel: () => this._closeQuietly(CloseCode.Normal),
    }, { highWaterMark: 0 }));
  }

  /**
   * The next message, or `undefined` once no more will come. Discards what was left unread of
   * the previous message. `signal` stops the wait (rejects with `signal.reason`); the next
   * message stays for the next caller.
   */
  nextMessage(options?: StreamWaitOptions): Promise<BrowserMessage | undefined> {
    const signal = options?.signal;
    if (signal?.aborted) return rejectedWith(signal.reason);
    if (this.#waiting) return rejectedWith(new TypeError('nextMessage() is already waiting for a message'));
    this.#current?._discard();
    this.#current = undefined;
    const pending = (this.#pending ??= this.#receive());
    this.#waiting = true;
    return markHandled(new Promise((resolve, reject) => {
      let active = true;
      const stop = signal === undefined ? noop : whenAborted(signal, () => {
        active = false;
        this.#waiting = false;
        reject(signal.reason);
      });
      void pending.then((m) => {
        if (!active) return;
        stop();
        this.#waiting = false;
        if (this.#pending === pending) this.#pending = undefined;
        // A local close() discards what had arrived unread.
        this.#current = this.#closeStarted ? undefined : m;
        resolve(this.#current);
      });
    }));
  }

  /** The messages, as `for await` reads them; leaving the loop early closes (1000) unless `preventCancel`. */
  values(options: MessageIteratorOptions = {}): AsyncIterableIterator<BrowserMessage> {
    return new MessageIterator(this, options.preventCancel === true);
  }

  /** `for await (const msg of conn)`: the messages; leaving the loop early closes with 1000. */
  [Symbol.asyncIterator](): AsyncIterableIterator<BrowserMessage> {
    return new MessageIterator(this, false);
  }

  async #receive(): Promise<BrowserMessage | undefined> {
    const data = await this.#socket.receive();
    if (data === undefined || this.#closeStarted) return undefined;
    const max = this.#opts.maxMessageSize;
    if (exceedsSize(data, max)) {
      this.#fail(CloseCode.MessageTooBig, `Message over maxMessageSize (${max} bytes)`);
      return undefined;
    }
    return new BrowserMessage(data);
  }

  // ---- sending ----

  /** Messages written here are sent in order. Closing it closes the connection (1000); aborting it fails it (1011, the peer sees 4011). */
  get writable(): WritableStream<BrowserOutgoing> {
    return (this.#writable ??= new WritableStream<BrowserOutgoing>({
      write: (m) => this.send(m),
      close: async () => void (await this.close(CloseCode.Normal)),
      abort: () => this.#fail(CloseCode.InternalError, 'Sender aborted'),
    }, { highWaterMark: 1 }));
  }

  /**
   * Sends one message, after those sent before it. A string is text, bytes are binary (or as
   * `binary` says); a Blob, a `ReadableStream` or a received message is read whole first, at
   * most `maxMessageSize` bytes (more rejects with a RangeError, nothing is sent, the
   * connection goes on), since a browser sends whole messages only. Resolves when the browser
   * has taken the message: over `WebSocketStream` when its writer has, over `WebSocket` once
   * `bufferedAmount` is at most `sendHighWaterMark`.
   *
   * `signal` aborts it until the message is handed to the browser (while it waits its turn or
   * its stream is read: the stream is cancelled; nothing reaches the wire). Once handed over a
   * message is whole on its way and an abort changes nothing. Never an unhandled rejection.
   */
  send(message: BrowserOutgoing, options: StreamSendOptions = {}): Promise<void> {
    const signal = options.signal;
    if (signal?.aborted) return rejectedWith(signal.reason);
    if (this.#closeStarted || this.#over) return rejectedWith(new InvalidStateError('Cannot send after the close handshake started'));
    const progress = { handed: false };
    const work = this.#sendTail.then(() => this.#sendNow(message, options.binary, signal, progress));
    this.#sendTail = work.then(noop, noop);
    return signal === undefined ? markHandled(work) : untilAborted(work, signal, () => !progress.handed);
  }

  async #sendNow(message: BrowserOutgoing, binary: boolean | undefined, signal: AbortSignal | undefined, progress: { handed: boolean }): Promise<void> {
    if (signal?.aborted) throw signal.reason;
    const wire = await toWireMessage(message, binary, this.#opts.maxMessageSize, signal);
    if (signal?.aborted) throw signal.reason;
    if (this.#closeStarted) throw new InvalidStateError('Cannot send after the close handshake started');
    if (this.#over || this.#socket.closing) throw new WebSocketError('The connection is closing: the message was not sent', { kind: 'CLOSED' });
    progress.handed = true;
    try {
      await this.#socket.send(wire);
    } catch (err) {
      throw new WebSocketError('The connection closed before the browser took the message', { kind: 'CONNECTION_LOST', cause: err });
    }
  }

  // ---- closing ----

  /**
   * Starts the closing handshake and resolves when the connection is over. Without a code the
   * close frame is empty (the peer sees 1005). A page may send 1000 and 3000–4999 only: another
   * code throws a RangeError, as does a reason over 123 UTF-8 bytes. Unread messages and
   * whatever still arrives are discarded (the message being read stays readable).
   * `options.signal` stops the wait only; the handshake goes on.
   */
  close(code?: number, reason?: string, options?: StreamWaitOptions): Promise<CloseInfo> {
    const signal = options?.signal;
    if (signal?.aborted) return rejectedWith(signal.reason);
    if (code !== undefined && code !== CloseCode.Normal && !(code >= 3000 && code <= 4999)) {
      throw new RangeError(`A page may send close code 1000 or 3000–4999 only (browsers refuse the others), got ${code}`);
    }
    encodeClosePayload(code, reason); // the reason's rules: at most 123 bytes, and only with a code
    if (!this.#closeStarted && !this.#over) {
      this.#closeStarted = true;
      this.#socket.close(code, reason);
    }
    return signal === undefined ? this.closed : untilAborted(this.closed, signal);
  }

  /** @internal For the message iterator: close, errors reported by `closed`. */
  _closeQuietly(code: number): void {
    void this.close(code).catch(noop);
  }

  /** A failure of ours (a limit): `closed` reports `code`; the wire gets what a page may send. */
  #fail(code: number, reason: string): void {
    if (this.#closeStarted || this.#over) return;
    this.#closeStarted = true;
    this.#socket.fail({ code, reason });
  }

  #closeInfo(end: SocketEnd): CloseInfo {
    const failure = this.#socket.failure;
    if (failure !== undefined) return { wasClean: false, code: failure.code, reason: failure.reason, endedBy: 'protocol-error' };
    if (end.wasClean) return { wasClean: true, code: end.code, reason: end.reason, endedBy: 'close-handshake' };
    const info = { wasClean: false, code: end.code, reason: end.reason };
    return end.error === undefined ? { ...info, endedBy: 'transport-ended' } : { ...info, endedBy: 'transport-error', error: end.error };
  }
}
