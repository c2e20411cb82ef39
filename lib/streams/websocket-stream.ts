// The WHATWG `WebSocketStream` (whatwg/websockets PR #48, shipped in Chromium) as a view of a
// `Connection`: messages in as whole strings / Uint8Arrays, out from strings / BufferSources,
// `opened`, `closed` and `close({ closeCode, reason })` as the standard specifies them. The
// algorithm names in the comments are the standard's. Runtime-neutral: dialing a URL is the
// job of a `WebSocketDialer` (the Node entry's `WebSocketStream` passes `connect()`).

import { isToken } from '../handshake/header-values';
import { ReadyState } from '../protocol/state';
import { markHandled, whenAborted } from './abort';
import { Connection } from './connection';
import { WebSocketError, type CloseInfo } from './errors';
import type { IncomingMessage } from './incoming-message';
import { streamClasses } from './stream-classes';
import { enforceCloseCodeRange, validateWebCloseInfo } from './web-close-rules';

/** What `opened` resolves with: the message streams and what the handshake settled. */
export interface WebSocketOpenInfo {
  /** Incoming messages: a `string` per text message, a `Uint8Array` per binary message. Cancelling it closes the connection. */
  readonly readable: ReadableStream<string | Uint8Array<ArrayBuffer>>;
  /** Each chunk written is sent as one message: a string as text, a BufferSource as binary. Closing it closes the connection. */
  readonly writable: WritableStream<WebSocketStreamChunk>;
  /** The negotiated extensions, `''` when none. */
  readonly extensions: string;
  /** The negotiated subprotocol, `''` when none. */
  readonly protocol: string;
}

/** A close code and reason: what `close()` takes and a clean `closed` resolves with. */
export interface WebSocketCloseInfo {
  /** `close()`: 1000 or 3000–4999 (else an `InvalidAccessError` DOMException). `closed`: the peer's code (1005 when its close frame had none). */
  readonly closeCode?: number;
  /** At most 123 UTF-8 bytes (else a `SyntaxError` DOMException); `''` when none. */
  readonly reason?: string;
}

/**
 * What the writable takes: a string is sent as a text message, an `ArrayBuffer` or a view
 * (copied when written) as a binary message. Anything else is converted to a string, as the
 * standard's `USVString` conversion does (a Symbol rejects the write with a TypeError).
 */
export type WebSocketStreamChunk = string | ArrayBuffer | ArrayBufferView;

/**
 * Opens the connection behind a `WebSocketStream` built from a URL: resolves once the opening
 * handshake is done; `signal` aborts the attempt (close during the handshake, an aborted
 * `options.signal`). The Node entry's `WebSocketStream` passes one made of `connect()`.
 */
export type WebSocketDialer = (url: URL, init: { readonly protocols: readonly string[]; readonly signal: AbortSignal }) => Promise<Connection>;

/** Options of `new WebSocketStream(url, options)`: the standard's two, and how to dial. */
export interface WebSocketStreamOptions {
  /** Subprotocols to offer; each a token, none twice (else a `SyntaxError` DOMException). */
  readonly protocols?: Iterable<string>;
  /** Aborts the opening handshake: `opened` and `closed` reject with `signal.reason`. No effect once open. */
  readonly signal?: AbortSignal;
  /** Opens the connection. Required in the core entry; the Node entry's `WebSocketStream` dials with `connect()`. */
  readonly dial?: WebSocketDialer;
}

// The standard's ready state; CLOSING also once the peer started the closing handshake.
const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/**
 * The web platform's streams-based WebSocket, over a `Connection`. Built from a URL (with a
 * `dial` function; in Node, import it from `websocket-streams/node`, which dials with
 * `connect()`), or from a `Connection` that is already open (a server's accepted connection):
 * `new WebSocketStream(conn)`.
 *
 * - `opened` resolves with `{ readable, writable, extensions, protocol }`; `readable` yields a
 *   `string` per text message and a `Uint8Array` per binary message, read from the connection
 *   only when asked for (backpressure); `writable` sends each chunk as one message and waits
 *   while the transport is behind.
 * - `closed` resolves with `{ closeCode, reason }` after a clean closing handshake, else
 *   rejects with a `WebSocketError` (`closeCode` 1006 when the connection was lost).
 * - `close({ closeCode, reason })`, closing `writable`, and cancelling `readable` (or aborting
 *   `writable`) with a `WebSocketError` close the connection, with that code and reason.
 *
 * `opened` and `closed` never count as unhandled rejections (awaiting them still throws).
 * A view takes over the connection's reading and sending: use the view's streams only. Its
 * `close()` takes the codes a page may send; `conn.close(1001)` closes with any other.
 *
 * @example
 * ```ts
 * import { WebSocketStream } from 'websocket-streams/node';
 * const wss = new WebSocketStream('ws://127.0.0.1:8080/', { protocols: ['chat'] });
 * const { readable, writable } = await wss.opened;
 * const writer = writable.getWriter();
 * await writer.write('hello');
 * for await (const message of readable) console.log(message); // string or Uint8Array
 * ```
 */
