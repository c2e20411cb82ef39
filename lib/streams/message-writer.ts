import { rejectedWith } from './abort';
import { Opcode } from '../codec/constants';
import { checkFrameLength, subtractLength, type FrameLength } from '../codec/frame-header';
import type { PayloadTransform } from '../protocol/extension';
import { WebSocketError } from './errors';
import { GrowableBuffer, type UnsafeAllocator } from './growable-buffer';
import { encodeText, toBytes, type BinaryData } from './outgoing';
import { streamClasses } from './stream-classes';

/** Every writer's queue starts from this one settled promise (a forwarded echo makes a writer per message). */
const RESOLVED: Promise<void> = Promise.resolve();


/** What a writer needs from its connection (implemented privately by `Connection`). */
export interface SendHost {
  /** The runtime's unzeroed allocator, for the buffers of encoded frames. */
  readonly allocUnsafe: UnsafeAllocator | undefined;
  /** Encodes one whole data frame and writes it; resolves when below the high-water mark. */
  sendWholeFrame(opcode: number, payload: Uint8Array, fin: boolean, rsv: number): Promise<void> | undefined;
  /** Writes a header now; payload pieces follow through `writePiece`, control frames wait. */
  openFrame(opcode: number, length: FrameLength, fin: boolean, rsv: number): (chunk: Uint8Array) => Uint8Array;
  writePiece(bytes: Uint8Array): Promise<void> | undefined;
  closeFrame(): void;
  /** The writer is finished (or failed): the next message may go. */
  release(writer: MessageWriter): void;
  /** Throws if data can no longer be sent. */
  assertCanSend(): void;
}

/** Input compressed into one wire frame when a compressed message's frame is streamed. */
const ENCODED_PIECE_BYTES = 64 * 1024;

/** Per-frame options of `MessageWriter.sendFrame` and `beginFrame`. */
export interface FrameOptions {
  /** Last frame of the message (default false; `end()` finishes a message too). */
  readonly fin?: boolean;
  /** RSV bits for this frame (3-bit, RSV1 = 0b100). Only bits the peer agreed to make sense. */
  readonly rsv?: number;
}

/**
 * Sends one message frame by frame, or a frame in streamed pieces. Obtained from
 * `Connection.beginMessage()`; one message at a time per connection, and its data frames are
 * never interleaved with another message's (control frames may go between them).
 *
 * @example
 * ```ts
 * const w = conn.beginMessage('binary');
 * await w.sendFrame(new Uint8Array([1, 2]));
 * const frame = w.beginFrame(3);                 // exactly 3 bytes must follow
 * const fw = frame.getWriter(); await fw.write(new Uint8Array([3, 4, 5])); await fw.close();
 * await w.end();
 * ```
 */
export class MessageWriter {
  /** The message's type, fixed by `beginMessage(type)`. */
  readonly type: 'text' | 'binary';
  readonly #opcode: number;
  readonly #host: SendHost;
  readonly #encoder: { rsv: number; transform: PayloadTransform } | undefined;
  #first = true;
  #ended = false;
  #finSent = false;
  #frameInProgress = false;
  /** Serialises operations when an async encoder is involved. */
  #tail: Promise<void> = RESOLVED;
  #abortReason: unknown;

  /** @internal The runtime's unzeroed allocator (for what forwards into this writer). */
  get _allocUnsafe(): UnsafeAllocator | undefined {
    return this.#host.allocUnsafe;
  }

  /** @internal */
  constructor(opcode: number, host: SendHost, encoder: { rsv: number; transform: PayloadTransform } | undefined) {
    this.#opcode = opcode;
    this.type = opcode === Opcode.Text ? 'text' : 'binary';
    this.#host = host;
    this.#encoder = encoder;
  }

