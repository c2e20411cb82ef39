import type { FrameHeader } from '../codec/frame-header';
import { Opcode } from '../codec/constants';
import { WebSocketError } from './errors';
import { GrowableBuffer } from './growable-buffer';
import { IncomingFrame } from './incoming-frame';
import type { MessageHost } from './message-host';
import { streamClasses } from './stream-classes';
import type { StreamMessage } from './stream-surface';

/**
 * `bytes()` collecting: `whole` is the payload when it ended while `bytes()` was still routing
 * what was here; `settle` is set when it has to wait for more.
 */
interface Collector {
  readonly buf: GrowableBuffer;
  whole: Uint8Array<ArrayBuffer> | undefined;
  settle: { resolve(b: Uint8Array<ArrayBuffer>): void; reject(e: unknown): void } | undefined;
}

/** How a message's payload is being consumed; chosen by the first accessor used. */
type Mode = 'pending' | 'collect' | 'stream' | 'frames' | 'forward' | 'discard';

/**
 * @internal Receives a message's frames directly, without stream objects: how a message is
 * forwarded to another connection (an echo server's hot path).
 */
export interface FrameSink {
  frameStart(header: FrameHeader): void;
  data(chunk: Uint8Array): void;
  frameEnd(fin: boolean): void;
  error(err: WebSocketError): void;
  /** False while the sink's transport is above its high-water mark. */
  wantsData(): boolean;
}

const textDecoder = new TextDecoder();

/**
 * One received message. Its payload is read once, in one of three ways: as a stream of
 * bytes (`stream()`), as a stream of frames (`frames`), or whole (`bytes()`/`text()`/`json()`,
 * bounded by `maxMessageSize`). Until one of them is used, nothing more is read from the
 * connection. Asking the connection for the next message discards what is left of this one.
 *
 * @example
 * ```ts
 * for await (const msg of conn) {
 *   if (msg.type === 'text') console.log(await msg.text());
 *   else await msg.stream().pipeTo(fileSink);
 * }
 * ```
 */
export class IncomingMessage implements StreamMessage {
  /** `'text'` or `'binary'` (a message with a reserved opcode the user allowed is `'binary'`). */
  readonly type: 'text' | 'binary';
  /** Opcode of the first frame: 1 text, 2 binary, or an allowed reserved data opcode. */
  readonly opcode: number;
  /** RSV bits of the first frame. */
  readonly rsv: number;
  /** An extension (permessage-deflate) decoded this message's payload. */
  readonly compressed: boolean;
  readonly #host: MessageHost;
  #mode: Mode = 'pending';
  #finished = false;
  #error: WebSocketError | undefined;
  /** Header of the frame being received, until a consumer has seen it. */
  #header: FrameHeader | undefined;
  #frameOpen = false;
  // stream mode
  #byteController: ReadableStreamDefaultController<Uint8Array> | undefined;
  #bytePull = false;
  // frames mode
  #frameController: ReadableStreamDefaultController<IncomingFrame> | undefined;
  #framePull = false;
  #frame: IncomingFrame | undefined;
  #framesStream: ReadableStream<IncomingFrame> | undefined;
  // forward mode
  #sink: FrameSink | undefined;
  // collect mode
  #collector: Collector | undefined;

  /** @internal */
  constructor(first: FrameHeader, opcode: number, compressed: boolean, host: MessageHost) {
    this.opcode = opcode;
    this.type = opcode === Opcode.Text ? 'text' : 'binary';
    this.rsv = first.rsv;
    this.compressed = compressed;
    this.#host = host;
  }

