import { CloseCode, Opcode } from '../codec/constants';
import { checkFrameLength, subtractLength, type FrameLength } from '../codec/frame-header';
import type { Connection } from '../streams/connection';
import type { IncomingMessage } from '../streams/incoming-message';
import type { MessageWriter } from '../streams/message-writer';
import { encodeText, toBytes, type BinaryData } from '../streams/outgoing';
import { GrowableBuffer } from '../streams/growable-buffer';

/** What a callback may return: nothing, or a promise the tier waits for before going on (backpressure). */
export type CallbackResult = void | Promise<void>;

/**
 * Autobahn|Python's `WebSocketProtocol`, on the stream tier. Override the callbacks of the
 * tier you want:
 *
 * - basic: `onMessage(payload, isBinary)` — the whole message, collected for you;
 * - frame-based: `onMessageBegin`, `onMessageFrame(payload)`, `onMessageEnd` — a frame at a time;
 * - streaming: `onMessageFrameBegin(length, rsv)`, `onMessageFrameData(chunk)`,
 *   `onMessageFrameEnd()` — bytes as they arrive, nothing buffered.
 *
 * The default of each lower callback feeds the one above it, so overriding `onMessage` alone
 * just works; the tier reads only as much as the callbacks you override need (a subclass with
 * only `onMessage` never creates a stream object). A callback that returns a promise holds
 * the next one back until it settles, and so holds the peer back. A callback that throws fails
 * the connection with 1011.
 *
 * @example
 * ```ts
 * class Echo extends WebSocketServerProtocol {
 *   override onMessage(payload: Uint8Array, isBinary: boolean) {
 *     return this.sendMessage(payload, isBinary);
 *   }
 * }
 * ```
 */
export class WebSocketProtocol {
  /** 1: a text message (Autobahn's `MESSAGE_TYPE_TEXT`). */
  static readonly MESSAGE_TYPE_TEXT = 1;
  /** 2: a binary message. */
  static readonly MESSAGE_TYPE_BINARY = 2;
  /** 1000: normal closure. */
  static readonly CLOSE_STATUS_CODE_NORMAL = 1000;
  /** 1001: the endpoint is going away. */
  static readonly CLOSE_STATUS_CODE_GOING_AWAY = 1001;
  /** 1002: protocol error. */
  static readonly CLOSE_STATUS_CODE_PROTOCOL_ERROR = 1002;
  /** 1003: a data type the endpoint cannot accept. */
  static readonly CLOSE_STATUS_CODE_PAYLOAD_NOT_ACCEPTED = 1003;
  /**
   * Autobahn's name from before RFC 6455, kept for compatibility. RFC 6455 reserved 1004 and
   * made 1009 ("message too big") the code for oversize data: 1009 is what we send, never 1004.
   */
  static readonly CLOSE_STATUS_CODE_FRAME_TOO_LARGE = 1004;
  /** 1005: the close frame had no status code (never sent on the wire). */
  static readonly CLOSE_STATUS_CODE_NULL = 1005;
  /** 1006: the connection was lost without a close frame (never sent on the wire). */
  static readonly CLOSE_STATUS_CODE_CONNECTION_LOST = 1006;
  /** 1007: a text message that is not valid UTF-8. */
  static readonly CLOSE_STATUS_CODE_TEXT_FRAME_NOT_UTF8 = 1007;
  // Ours, beyond the seed: the codes of RFC 6455 §7.4.1 that the seed predates.
  /** 1008: policy violation. */
  static readonly CLOSE_STATUS_CODE_POLICY_VIOLATION = 1008;
  /** 1009: a message or frame too big (what we send for oversize data). */
  static readonly CLOSE_STATUS_CODE_MESSAGE_TOO_BIG = 1009;
  /** 1010: the client needed an extension the server did not negotiate. */
  static readonly CLOSE_STATUS_CODE_MANDATORY_EXTENSION = 1010;
  /** 1011: internal error (a callback threw). */
  static readonly CLOSE_STATUS_CODE_INTERNAL_ERROR = 1011;