export class WebSocketStream {
  readonly #url: string;
  readonly #opened: Promise<WebSocketOpenInfo>;
  readonly #closed: Promise<WebSocketCloseInfo>;
  #resolveOpened!: (info: WebSocketOpenInfo) => void;
  #rejectOpened!: (reason: unknown) => void;
  #resolveClosed!: (info: WebSocketCloseInfo) => void;
  #rejectClosed!: (reason: unknown) => void;
  #state: number = CONNECTING;
  #handshakeAborted = false;
  /** Fails the connection while the handshake runs (`close()` or the user's signal). */
  #dialAbort: AbortController | undefined;
  #connection: Connection | undefined;
  #readableController: ReadableStreamDefaultController<string | Uint8Array<ArrayBuffer>> | undefined;
  #writableController: WritableStreamDefaultController | undefined;
  /** The readable was cancelled or closed: its controller takes nothing more. */
  #readableDone = false;

  /**
   * Starts the opening handshake to `url` (a `SyntaxError` DOMException for a URL that does
   * not parse, a scheme other than ws/wss/http/https, a fragment, or bad `protocols`), or
   * wraps a `Connection` whose handshake is done (`opened` then resolves at once).
   */
  constructor(url: string | URL | Connection, options: WebSocketStreamOptions = {}) {
    this.#opened = markHandled(new Promise((resolve, reject) => {
      this.#resolveOpened = resolve;
      this.#rejectOpened = reject;
    }));
    this.#closed = markHandled(new Promise((resolve, reject) => {
      this.#resolveClosed = resolve;
      this.#rejectClosed = reject;
    }));
    if (url instanceof Connection) {
      this.#url = url.handshake.url;
      this.#established(url);
      return;
    }
    const record = urlRecord(url);
    const protocols = protocolList(options.protocols);
    const { signal, dial } = options;
    if (dial === undefined) {
      throw new TypeError('WebSocketStream needs a dial function here: in Node, import WebSocketStream from websocket-streams/node');
    }
    this.#url = record.href;
    if (signal?.aborted) {
      this.#rejectOpened(signal.reason);
      this.#rejectClosed(signal.reason);
      return;
    }
    const dialAbort = (this.#dialAbort = new AbortController());
    const stopListening = signal === undefined ? undefined : whenAborted(signal, () => {
      if (this.#state !== CONNECTING) return;
      // The abort steps: fail the connection, reject both promises with the abort reason.
      this.#state = CLOSING;
      this.#handshakeAborted = true;
      dialAbort.abort(signal.reason);
      this.#rejectOpened(signal.reason);
      this.#rejectClosed(signal.reason);
    });
    dial(record, { protocols, signal: dialAbort.signal }).then((connection) => {
      stopListening?.();
      if (this.#state === CONNECTING) this.#established(connection);
      // Aborted or closed while the 101 was on its way: fail what came.
      else void connection.close().then(() => this.#handshakeFailed(undefined));
    }, (err: unknown) => {
      stopListening?.();
      this.#handshakeFailed(err);
    });
  }

  /** The URL the connection was opened to (serialized), or, for a wrapped connection, its handshake's URL. */
  get url(): string {
    return this.#url;
  }

  /** Resolves with `{ readable, writable, extensions, protocol }` once open; rejects with a `WebSocketError` (or the abort reason) when the handshake failed. */
  get opened(): Promise<WebSocketOpenInfo> {
    return this.#opened;
  }

  /** Resolves with `{ closeCode, reason }` after a clean close; rejects with a `WebSocketError` (or the abort reason) otherwise. */
  get closed(): Promise<WebSocketCloseInfo> {
    return this.#closed;
  }

  /**
   * Closes the connection: with `closeCode` (1000 or 3000–4999, else an `InvalidAccessError`
   * DOMException) and `reason` (at most 123 UTF-8 bytes, else a `SyntaxError` DOMException;
   * with a reason and no code, 1000). Without either the close frame is empty (the peer sees
   * 1005). During the handshake it fails the connection instead; once closing, nothing.
   */
  close(closeInfo?: WebSocketCloseInfo): void {
    // WebIDL dictionary conversion: undefined and null are {}, other primitives a TypeError.
    if (closeInfo !== undefined && closeInfo !== null && typeof closeInfo !== 'object' && typeof closeInfo !== 'function') {
      throw new TypeError('close() takes an object with closeCode and reason');
    }
    const code = closeInfo?.closeCode === undefined ? null : enforceCloseCodeRange(closeInfo.closeCode);
    const reason = closeInfo?.reason === undefined ? '' : `${closeInfo.reason}`;
    this.#closeTheWebSocket(code, reason);
  }

  /** "Close the WebSocket": validate, then fail the handshake or start the closing handshake. */
  #closeTheWebSocket(code: number | null, reason: string): void {
    validateWebCloseInfo(code, reason);
    if (this.#state === CLOSING || this.#state === CLOSED) return;
    if (this.#state === CONNECTING) {
      this.#state = CLOSING;
      this.#dialAbort?.abort();
      return;
    }
    this.#state = CLOSING;
    const connection = this.#connection as Connection;
    // An empty close frame when there is neither code nor reason; a reason alone goes with 1000.
    if (code === null && reason === '') void connection.close();
    else void connection.close(code ?? 1000, reason);
  }

  /** "Close using reason": a `WebSocketError`'s code and reason, or none; a code JavaScript may not send (1001 from a peer) falls back to none. */
  #closeUsingReason(reason: unknown): void {
    if (!(reason instanceof WebSocketError)) return this.#closeTheWebSocket(null, '');
    try {
      this.#closeTheWebSocket(reason.closeCode, reason.reason);
    } catch {
      this.#closeTheWebSocket(null, '');
    }
  }

  /** The handshake failed (or was failed by `close()`): the connection is closed without ever having been open. */
  #handshakeFailed(cause: unknown): void {
    this.#state = CLOSED;
    if (this.#handshakeAborted) return;
    this.#rejectOpened(new WebSocketError('The WebSocket opening handshake did not complete', { kind: 'CONNECTION_LOST', cause }));
    this.#rejectClosed(new WebSocketError('The connection was closed before it opened', { kind: 'CONNECTION_LOST', closeCode: 1006, cause }));
  }

  /** "Handle WebSocketStream connection establishment". */
  #established(connection: Connection): void {
    this.#state = OPEN;
    this.#connection = connection;
    const { ReadableStream, WritableStream } = streamClasses();
    const readable = new ReadableStream<string | Uint8Array<ArrayBuffer>>({
      start: (controller) => {
        this.#readableController = controller;
      },
      pull: (controller) => this.#pull(connection, controller),
      cancel: (reason) => {
        this.#readableDone = true;
        this.#closeUsingReason(reason);
      },
    });
    const writable = new WritableStream<WebSocketStreamChunk>({
      start: (controller) => {
        this.#writableController = controller;
      },
      write: (chunk) => this.#write(connection, chunk),
      close: () => this.#closeWritable(connection),
      abort: (reason) => this.#closeUsingReason(reason),
    });
    void connection.closed.then((info) => this.#connectionClosed(info));
    this.#resolveOpened({ readable, writable, extensions: connection.extensions, protocol: connection.protocol });
  }

  /**
   * "Pull bytes": the next message, whole, as a string or a Uint8Array. As the standard has
   * it, a message is delivered only while the connection is open: one held back by
   * backpressure (not asked for yet) when the closing handshake starts, from either side, is
   * dropped ("if ready state is not OPEN, return"), and the readable ends with the connection.
   * So is one arriving after our own close started (`Connection.close()` discards it). A
   * message asked for before the peer's close frame came is delivered: it was received first.
   */
  async #pull(connection: Connection, controller: ReadableStreamDefaultController<string | Uint8Array<ArrayBuffer>>): Promise<void> {
    if (this.#state === OPEN && connection.readyState === ReadyState.Open) {
      const message = await connection.nextMessage();
      const chunk = message === undefined ? undefined : await whole(message).catch(() => undefined);
      if (this.#readableDone) return;
      if (chunk !== undefined) return controller.enqueue(chunk);
    }
    // The connection is over or closing. After a clean close the readable ends; otherwise the
    // close steps error it with the WebSocketError.
    const info = await connection.closed;
    if (info.wasClean && !this.#readableDone) {
      this.#readableDone = true;
      controller.close();
    }
  }

  /** "Write": a BufferSource is copied and sent as binary, anything else as text; once closing, nothing is sent. */
  async #write(connection: Connection, chunk: WebSocketStreamChunk): Promise<void> {
    const data = outgoing(chunk);
    if (this.#state !== OPEN || connection.readyState !== ReadyState.Open) return;
    // A send fails only with the connection; `closed` and the writable's error report that.
    await connection.send(data).catch(() => undefined);
  }

  /** "Close" (the writable's): an empty close frame; done when the closing handshake is. */
  async #closeWritable(connection: Connection): Promise<void> {
    this.#closeTheWebSocket(null, '');
    const info = await connection.closed;
    if (!info.wasClean) throw closeError(info);
  }

  /** "Handle WebSocketStream connection close". */
  #connectionClosed(info: CloseInfo): void {
    this.#state = CLOSED;
    if (info.wasClean) {
      this.#writableController?.error(new DOMException('A closed WebSocketStream cannot be written to', 'InvalidStateError'));
      this.#resolveClosed({ closeCode: info.code, reason: info.reason });
      return;
    }
    const error = closeError(info);
    if (!this.#readableDone) {
      this.#readableDone = true;
      this.#readableController?.error(error);
    }
    this.#writableController?.error(error);
    this.#rejectClosed(error);
  }
}