  /** The frames of this message in wire order, each with its own payload stream. */
  get frames(): ReadableStream<IncomingFrame> {
    if (this.#framesStream) return this.#framesStream;
    this.#claim('frames');
    this.#framesStream = new (streamClasses().ReadableStream)<IncomingFrame>(
      {
        start: (c) => {
          this.#frameController = c;
          if (this.#error) c.error(this.#error);
          else if (this.#finished && !this.#frameOpen && this.#header === undefined) c.close();
        },
        pull: () => {
          // Reading the next frame abandons what is left of the current one.
          if (this.#frame && !this.#frame._ended) this.#frame._discard();
          this.#framePull = true;
          this.#deliverPendingFrame();
          this.#host.demand();
        },
        cancel: () => this._discard(),
      },
      { highWaterMark: 0 },
    );
    return this.#framesStream;
  }

  /** The payload across all frames as one byte stream, with backpressure. */
  stream(): ReadableStream<Uint8Array<ArrayBuffer>> {
    this.#claim('stream');
    return new (streamClasses().ReadableStream)<Uint8Array<ArrayBuffer>>(
      {
        start: (c) => {
          this.#byteController = c;
          if (this.#error) c.error(this.#error);
          else if (this.#finished) c.close();
        },
        pull: () => {
          this.#bytePull = true;
          this.#host.demand();
        },
        cancel: () => this._discard(),
      },
      { highWaterMark: 0 },
    );
  }

  /** The whole payload in one buffer. Bounded by the connection's `maxMessageSize`. */
  bytes(): Promise<Uint8Array<ArrayBuffer>> {
    try {
      this.#claim('collect');
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.#error) return Promise.reject(this.#error);
    const c: Collector = { buf: new GrowableBuffer(this.#header?.length ?? 0, this.#host.allocUnsafe), whole: undefined, settle: undefined };
    this.#collector = c;
    if (this.#finished) this.#finishCollect();
    else this.#host.demand();
    // Most messages are here whole by now (one read brings several, and what was read ahead is
    // routed above): a resolved promise, not a pending one with its executor and resolvers.
    if (c.whole !== undefined) return Promise.resolve(c.whole);
    if (this.#error) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      c.settle = { resolve, reject };
    });
  }

  /** The whole payload decoded as UTF-8 (already validated for text messages). */
  async text(): Promise<string> {
    return textDecoder.decode(await this.bytes());
  }

  /**
   * The whole payload parsed as JSON, as `Response.json()` does: decoded as UTF-8 whatever the
   * message type (a binary message too; a leading BOM is dropped), then `JSON.parse`. Bounded
   * by `maxMessageSize`. Invalid JSON rejects with `JSON.parse`'s `SyntaxError`; the message
   * was read whole, so the connection goes on.
   *
   * `Promise<unknown>`, not a type parameter: the peer decides what arrives, and a
   * `json<T>()` would be a cast that looks like a check. Narrow it with a validator of yours.
   *
   * @example
   * ```ts
   * const value = await msg.json();
   * if (typeof value === 'object' && value !== null && 'op' in value) route(value.op);
   * ```
   */
  async json(): Promise<unknown> {
    return JSON.parse(textDecoder.decode(await this.bytes())) as unknown;
  }

  /** @internal Hands every frame event to `sink` from now on (see `FrameSink`). */
  _forward(sink: FrameSink): void {
    this.#claim('forward');
    this.#sink = sink;
    if (this.#error) {
      sink.error(this.#error);
      return;
    }
    // The first frame began before anyone asked: replay its start.
    if (this.#header !== undefined) sink.frameStart(this.#header);
    this.#host.demand();
  }

  /** @internal The forward sink can take data again. */
  _demand(): void {
    this.#host.demand();
  }

  #claim(mode: Mode): void {
    if (this.#mode !== 'pending') {
      throw new TypeError(
        this.#mode === 'discard'
          ? 'Message was discarded: the next message was read first'
          : `Message payload is already being read (${this.#mode === 'collect' ? 'bytes()/text()' : this.#mode === 'stream' ? 'stream()' : 'frames'})`,
      );
    }
    this.#mode = mode;
  }

  // ---- what the connection calls ----

  /** @internal All frames have ended or the message failed. */
  get _done(): boolean {
    return this.#finished || this.#error !== undefined;
  }

  /** @internal Handed out, and its reader has not chosen how to read it yet. */
  get _unclaimed(): boolean {
    return this.#mode === 'pending';
  }

  /** @internal Whether routing the next event to this message is wanted now. */
  _wantsData(): boolean {
    switch (this.#mode) {
      case 'pending':
        return false;
      case 'collect':
      case 'discard':
        return true;
      case 'stream':
        return this.#bytePull || !this.#frameOpen; // frame boundaries need no consumer
      case 'forward':
        return this.#sink!.wantsData();
      case 'frames':
        if (this.#frame !== undefined && !this.#frame._ended) return this.#frame._wantsData();
        return this.#framePull && this.#header === undefined;
    }
  }

  /** @internal */
  _frameStart(header: FrameHeader): void {
    this.#frameOpen = true;
    if (this.#mode === 'forward') {
      this.#sink!.frameStart(header);
      return;
    }
    if (this.#mode === 'frames') {
      this.#header = header;
      this.#deliverPendingFrame();
    } else {
      this.#header = header;
      if (this.#mode === 'collect' && !this.compressed) this.#collector!.buf.reserve(header.length, header.fin);
    }
  }

  /** @internal Whether the payload is collected whole (it may then come masked: `_maskedData`). */
  _collecting(): boolean {
    return this.#collector !== undefined;
  }

  /** @internal A piece of payload still masked, for the collector (`_collecting()` was true). */
  _maskedData(chunk: Uint8Array, key: Uint8Array, phase: number): void {
    this.#collector!.buf.appendMasked(chunk, key, phase);
  }

  /** @internal */
  _data(chunk: Uint8Array): void {
    switch (this.#mode) {
      case 'collect':
        this.#collector!.buf.append(chunk);
        return;
      case 'stream':
        this.#bytePull = false;
        this.#byteController!.enqueue(chunk);
        return;
      case 'frames':
        this.#frame?._push(chunk);
        return;
      case 'forward':
        this.#sink!.data(chunk);
        return;
      default:
        return;
    }
  }

  /** @internal */
  _frameEnd(fin: boolean): void {
    this.#frameOpen = false;
    if (this.#mode === 'forward') {
      if (fin) this.#finished = true;
      this.#sink!.frameEnd(fin);
      return;
    }
    if (this.#mode === 'frames') {
      // A zero-length frame may end before anyone pulled it: hand it over ended.
      this.#deliverPendingFrame(true);
      this.#frame?._end();
    }
    if (this.#mode !== 'frames') this.#header = undefined;
    if (!fin) return;
    this.#finished = true;
    switch (this.#mode) {
      case 'collect':
        this.#finishCollect();
        return;
      case 'stream':
        this.#byteController?.close();
        return;
      case 'frames':
        if (this.#header === undefined) this.#frameController?.close();
        return;
      default:
        return;
    }
  }

  /** @internal The connection failed or closed before the message ended. */
  _error(err: WebSocketError): void {
    if (this.#finished || this.#error) return;
    this.#error = err;
    this.#byteController?.error(err);
    this.#frameController?.error(err);
    this.#frame?._error(err);
    this.#sink?.error(err);
    if (this.#collector) {
      this.#collector.settle?.reject(err);
      this.#collector = undefined;
    }
  }

  /** @internal Nobody will read the rest: route it nowhere. */
  _discard(): void {
    if (this.#mode === 'discard') return;
    const wasReading = this.#mode !== 'pending';
    this.#mode = 'discard';
    if (!this.#finished && !this.#error && wasReading) {
      // Whoever still holds a reader learns why it stopped instead of hanging.
      const err = new WebSocketError('Message was discarded: the next message was read first', { kind: 'DISCARDED' });
      this.#byteController?.error(err);
      this.#frameController?.error(err);
      this.#frame?._discard();
      this.#sink?.error(err);
      this.#collector?.settle?.reject(err);
      this.#collector = undefined;
    }
    this.#host.demand();
  }

  #deliverPendingFrame(endedAlready = false): void {
    const h = this.#header;
    if (h === undefined || this.#mode !== 'frames') return;
    if (!this.#framePull && !endedAlready) return;
    if (!this.#framePull && endedAlready) {
      // Nobody asked yet: keep the header; the frame is created ended on the next pull.
      this.#pendingEnded = true;
      return;
    }
    this.#header = undefined;
    this.#framePull = false;
    this.#frame = new IncomingFrame(h, this.#host);
    this.#frameController!.enqueue(this.#frame);
    if (this.#pendingEnded) {
      this.#pendingEnded = false;
      this.#frame._end();
      if (this.#finished) this.#frameController!.close();
    }
  }
  #pendingEnded = false;

  #finishCollect(): void {
    const c = this.#collector;
    if (!c) return;
    this.#collector = undefined;
    const whole = c.buf.take();
    if (c.settle) c.settle.resolve(whole);
    else c.whole = whole;
  }
}