  /** 1: a text message (Autobahn's `MESSAGE_TYPE_TEXT`). */
  readonly MESSAGE_TYPE_TEXT = 1;
  /** 2: a binary message. */
  readonly MESSAGE_TYPE_BINARY = 2;
  /** 1000: normal closure. */
  readonly CLOSE_STATUS_CODE_NORMAL = 1000;
  /** 1001: the endpoint is going away. */
  readonly CLOSE_STATUS_CODE_GOING_AWAY = 1001;
  /** 1002: protocol error. */
  readonly CLOSE_STATUS_CODE_PROTOCOL_ERROR = 1002;
  /** 1003: a data type the endpoint cannot accept. */
  readonly CLOSE_STATUS_CODE_PAYLOAD_NOT_ACCEPTED = 1003;
  /** 1004: Autobahn's pre-RFC 6455 "frame too large"; reserved now, never sent (see the static). */
  readonly CLOSE_STATUS_CODE_FRAME_TOO_LARGE = 1004;
  /** 1005: the close frame had no status code (never sent on the wire). */
  readonly CLOSE_STATUS_CODE_NULL = 1005;
  /** 1006: the connection was lost without a close frame (never sent on the wire). */
  readonly CLOSE_STATUS_CODE_CONNECTION_LOST = 1006;
  /** 1007: a text message that is not valid UTF-8. */
  readonly CLOSE_STATUS_CODE_TEXT_FRAME_NOT_UTF8 = 1007;

  #conn: Connection | undefined;
  #writer: MessageWriter | undefined;
  #frame: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #frameRemaining: FrameLength = 0;
  // Collectors the default callbacks use.
  #frameBuf: GrowableBuffer | undefined;
  #messageBuf: GrowableBuffer | undefined;
  #messageBinary = false;