/** The `WebSocketError` of a connection that did not close cleanly: lost (1006), or closed with a code (a failure's, or a close whose transport then failed). */
const closeError = (info: CloseInfo): WebSocketError =>
  new WebSocketError(`The connection closed uncleanly (${info.code})`, {
    kind: info.code === 1006 ? 'CONNECTION_LOST' : 'CLOSED', closeCode: info.code, reason: info.reason, cause: info.error,
  });

/**
 * A message whole: a string, or a plain Uint8Array that owns its buffer (the standard's note:
 * the message's ArrayBuffer is `chunk.buffer`). `bytes()` may answer a view of a larger buffer
 * (grown while the message arrived) or a runtime's subclass (a Node Buffer, whose `slice()`
 * does not copy): those are copied into a plain Uint8Array.
 */
async function whole(message: IncomingMessage): Promise<string | Uint8Array<ArrayBuffer>> {
  if (message.type === 'text') return message.text();
  const bytes = await message.bytes();
  if (Object.getPrototypeOf(bytes) === Uint8Array.prototype && bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength) return bytes;
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy;
}

/** A chunk as `send()` takes it: a copy of a BufferSource's bytes, or the chunk converted to a string. */
function outgoing(chunk: unknown): string | Uint8Array<ArrayBuffer> {
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk.slice(0));
  if (ArrayBuffer.isView(chunk)) {
    const copy = new Uint8Array(chunk.byteLength);
    copy.set(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    return copy;
  }
  // The USVString conversion: String() of anything but a Symbol (which throws a TypeError);
  // lone surrogates become U+FFFD when encoded.
  return `${chunk as string}`;
}