  /** True once `end()` was called or a frame with `fin` was sent. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Sends one frame of the message. Strings are UTF-8 encoded. Resolves when the transport
   * has taken the bytes below its high-water mark.
   */
  sendFrame(data: BinaryData | string, options: FrameOptions = {}): Promise<void> {
    const payload = typeof data === 'string' ? encodeText(data) : toBytes(data);
    const fin = options.fin ?? false;
    const rsv = checkRsv(options.rsv);
    this.#assertCanWrite('sendFrame');
    if (fin) this.#ended = this.#finSent = true;
    if (this.#encoder === undefined) {
      const p = this.#host.sendWholeFrame(this.#nextOpcode(), payload, fin, rsv);
      if (fin) this.#host.release(this);
      return p ?? Promise.resolve();
    }
    return this.#enqueue(async () => {
      const out = await this.#encode(payload, fin);
      await this.#host.sendWholeFrame(this.#nextOpcode(), out, fin, rsv | this.#firstRsv());
      if (fin) this.#host.release(this);
    });
  }

  /**
   * Starts a frame whose payload is exactly `length` bytes, written in pieces through the
   * returned stream. Writing more than `length` bytes, or closing it short, errors the stream
   * and fails the connection (the frame's header already promised the length).
   *
   * `length` may be anything RFC 6455 allows, up to 2^63 − 1: beyond `Number.MAX_SAFE_INTEGER`
   * pass a `bigint` (a larger `number` throws a RangeError, as it may have been rounded). Such
   * a frame streams until the connection closes; closing then ends TCP without a close frame,
   * since a close frame cannot go inside a frame (see `Connection.close`).
   *
   * @example
   * ```ts
   * const frame = conn.beginMessage('binary').beginFrame(2n ** 63n - 1n).getWriter();
   * for (;;) await frame.write(await nextChunk());   // a stream with no end in sight
   * ```
   */
  beginFrame(declared: FrameLength, options: FrameOptions = {}): WritableStream<Uint8Array> {
    const length = checkFrameLength(declared);
    const fin = options.fin ?? false;
    const rsv = checkRsv(options.rsv);
    this.#assertCanWrite('beginFrame');
    if (fin) this.#ended = this.#finSent = true;
    this.#frameInProgress = true;
    if (this.#encoder !== undefined) return this.#beginEncodedFrame(length, fin, rsv);
    const mask = this.#host.openFrame(this.#nextOpcode(), length, fin, rsv);
    // A bigint only while more than 2^53 − 1 bytes are missing.
    let remaining: FrameLength = length;
    const finish = (): void => {
      this.#frameInProgress = false;
      this.#host.closeFrame();
      if (fin) this.#host.release(this);
    };
    if (length === 0) finish();
    const written = (): bigint => BigInt(length) - BigInt(remaining);
    return new (streamClasses().WritableStream)<Uint8Array>({
      write: (chunk) => {
        const bytes = toBytes(chunk);
        if (bytes.length > remaining) {
          throw new WebSocketError(`Frame was declared as ${length} bytes; ${written() + BigInt(bytes.length)} were written`, { kind: 'FRAME_LENGTH_MISMATCH' });
        }
        if (bytes.length === 0) return;
        this.#host.assertCanSend();
        remaining = subtractLength(remaining, bytes.length);
        const p = this.#host.writePiece(mask(bytes));
        if (remaining === 0) finish();
        return p;
      },
      close: () => {
        if (remaining !== 0) {
          throw new WebSocketError(`Frame was declared as ${length} bytes; the stream closed after ${written()}`, { kind: 'FRAME_LENGTH_MISMATCH' });
        }
      },
    });
  }

  /** Ends the message: sends an empty final frame unless a frame with `fin` was sent. */
  end(): Promise<void> {
    // Cut off (the connection was lost, or the message's source failed): the message never ended.
    if (this.#abortReason !== undefined) return rejectedWith(this.#abortReason);
    if (this.#ended && this.#finSent) return this.#tail;
    if (this.#frameInProgress) throw new TypeError('Cannot end the message: a frame begun with beginFrame() has not received all its bytes');
    if (this.#ended) return this.#tail;
    this.#ended = true;
    return this.#sendFinal();
  }

  #sendFinal(): Promise<void> {
    this.#finSent = true;
    if (this.#encoder === undefined) {
      const p = this.#host.sendWholeFrame(this.#nextOpcode(), new Uint8Array(0), true, 0);
      this.#host.release(this);
      return p ?? Promise.resolve();
    }
    return this.#enqueue(async () => {
      const out = await this.#encode(new Uint8Array(0), true);
      await this.#host.sendWholeFrame(this.#nextOpcode(), out, true, this.#firstRsv());
      this.#host.release(this);
    });
  }

  /** @internal The message was sent by other means (forwarded frame by frame): mark it done. */
  _complete(): void {
    this.#ended = this.#finSent = true;
    this.#host.release(this);
  }

  /** @internal A frame of the message was written (or its header, for a streamed frame). */
  get _started(): boolean {
    return !this.#first;
  }

  /** @internal Abandon: the connection closed under this writer, for `reason`. */
  _abort(reason: unknown): void {
    this.#ended = true;
    this.#abortReason = reason;
    this.#encoder?.transform.dispose();
  }

  #beginEncodedFrame(length: FrameLength, fin: boolean, rsv: number): WritableStream<Uint8Array> {
    // A compressed frame's wire length is known only once its input is compressed, so the
    // declared frame goes out as compressed frames of up to ENCODED_PIECE_BYTES of input each
    // (the receiver inflates their concatenation): memory stays bounded whatever `length` is.
    let remaining: FrameLength = length;
    const pending = new GrowableBuffer(0, this.#host.allocUnsafe);
    const sendPiece = (last: boolean): Promise<void> => {
      const input = pending.take(); // leaves `pending` empty for the next piece
      const isFin = last && fin;
      if (last) this.#frameInProgress = false;
      if (input.length === 0 && !isFin) return this.#tail; // nothing to say yet
      return this.#enqueue(async () => {
        const out = await this.#encode(input, isFin);
        await this.#host.sendWholeFrame(this.#nextOpcode(), out, isFin, rsv | this.#firstRsv());
        if (isFin) this.#host.release(this);
      });
    };
    const finished = length === 0 ? sendPiece(true) : undefined;
    const written = (): bigint => BigInt(length) - BigInt(remaining);
    return new (streamClasses().WritableStream)<Uint8Array>({
      write: (chunk) => {
        const bytes = toBytes(chunk);
        if (bytes.length > remaining) {
          throw new WebSocketError(`Frame was declared as ${length} bytes; ${written() + BigInt(bytes.length)} were written`, { kind: 'FRAME_LENGTH_MISMATCH' });
        }
        if (bytes.length === 0) return undefined;
        this.#host.assertCanSend();
        remaining = subtractLength(remaining, bytes.length);
        pending.append(new Uint8Array(bytes)); // a copy (a Buffer's slice() is a view)
        if (remaining === 0) return sendPiece(true);
        if (pending.length >= ENCODED_PIECE_BYTES) return sendPiece(false);
        return undefined;
      },
      close: () => {
        if (remaining !== 0) {
          throw new WebSocketError(`Frame was declared as ${length} bytes; the stream closed after ${written()}`, { kind: 'FRAME_LENGTH_MISMATCH' });
        }
        return finished;
      },
    });
  }

  async #encode(input: Uint8Array, fin: boolean): Promise<Uint8Array> {
    if (this.#abortReason !== undefined) throw this.#abortReason;
    const out = new GrowableBuffer(0, this.#host.allocUnsafe);
    const emit = (b: Uint8Array): void => out.append(new Uint8Array(b));
    const t = this.#encoder!.transform;
    try {
      if (input.length > 0) await t.transform(input, emit);
      await t.flush(fin, emit);
    } catch (err) {
      // The connection went away mid-encode and disposed of the encoder: the sender learns why
      // the connection went (what every other pending send gets), not how the codec noticed.
      throw this.#abortReason ?? err;
    }
    return out.take();
  }

  #enqueue(op: () => Promise<void>): Promise<void> {
    const p = this.#tail.then(op);
    this.#tail = p.catch(() => undefined);
    return p;
  }

  #firstRsv(): number {
    // RFC 7692 §6.1: the compression bit is set on the first frame of a message only.
    return this.#firstEncodedPending ? ((this.#firstEncodedPending = false), this.#encoder!.rsv) : 0;
  }
  #firstEncodedPending = true;

  #nextOpcode(): number {
    if (this.#first) {
      this.#first = false;
      return this.#opcode;
    }
    return Opcode.Continuation;
  }

  #assertCanWrite(what: string): void {
    if (this.#abortReason !== undefined) throw this.#abortReason;
    if (this.#ended) throw new TypeError(`Cannot ${what}: the message was already ended`);
    if (this.#frameInProgress) {
      throw new TypeError(`Cannot ${what}: the frame begun with beginFrame() has not received all its bytes`);
    }
    this.#host.assertCanSend();
  }
}

function checkRsv(rsv: number | undefined): number {
  if (rsv === undefined) return 0;
  if (!Number.isInteger(rsv) || rsv < 0 || rsv > 0b111) throw new RangeError(`rsv must be a 3-bit number (0–7), got ${rsv}`);
  return rsv;
}
