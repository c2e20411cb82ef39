import { CloseCode, Opcode } from '../codec/constants';
import type { FrameLength } from '../codec/frame-header';
import type { PayloadTransform } from '../protocol/extension';
import { InvalidStateError } from '../protocol/protocol';
import type { Clock } from './clock';
import type { ConnectionParts } from './core';
import type { UnsafeAllocator } from './growable-buffer';
import { WebSocketError } from './errors';
import { markHandled, rejectedWith, whenAborted } from './abort';
import { Forwarding, type ForwardHost } from './forwarding';
import { forwardMessage } from './forward-message';
import { IncomingMessage } from './incoming-message';
import { MessageWriter, type SendHost } from './message-writer';
import {
  blobChunks, encodeText, isBlob, isReadableStream, toBytes,
  type BinaryData, type OutgoingData, type OutgoingMessage, type SendOptions,
} from './outgoing';

const resolved = Promise.resolve();
const noop = (): void => undefined;
/** The empty waiter list every outbound starts with; replaced by its own array on the first wait. */
const NONE_WAITING: never[] = Object.freeze([]) as never[];
const NO_COMPRESSION: SendOptions = Object.freeze({ compress: false });

/**
 * Everything a connection sends, and the only writer to its transport: whole messages,
 * messages frame by frame (`MessageWriter`), received messages forwarded as they arrive, and
 * the control frames the protocol owes. One message at a time (a queue of writers), control
 * frames between frames but never inside one. Made on a connection's first send.
 *
 * It is its writers' `SendHost` and its forwardings' `ForwardHost` itself (prototype methods,
 * no closures per connection).
 */
export class Outbound implements SendHost, ForwardHost {
  readonly #parts: ConnectionParts;
  readonly allocUnsafe: UnsafeAllocator | undefined;
  #writer: MessageWriter | undefined;
  #writerQueue: Array<() => void> = NONE_WAITING;
  /** A frame's header is written and its payload is not all written yet. */
  #frameOpen = false;
  /** The half-written frame is a MessageWriter's, which can send no more of it after a close. */
  #writerFrameOpen = false;
  /** The transport said it is above its mark, and has not drained since. */
  #behind = false;
  /** A frame could not be completed: nothing more may be written (see `abandon`). */
  #wireAbandoned = false;
  #drainWaiters: Array<{ resolve(): void; reject(e: unknown): void }> = NONE_WAITING;
  /** Bytes of `sendEncoded` frames queued behind a message being sent (what `broadcast()` bounds). */
  encodedBacklog = 0;

  constructor(parts: ConnectionParts) {
    this.#parts = parts;
    this.allocUnsafe = parts.runtime.allocUnsafe;
  }

  /** The transport said it is above its mark and has not drained since: pongs wait. */
  get writeBehind(): boolean {
    return this.#behind;
  }

  // ---- sending messages ----