  /** The stream-tier connection underneath (ours: the seed has a transport instead). */
  get connection(): Connection {
    if (!this.#conn) throw new TypeError('This protocol is not attached to a connection yet');
    return this.#conn;
  }

  // ------------------------------------------------------------------ callbacks ----

  /** The opening handshake is done. */
  onOpen(): CallbackResult {}

  /** The connection is over: `wasClean`, the close code (1005 none, 1006 lost) and reason. */
  onClose(_wasClean: boolean, _code: number, _reason: string): CallbackResult {}

  /** A ping arrived. The default answers with a pong; override to decide yourself. */
  onPing(payload: Uint8Array): CallbackResult {
    return this.sendPong(payload);
  }

  /** A pong arrived. */
  onPong(_payload: Uint8Array): CallbackResult {}

  /**
   * A message begins. Default: start collecting it for `onMessage`. `opcode` (ours) is 1 or
   * 2, or a reserved data opcode (0x3–0x7) an extension or `allowReservedOpcodes` admitted.
   */
  onMessageBegin(isBinary: boolean, _opcode?: number): CallbackResult {
    this.#messageBinary = isBinary;
    this.#messageBuf = new GrowableBuffer(0, this.#conn?._allocUnsafe);
  }

  /**
   * A frame begins: its payload `length` as announced and its RSV bits. Default: collect it.
   * `length` is a `bigint` when beyond 2^53 − 1 (accepted only with `maxFrameSize: Infinity`).
   */
  onMessageFrameBegin(length: FrameLength, _rsv?: number): CallbackResult {
    this.#frameBuf = new GrowableBuffer(length, this.#conn?._allocUnsafe);
  }

  /** A piece of the current frame's payload, as it arrived. Default: collect it. */
  onMessageFrameData(payload: Uint8Array): CallbackResult {
    this.#frameBuf?.append(payload);
  }

  /** The current frame ended. Default: hand the collected frame to `onMessageFrame`. */
  onMessageFrameEnd(): CallbackResult {
    const payload = this.#frameBuf?.take() ?? new Uint8Array(0);
    this.#frameBuf = undefined;
    return this.onMessageFrame(payload);
  }

  /** A whole frame of the current message. Default: collect it for `onMessage`. */
  onMessageFrame(payload: Uint8Array): CallbackResult {
    this.#messageBuf?.append(payload);
  }

  /** The message ended. Default: hand the collected message to `onMessage`. */
  onMessageEnd(): CallbackResult {
    const payload = this.#messageBuf?.take() ?? new Uint8Array(0);
    this.#messageBuf = undefined;
    return this.onMessage(payload, this.#messageBinary);
  }

  /** A whole message. */
  onMessage(_payload: Uint8Array, _isBinary: boolean): CallbackResult {}

  // --------------------------------------------------------------- send methods ----

  /**
   * Sends a whole message; `fragmentSize` splits it into frames. Resolves with backpressure.
   * (`sync` is accepted for Autobahn compatibility; every send is ordered and asynchronous.)
   */
  sendMessage(payload: BinaryData | string, isBinary = false, fragmentSize?: number, _sync = false, doNotCompress = false): Promise<void> {
    const bytes = typeof payload === 'string' ? encodeText(payload) : toBytes(payload);
    if (fragmentSize === undefined) return this.connection._sendBytes(isBinary ? Opcode.Binary : Opcode.Text, bytes, !doNotCompress);
    return this.connection.send({ type: isBinary ? 'binary' : 'text', data: bytes }, { fragmentSize, compress: !doNotCompress });
  }

  /**
   * Begins a message to send frame by frame (`sendMessageFrame`) or streamed (`beginMessageFrame`).
   * `opcode` (ours, advanced) sends a reserved data opcode 0x3–0x7 an extension defines.
   */
  beginMessage(isBinary = false, doNotCompress = false, opcode?: number): void {
    if (this.#writer) throw new TypeError('beginMessage(): the previous message has not ended (call endMessage() first)');
    this.#writer = this.connection.beginMessage(isBinary ? 'binary' : 'text', { compress: !doNotCompress, opcode });
  }

  /** Sends one complete frame of the message begun with `beginMessage`. */
  sendMessageFrame(payload: BinaryData | string, _sync = false, rsv = 0): Promise<void> {
    const w = this.#requireWriter('sendMessageFrame');
    if (this.#frame) throw new TypeError(`sendMessageFrame(): the frame begun with beginMessageFrame() still needs ${this.#frameRemaining} bytes`);
    return w.sendFrame(typeof payload === 'string' ? encodeText(payload) : toBytes(payload), { rsv });
  }

  /**
   * Begins a frame of exactly `length` bytes, sent with `sendMessageFrameData`. Up to
   * 2^63 − 1 (RFC 6455 §5.2): beyond `Number.MAX_SAFE_INTEGER` pass a `bigint`, as Autobahn's
   * streaming demo does with `beginMessageFrame(0x7fffffffffffffffn)`.
   */
  beginMessageFrame(length: FrameLength, rsv = 0): void {
    const w = this.#requireWriter('beginMessageFrame');
    if (this.#frame) throw new TypeError(`beginMessageFrame(): the current frame still needs ${this.#frameRemaining} bytes`);
    this.#frame = w.beginFrame(length, { rsv }).getWriter();
    // Normalised (a bigint only beyond 2^53 − 1), as the writer counts it.
    this.#frameRemaining = checkFrameLength(length);
    if (this.#frameRemaining === 0) this.#frame = undefined;
  }

  /** Sends the next bytes of the frame begun with `beginMessageFrame`. More than announced throws. */
  sendMessageFrameData(payload: BinaryData | string, _sync = false): Promise<void> {
    const frame = this.#frame;
    if (!frame) throw new TypeError('sendMessageFrameData(): no frame begun (call beginMessageFrame(length) first)');
    const bytes = typeof payload === 'string' ? encodeText(payload) : toBytes(payload);
    if (bytes.length > this.#frameRemaining) {
      throw new RangeError(`sendMessageFrameData(): ${bytes.length} bytes given but the frame needs only ${this.#frameRemaining} more`);
    }
    this.#frameRemaining = subtractLength(this.#frameRemaining, bytes.length);
    if (this.#frameRemaining === 0) this.#frame = undefined;
    return frame.write(bytes);
  }

  /** Ends the message (an empty final frame). */
  endMessage(): Promise<void> {
    const w = this.#requireWriter('endMessage');
    if (this.#frame) throw new TypeError(`endMessage(): the current frame still needs ${this.#frameRemaining} bytes`);
    this.#writer = undefined;
    return w.end();
  }

  /** Sends a ping (≤ 125 bytes). */
  sendPing(payload?: BinaryData | string): Promise<void> {
    // Sent as Autobahn sends it, always, whatever is in flight: not matched to its pong.
    this.connection._sendPing(payload);
    return Promise.resolve();
  }

  /** Sends a pong (≤ 125 bytes). */
  sendPong(payload?: BinaryData | string): Promise<void> {
    this.connection.pong(payload);
    return Promise.resolve();
  }

  /** Starts the closing handshake. */
  sendClose(code?: number, reason?: string): Promise<void> {
    return this.connection.close(code, reason).then(() => undefined);
  }

  #requireWriter(what: string): MessageWriter {
    if (!this.#writer) throw new TypeError(`${what}(): no message begun (call beginMessage() first)`);
    return this.#writer;
  }

  // --------------------------------------------------------------------- driver ----

  /**
   * Runs this protocol on `conn`: `onOpen`, then the callbacks for every message, then
   * `onClose`. Resolves when the connection is over. Factories call it; you may too.
   */
  async run(conn: Connection): Promise<void> {
    if (this.#conn) throw new TypeError('This protocol already runs on a connection');
    this.#conn = conn;
    const tier = tierOf(this);
    conn.onPing = overrides(this, 'onPing') ? (d) => this.#guard(() => this.onPing(d)) : undefined;
    conn.onPong = (d) => this.#guard(() => this.onPong(d));
    try {
      await this.onOpen();
      for (let msg = await conn.nextMessage(); msg; msg = await conn.nextMessage()) {
        // Only onMessage is overridden: collect without any stream object, and inline, since
        // this loop runs once per message (an async call of its own costs a promise more).
        if (tier !== 'message') await this.#deliver(msg, tier);
        else {
          let payload: Uint8Array;
          try {
            payload = await msg.bytes();
          } catch {
            continue; // the connection failed: the next nextMessage() ends the loop, closed/onClose report it
          }
          await this.onMessage(payload, msg.opcode !== Opcode.Text);
        }
      }
    } catch (err) {
      await this.#failed(err);
    }
    const info = await conn.closed;
    try {
      await this.onClose(info.wasClean, info.code, info.reason);
    } catch (err) {
      reportError(err);
    }
  }

  /** One message, through the frame or the streaming tier's callbacks. */
  async #deliver(msg: IncomingMessage, tier: Exclude<Tier, 'message'>): Promise<void> {
    const isBinary = msg.opcode !== Opcode.Text;
    await this.onMessageBegin(isBinary, msg.opcode);
    const frames = msg.frames.getReader();
    try {
      for (;;) {
        const { done, value: frame } = await frames.read();
        if (done) break;
        if (tier === 'frame') {
          await this.onMessageFrame(await frame.bytes());
          continue;
        }
        await this.onMessageFrameBegin(frame.length, frame.rsv);
        const data = frame.data.getReader();
        for (;;) {
          const { done: end, value } = await data.read();
          if (end) break;
          await this.onMessageFrameData(value);
        }
        await this.onMessageFrameEnd();
      }
    } catch (err) {
      if (isTransportFailure(err)) return;
      throw err;
    }
    await this.onMessageEnd();
  }

  #guard(fn: () => CallbackResult): void {
    try {
      const r = fn();
      if (r && typeof (r as Promise<void>).then === 'function') (r as Promise<void>).catch((err) => this.#failed(err));
    } catch (err) {
      void this.#failed(err);
    }
  }

  async #failed(err: unknown): Promise<void> {
    if (isTransportFailure(err)) return;
    reportError(err);
    const conn = this.#conn!;
    const reason = `Internal error: ${err instanceof Error ? err.message : String(err)}`.slice(0, 60);
    try {
      await conn.close(CloseCode.InternalError, reason);
    } catch {
      /* already closing */
    }
  }
}

type Tier = 'message' | 'frame' | 'stream';

const STREAMING = ['onMessageFrameBegin', 'onMessageFrameData', 'onMessageFrameEnd'] as const;
const FRAMED = ['onMessageBegin', 'onMessageFrame', 'onMessageEnd'] as const;

function overrides(p: WebSocketProtocol, name: keyof WebSocketProtocol): boolean {
  return (p as unknown as Record<string, unknown>)[name] !== (WebSocketProtocol.prototype as unknown as Record<string, unknown>)[name];
}

/** The cheapest tier that still calls every callback the subclass overrides. */
function tierOf(p: WebSocketProtocol): Tier {
  if (STREAMING.some((n) => overrides(p, n))) return 'stream';
  if (FRAMED.some((n) => overrides(p, n))) return 'frame';
  return 'message';
}

/** Whether a subclass answers pings itself (then the connection must not auto-pong). */
export function overridesOnPing(protocol: WebSocketProtocol): boolean {
  return overrides(protocol, 'onPing');
}

function isTransportFailure(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: string }).name === 'WebSocketError';
}

function reportError(err: unknown): void {
  // Surfaced, never thrown out of an event handler: the connection's fate is in onClose.
  (globalThis as { console?: { error(...a: unknown[]): void } }).console?.error('websocket-streams: a protocol callback failed:', err);
}