/** "Get a URL record": http(s) becomes ws(s); anything that is not ws/wss, or has a fragment, is a SyntaxError. */
function urlRecord(url: string | URL): URL {
  const base = (globalThis as { location?: { href?: string } }).location?.href;
  let record: URL;
  try {
    record = new URL(`${url as string}`, base);
  } catch {
    throw new DOMException(`Invalid URL: ${String(url)}`, 'SyntaxError');
  }
  if (record.protocol === 'http:') record.protocol = 'ws:';
  else if (record.protocol === 'https:') record.protocol = 'wss:';
  if (record.protocol !== 'ws:' && record.protocol !== 'wss:') {
    throw new DOMException(`A WebSocket URL's scheme is ws or wss, got ${record.protocol}`, 'SyntaxError');
  }
  // An empty fragment ("ws://host/#") is a fragment too, though `hash` reads ''.
  if (record.hash !== '' || record.href.endsWith('#')) throw new DOMException('A WebSocket URL has no fragment', 'SyntaxError');
  return record;
}

/** `protocols` as the WebIDL `sequence<USVString>` it is, checked: tokens, none twice. */
function protocolList(protocols: Iterable<string> | undefined): string[] {
  if (protocols === undefined) return [];
  if (typeof protocols !== 'object' || protocols === null || typeof (protocols as Partial<Iterable<string>>)[Symbol.iterator] !== 'function') {
    throw new TypeError('protocols must be a sequence of strings');
  }
  const list = Array.from(protocols, (p) => `${p}`);
  for (const [i, p] of list.entries()) {
    if (!isToken(p) || list.indexOf(p) !== i) throw new DOMException(`Invalid or repeated subprotocol: ${JSON.stringify(p)}`, 'SyntaxError');
  }
  return list;
}
