// The stream tier's surface as interfaces: what a user function needs of a connection and of
// its messages, whatever carries them. `Connection` (our own protocol over a transport) and the
// browser entry's `BrowserConnection` (over the browser's WebSocketStream or WebSocket) both
// satisfy them, so one function can be written for either. Types only: nothing here exists at
// run time, and nothing is bundled for it.
import type { FrameLength } from '../codec/frame-header';
import type { ReadyState } from '../protocol/state';
import type { CloseInfo } from './errors';
import type { BinaryData } from './outgoing';

/**
 * One frame of a received message, as `IncomingFrame` has it. A browser never exposes frames:
 * there a message is one frame (`fin` true, `rsv` 0) holding the whole payload.
 */
export interface StreamFrame {
  /** FIN bit as received. */
  readonly fin: boolean;
  /** RSV bits as received. */
  readonly rsv: number;
  /** Opcode as received (0 for continuation frames). */
  readonly opcode: number;
  /** Payload length from the header. */
  readonly length: FrameLength;
  /** The payload as a byte stream. */
  readonly data: ReadableStream<Uint8Array<ArrayBuffer>>;
  /** The whole payload in one buffer. */
  bytes(): Promise<Uint8Array<ArrayBuffer>>;
}

/**
 * A received message, as `IncomingMessage` has it: its payload is read once, as a byte stream
 * (`stream()`), as frames (`frames`) or whole (`bytes()`, `text()`, `json()`).
 */
export interface StreamMessage {
  /** `'text'` or `'binary'`. */
  readonly type: 'text' | 'binary';
  /** The frames of the message in wire order. */
  readonly frames: ReadableStream<StreamFrame>;
  /** The payload across all frames as one byte stream. */
  stream(): ReadableStream<Uint8Array<ArrayBuffer>>;
  /** The whole payload in one buffer, bounded by the connection's `maxMessageSize`. */
  bytes(): Promise<Uint8Array<ArrayBuffer>>;
  /** The whole payload decoded as UTF-8. */
  text(): Promise<string>;
  /** The whole payload parsed as JSON (`Promise<unknown>`: narrow it with a check of yours). */
  json(): Promise<unknown>;
}

/** What every connection sends as one message: text, bytes, a Blob, a byte stream, or one of these with its type. */
export type StreamOutgoing = string | BinaryData | Blob | ReadableStream<Uint8Array> | {
  /** Send as this type, whatever `data` is. */
  readonly type: 'text' | 'binary';
  /** The payload. */
  readonly data: string | BinaryData | Blob | ReadableStream<Uint8Array>;
};

/** Options of `send()` every connection honours. */
export interface StreamSendOptions {
  /** Send as binary (true) or text (false) whatever the data is. */
  readonly binary?: boolean;
  /** Aborts the send: rejects with `signal.reason` (what reached the wire depends on when; see each connection's `send`). */
  readonly signal?: AbortSignal;
}

/** Options of a wait that can be stopped (`nextMessage()`, `close()`). */
export interface StreamWaitOptions {
  /** Stops the wait: the promise rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
}

/**
 * A WebSocket connection as the stream tier presents it, whatever carries it: `Connection`
 * (`websocket-streams`, `websocket-streams/node`) and `BrowserConnection`
 * (`websocket-streams/browser`) both are one.
 *
 * @example
 * ```ts
 * async function echoUpper(conn: StreamConnection): Promise<void> {
 *   for await (const msg of conn) await conn.send((await msg.text()).toUpperCase());
 * }
 * ```
 */
export interface StreamConnection extends AsyncIterable<StreamMessage> {
  /** Incoming messages, one after another. Cancelling it closes the connection (1000). */
  readonly readable: ReadableStream<StreamMessage>;
  /** Messages written here are sent in order. Closing it closes the connection (1000). */
  readonly writable: WritableStream<StreamOutgoing>;
  /** Resolves once the connection is over, with how it ended. Never rejects. */
  readonly closed: Promise<CloseInfo>;
  /** Negotiated subprotocol, `''` when none. */
  readonly protocol: string;
  /** Negotiated extensions, `''` when none. */
  readonly extensions: string;
  /** 1 open, 2 closing, 3 closed. */
  readonly readyState: ReadyState;
  /** Bytes queued for sending and not yet handed on. */
  readonly bufferedAmount: number;
  /** The next message, or `undefined` once no more will come; discards the unread rest of the previous one. */
  nextMessage(options?: StreamWaitOptions): Promise<StreamMessage | undefined>;
  /** The messages as an async iterator; leaving the loop early closes (1000) unless `preventCancel`. */
  values(options?: { readonly preventCancel?: boolean }): AsyncIterableIterator<StreamMessage>;
  /** Sends one message; resolves when the connection can take the next one. */
  send(message: StreamOutgoing, options?: StreamSendOptions): Promise<void>;
  /** Starts the closing handshake and resolves when the connection is over. */
  close(code?: number, reason?: string, options?: StreamWaitOptions): Promise<CloseInfo>;
}