  send(message: OutgoingMessage, options: SendOptions): Promise<void> {
    if (options.signal?.aborted) return rejectedWith(options.signal.reason);
    let data: OutgoingData;
    let type: 'text' | 'binary';
    if (isTyped(message)) {
      data = message.data;
      type = message.type;
    } else {
      data = message as OutgoingData;
      type = typeof data === 'string' ? 'text' : data instanceof IncomingMessage ? data.type : 'binary';
    }
    if (options.binary !== undefined) type = options.binary ? 'binary' : 'text';
    const fragmentSize = options.fragmentSize;
    if (fragmentSize !== undefined && (!Number.isSafeInteger(fragmentSize) || fragmentSize < 1)) {
      throw new RangeError(`fragmentSize must be a positive integer, got ${fragmentSize}`);
    }
    const opcode = type === 'text' ? Opcode.Text : Opcode.Binary;
    if (typeof data === 'string' || (!isBlob(data) && !isReadableStream(data) && !(data instanceof IncomingMessage))) {
      const bytes = typeof data === 'string' ? encodeText(data) : toBytes(data as BinaryData);
      if (fragmentSize === undefined && this.#maySendNow(options.compress !== false)) return this.#sendNow(opcode, bytes);
      return markHandled(this.#withWriter(opcode, bytes.length, options, async (w) => {
        const size = fragmentSize ?? Math.max(bytes.length, 1);
        for (let at = 0; at < bytes.length || at === 0; at += size) {
          const end = Math.min(bytes.length, at + size);
          await w.sendFrame(bytes.subarray(at, end), { fin: end >= bytes.length });
          if (end >= bytes.length) break;
        }
      }));
    }
    if (data instanceof IncomingMessage) {
      const msg = data;
      if (!msg.compressed && (this.#parts.extensions.length === 0 || options.compress === false) && msg.opcode === opcode) {
        return markHandled(this.#withWriter(opcode, undefined, options, async (w) => {
          await this.#forward(msg);
          w._complete();
        }, true));
      }
      return markHandled(this.#withWriter(opcode, undefined, options, (w) => forwardMessage(msg, w)));
    }
    const source = isBlob(data) ? blobChunks(data) : iterateStream(data as ReadableStream<Uint8Array>, options.signal);
    return markHandled(this.#withWriter(opcode, isBlob(data) ? data.size : undefined, options, async (w) => {
      for await (const chunk of source) {
        const bytes = toBytes(chunk as BinaryData);
        if (bytes.length > 0) await w.sendFrame(bytes);
      }
      await w.end();
    }));
  }

  /** `send(bytes, { binary, compress })` in one frame, without the message and options objects. */
  sendBytes(opcode: number, bytes: Uint8Array, compress: boolean): Promise<void> {
    if (this.#maySendNow(compress)) return this.#sendNow(opcode, bytes);
    return this.send({ type: opcode === Opcode.Text ? 'text' : 'binary', data: bytes }, { compress });
  }

  /** Nothing in the way (no message being sent), and no extension to encode: a whole frame can be written now. */
  #maySendNow(compress: boolean): boolean {
    return !this.#busy && (this.#parts.extensions.length === 0 || !compress);
  }

  #sendNow(opcode: number, bytes: Uint8Array): Promise<void> {
    try {
      this.assertCanSend();
    } catch (err) {
      return rejectedWith(err);
    }
    return this.sendWholeFrame(opcode, bytes, true, 0) ?? resolved;
  }

  /** `forwards`: the body writes its frames itself, not through the writer (see `#forward`). */
  async #withWriter(
    opcode: number, sizeHint: number | undefined, options: SendOptions, body: (w: MessageWriter) => Promise<void>, forwards = false,
  ): Promise<void> {
    const signal = options.signal;
    if (signal !== undefined) return this.#withWriterUntil(opcode, sizeHint, options, body, signal, forwards);
    // Nothing in the way: the turn is taken now, before this function's first await, so that
    // a message sent after this one (a whole frame written at once) cannot go before it.
    if (this.#busy) await this.#acquire();
    const w = this.#newWriter(opcode, sizeHint, options.compress !== false);
    try {
      await body(w);
      if (!w.ended) await w.end();
    } catch (err) {
      this.#abandonWriter(w, err);
      throw err;
    }
  }

  /**
   * `#withWriter` for a send with a signal. Aborted while waiting its turn, the send leaves
   * the queue and nothing of it reaches the wire. Aborted in its turn before its first frame
   * went out (a source being read), it lets the next message go, nothing of it sent. Aborted
   * once its frames are going out, the message cannot be taken back or cut short: RFC 6455
   * §5.4 lets no other message's frames in until it ends, and ending it early would hand the
   * peer a truncated message as if whole.
   * So the connection fails (1011, the close frame between two frames, as when a message's
   * source fails; python-websockets does the same when a fragmented send stops half-way).
   * Aborted once all its frames are written, the send is done and resolves as usual.
   */
  async #withWriterUntil(
    opcode: number, sizeHint: number | undefined, options: SendOptions, body: (w: MessageWriter) => Promise<void>,
    signal: AbortSignal, forwards: boolean,
  ): Promise<void> {
    // As `#withWriter`: with nothing in the way the turn is taken before the first await.
    if (this.#busy || signal.aborted) await this.#acquireUntil(signal);
    const w = this.#newWriter(opcode, sizeHint, options.compress !== false);
    let rejectAborted: (reason: unknown) => void = noop;
    const aborted = new Promise<never>((_, reject) => (rejectAborted = reject));
    const onAbort = (): void => {
      // All of the message is written (the writer let go of the connection): nothing to undo.
      if (w.ended && this.#writer !== w) return;
      if (forwards || w._started) {
        this.#abandonWriter(w, signal.reason);
      } else {
        // Nothing on the wire yet: the writer refuses the body's next frame, the next message may go.
        w._abort(signal.reason);
        this.release(w);
      }
      rejectAborted(signal.reason);
    };
    // Aborted in the turn between the queue and here: no listener would ever run.
    if (signal.aborted) onAbort();
    const stop = whenAborted(signal, onAbort);
    const sending = (async () => {
      await body(w);
      if (!w.ended) await w.end();
    })();
    try {
      await Promise.race([sending, aborted]);
    } catch (err) {
      // After an abort the body fails on its own next write (or the source's cancel): handled.
      sending.catch(noop);
      if (!signal.aborted || err !== signal.reason) this.#abandonWriter(w, err);
      throw err;
    } finally {
      stop();
    }
  }

  /**
   * A message's source failed. If the writer had not sent all of its message, the frames
   * already sent promised more: fail the connection rather than leave the peer waiting for a
   * message that never ends.
   */
  #abandonWriter(w: MessageWriter, err: unknown): void {
    // Not ended, or ended but still the current writer (a final frame begun with beginFrame()
    // unfinished): frames already sent promised more.
    if (w.ended && this.#writer !== w) return;
    w._abort(err);
    // A connection already over is not failed again (its end, and what later sends learn, stand).
    if (this.#parts.protocol.closeSent === undefined && !this.#parts.core._finalized) {
      this.#parts.core._failLocally(CloseCode.InternalError, 'Message source failed');
    }
    this.release(w);
  }

  beginMessage(opcode: number, compress: boolean): MessageWriter {
    if (this.#busy) {
      throw new TypeError('Cannot begin a message: the previous message has not ended (call end() on its writer first)');
    }
    this.assertCanSend();
    return this.#newWriter(opcode, undefined, compress);
  }

  #newWriter(opcode: number, sizeHint: number | undefined, compress: boolean): MessageWriter {
    let encoder: { rsv: number; transform: PayloadTransform } | undefined;
    if (compress) {
      for (const ext of this.#parts.extensions) {
        encoder = ext.createEncoder(opcode, sizeHint);
        if (encoder) break;
      }
    }
    const w = new MessageWriter(opcode, this, encoder);
    this.#writer = w;
    return w;
  }

  /**
   * Sends a received message frame for frame as its bytes arrive, with no stream objects
   * (see `Forwarding`); reading waits while this transport is above its mark.
   */
  #forward(msg: IncomingMessage): Promise<void> | undefined {
    const f = new Forwarding(this, msg);
    msg._forward(f);
    return f.outcome();
  }

  /**
   * What sending a piped message (`readable.pipeTo(writable)` between connections) costs:
   * nothing when it can be forwarded as it is (no compression either way, no other message
   * being sent) and was forwarded whole at once; otherwise the promise to wait for.
   */
  sendPiped(msg: IncomingMessage): Promise<void> | undefined {
    if (msg.compressed || this.#parts.extensions.length > 0 || this.#busy ||
        msg.opcode !== (msg.type === 'text' ? Opcode.Text : Opcode.Binary)) {
      return this.sendFromWritable(msg);
    }
    const w = this.#newWriter(msg.opcode, undefined, false);
    let forwarding: Promise<void> | undefined;
    try {
      forwarding = this.#forward(msg);
    } catch (err) {
      return this.#pipedFailed(w, err);
    }
    if (forwarding === undefined) {
      w._complete();
      return undefined;
    }
    return forwarding.then(
      () => w._complete(),
      (err: unknown) => this.#pipedFailed(w, err),
    );
  }

  #pipedFailed(w: MessageWriter, err: unknown): Promise<void> {
    this.#abandonWriter(w, err);
    return this.#isOwnFailure(err) ? resolved : Promise.reject(err);
  }

  /** A message written to `writable`: a failure of this very connection is reported by `closed` instead. */
  async sendFromWritable(msg: OutgoingMessage): Promise<void> {
    try {
      await this.send(msg, {});
    } catch (err) {
      if (!this.#isOwnFailure(err)) throw err;
    }
  }

  #isOwnFailure(err: unknown): boolean {
    return (this.#parts.protocol.closeSent !== undefined || this.#parts.core._finalized) && err instanceof WebSocketError;
  }

  /** A message is being sent, or waits for its turn: a new one queues behind. */
  get #busy(): boolean {
    return this.#writer !== undefined || this.#writerQueue.length > 0;
  }

  #acquire(): Promise<void> {
    if (!this.#busy) return resolved;
    if (this.#writerQueue === NONE_WAITING) this.#writerQueue = [];
    return new Promise((resolve) => this.#writerQueue.push(resolve));
  }

  /**
   * `broadcast()`'s way in: a whole message already encoded as one frame, the same chunks for
   * every connection that can share them. Written at once when nothing is being sent, else
   * queued behind the message in progress (and the messages waiting for it): never inside a
   * fragmented message. `frame` may still be compressing; its turn waits for it (it never
   * rejects). The caller checked that the connection is open.
   */
  sendEncoded(frame: readonly Uint8Array[] | Promise<readonly Uint8Array[]>, size: number): void {
    if (!this.#busy && !(frame instanceof Promise)) {
      this.#writeEncoded(frame);
      return;
    }
    this.encodedBacklog += size;
    void this.#withWriter(Opcode.Binary, size, NO_COMPRESSION, async (w) => {
      let chunks: readonly Uint8Array[];
      try {
        chunks = await frame;
      } finally {
        this.encodedBacklog -= size;
      }
      // The connection may have closed while this frame waited: it is dropped, as a broadcast
      // drops a connection that is no longer open.
      if (this.#mayStillSend()) this.#writeEncoded(chunks);
      w._complete();
    }).catch(noop);
  }

  /** Like `#write`, with nobody to tell of the drain: a broadcast above the mark makes no waiter per connection. */
  #writeEncoded(chunks: readonly Uint8Array[]): void {
    if (this.#parts.core._finalized || this.#wireAbandoned) return;
    if (!this.#parts.transport.write(chunks)) this.#behind = true;
  }

  #mayStillSend(): boolean {
    try {
      this.assertCanSend();
      return true;
    } catch {
      return false;
    }
  }

  /** `#acquire()`, leaving the queue with `signal.reason` if the signal aborts before its turn. */
  #acquireUntil(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return rejectedWith(signal.reason);
    if (!this.#busy) return resolved;
    if (this.#writerQueue === NONE_WAITING) this.#writerQueue = [];
    return new Promise((resolve, reject) => {
      const turn = (): void => {
        stop();
        resolve();
      };
      const stop = whenAborted(signal, () => {
        const i = this.#writerQueue.indexOf(turn);
        if (i >= 0) this.#writerQueue.splice(i, 1);
        reject(signal.reason);
      });
      this.#writerQueue.push(turn);
    });
  }

  // ---- SendHost (for MessageWriter) ----

  sendWholeFrame(opcode: number, payload: Uint8Array, fin: boolean, rsv: number): Promise<void> | undefined {
    return this.#write(this.#parts.protocol.encodeDataFrame(opcode, payload, fin, rsv));
  }

  openFrame(opcode: number, length: FrameLength, fin: boolean, rsv: number): (chunk: Uint8Array) => Uint8Array {
    const { header, mask } = this.#parts.protocol.beginDataFrame(opcode, length, fin, rsv);
    this.#frameOpen = this.#writerFrameOpen = true;
    void this.#write([header]);
    return mask;
  }

  writePiece(bytes: Uint8Array): Promise<void> | undefined {
    return this.#write([bytes]);
  }

  closeFrame(): void {
    this.#frameOpen = this.#writerFrameOpen = false;
    this.flushControl();
  }

  release(w: MessageWriter): void {
    if (this.#writer !== w) return;
    this.#writer = undefined;
    const next = this.#writerQueue.length > 0 ? this.#writerQueue.shift() : undefined;
    next?.();
  }

  assertCanSend(): void {
    const core = this.#parts.core;
    if (core._finalized) {
      const p = this.#parts.protocol;
      // Lost or failed, not closed by a completed handshake: the sender learns why, as a send
      // pending at that moment did (a WebSocketError); sending after a close is misuse.
      if (p.failure !== undefined || p.closeSent === undefined || p.closeReceived === undefined) throw core._lostError();
      throw new InvalidStateError('Cannot send: the connection is closed');
    }
    if (this.#parts.protocol.closeSent !== undefined && !this.#parts.core._controlHeld) {
      throw new InvalidStateError('Cannot send data after the close frame was sent');
    }
  }

  // ---- ForwardHost (for Forwarding) ----

  get clock(): Clock {
    return this.#parts.opts.clock;
  }

  beginFrame(opcode: number, length: FrameLength, fin: boolean, rsv: number): { header: Uint8Array; mask(chunk: Uint8Array): Uint8Array } {
    const f = this.#parts.protocol.beginDataFrame(opcode, length, fin, rsv);
    if (length !== 0) this.#frameOpen = true;
    return f;
  }

  write(chunks: Uint8Array[]): Promise<void> | undefined {
    return this.#write(chunks);
  }

  frameDone(): void {
    this.#frameOpen = false;
    this.flushControl();
  }

  abandon(): void {
    if (!this.#frameOpen) return;
    // A header promised bytes that will never come, and nothing may go inside the frame, a
    // close frame neither (RFC 6455 §5.2, §5.4): like a writer's frame, it stays open, and
    // flushControl ends TCP once the close is owed (the peer sees 1006).
    this.#writerFrameOpen = true;
    if (this.#parts.protocol.closeSent === undefined) this.#parts.core._failLocally(CloseCode.InternalError, 'Forwarded message failed');
    else this.flushControl();
  }

  #abandonWire(reason: Error): void {
    this.#wireAbandoned = true;
    this.#parts.core._abandonWire(reason);
  }

  // ---- the transport ----

  /** Writes chunks; resolves at once unless the transport is above its high-water mark. */
  #write(chunks: readonly Uint8Array[]): Promise<void> | undefined {
    if (this.#parts.core._finalized || this.#wireAbandoned) return rejectedWith(this.#parts.core._lostError());
    if (this.#parts.transport.write(chunks)) return undefined;
    this.#behind = true;
    if (this.#drainWaiters === NONE_WAITING) this.#drainWaiters = [];
    return markHandled(new Promise((resolve, reject) => this.#drainWaiters.push({ resolve, reject })));
  }

  /** The transport went back below its mark. */
  drained(): void {
    this.#behind = false;
    const drainWaiters = this.#drainWaiters;
    this.#drainWaiters = NONE_WAITING;
    for (const d of drainWaiters) d.resolve();
    this.flushControl();
  }

  /**
   * Sends the control frames the protocol owes, unless a frame is half written (they go when
   * it ends) or the inbound part holds a failure back (it goes after the messages before it).
   */
  flushControl(): void {
    const p = this.#parts.protocol;
    if (this.#frameOpen) {
      // A close frame is owed while a writer's streamed frame is half written: its header
      // promised bytes that can no longer be sent (no data after a close), and a close frame
      // cannot go inside a frame (RFC 6455 §5.2, §5.4). Ending TCP is the only way out (the
      // peer sees 1006); waiting would only hold both sides for closeTimeout. This is how a
      // frame of 2^63 − 1 bytes ends. (A forwarded frame still completes, then the close goes.)
      if (this.#writerFrameOpen && p.closeSent !== undefined && !this.#parts.core._controlHeld) {
        this.#abandonWire(new Error('The close frame could not be sent: a frame begun with beginFrame() was unfinished'));
      }
      return;
    }
    if (!p.hasOutput || this.#parts.core._controlHeld || this.#wireAbandoned || this.#parts.core._finalized) return;
    // Above the transport's mark, pongs wait for the drain, coalesced into one (RFC 6455
    // §5.5.3): a peer that pings and never reads cannot grow our output. A close goes anyway.
    if (this.#behind && p.closeSent === undefined) return;
    if (!this.#parts.transport.write(p.takeOutput())) this.#behind = true;
    this.#parts.core._controlWritten();
  }

  /** The connection is over: every pending send fails with `lost`. */
  finalize(lost: WebSocketError): void {
    const drainWaiters = this.#drainWaiters;
    this.#drainWaiters = NONE_WAITING;
    for (const d of drainWaiters) d.reject(lost);
    this.#writer?._abort(lost);
    this.#writer = undefined;
    const writerQueue = this.#writerQueue;
    this.#writerQueue = NONE_WAITING;
    for (const next of writerQueue) next();
  }

  // ---- control frames the user sends ----

  ping(data: BinaryData | string): void {
    this.#parts.protocol.ping(typeof data === 'string' ? encodeText(data) : toBytes(data));
    this.flushControl();
  }

  pong(data: BinaryData | string): void {
    this.#parts.protocol.pong(typeof data === 'string' ? encodeText(data) : toBytes(data));
    this.flushControl();
  }

  sendControlFrame(opcode: number, data: BinaryData | string): void {
    this.#parts.protocol.sendReservedControl(opcode, typeof data === 'string' ? encodeText(data) : toBytes(data));
    this.flushControl();
  }
}

function isTyped(m: OutgoingMessage): m is { type: 'text' | 'binary'; data: OutgoingData } {
  return typeof m === 'object' && m !== null && !(m instanceof IncomingMessage) && !ArrayBuffer.isView(m) &&
    !isBlob(m) && !isReadableStream(m) && 'data' in m && 'type' in m;
}

async function* iterateStream(stream: ReadableStream<Uint8Array>, signal: AbortSignal | undefined): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  // An aborted send cancels its source, as fetch cancels a request body: a read waiting for
  // a chunk that may never come ends, and the source learns why.
  const stop = signal === undefined ? noop : whenAborted(signal, () => void reader.cancel(signal.reason).catch(noop));
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    stop();
    reader.releaseLock();
  }
}
