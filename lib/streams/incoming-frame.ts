import type { FrameHeader, FrameLength } from '../codec/frame-header';
import { WebSocketError } from './errors';
import type { MessageHost } from './message-host';
import { streamClasses } from './stream-classes';
import { GrowableBuffer } from './growable-buffer';

type FrameState = 'open' | 'ended' | 'errored' | 'discarded';

/**
 * One received data frame of a message: its header as received and its payload as a
 * pull-driven byte stream. Nothing is read from the connection for this frame until
 * `data` (or `bytes()`) is read.
 *
 * On a message that an extension decoded (permessage-deflate), `data` yields the decoded
 * bytes this frame's payload produced, while `length` and `rsv` stay the wire header's.
 *
 * @example
 * ```ts
 * for await (const frame of msg.frames) {
 *   console.log(frame.opcode, frame.length, frame.fin);
 *   await frame.data.pipeTo(sink, { preventClose: true });
 * }
 * ```
 */
export class IncomingFrame {
  /** FIN bit as received. */
  readonly fin: boolean;
  /** RSV bits as received: RSV1 = 0b100, RSV2 = 0b010, RSV3 = 0b001. */
  readonly rsv: number;
  /** Opcode as received (0 for continuation frames). */
  readonly opcode: number;
  /**
   * Payload length from the header, in wire bytes: a `number`, or a `bigint` when it is beyond
   * `Number.MAX_SAFE_INTEGER` (accepted only with `maxFrameSize: Infinity`; such a frame
   * streams until the connection closes, in practice).
   */
  readonly length: FrameLength;
  readonly #host: MessageHost;
  #state: FrameState = 'open';
  #stream: ReadableStream<Uint8Array<ArrayBuffer>> | undefined;
  #controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  #pullPending = false;
  #collector: { buf: GrowableBuffer; resolve(b: Uint8Array<ArrayBuffer>): void; reject(e: unknown): void } | undefined;
  #error: WebSocketError | undefined;

  /** @internal */
  constructor(header: FrameHeader, host: MessageHost) {
    this.fin = header.fin;
    this.rsv = header.rsv;
    this.opcode = header.opcode;
    this.length = header.length;
    this.#host = host;
  }

  /** The payload, unmasked (and decoded when an extension applies), as it arrives. */
  get data(): ReadableStream<Uint8Array<ArrayBuffer>> {
    if (this.#stream) return this.#stream;
    if (this.#collector) throw new TypeError('Frame payload is already being collected by bytes()');
    this.#stream = new (streamClasses().ReadableStream)<Uint8Array<ArrayBuffer>>(
      {
        start: (c) => {
          this.#controller = c;
          if (this.#state === 'ended') c.close();
          else if (this.#state === 'errored') c.error(this.#error);
        },
        pull: () => {
          this.#pullPending = true;
          this.#host.demand();
        },
        cancel: () => {
          if (this.#state === 'open') this.#state = 'discarded';
          this.#host.demand();
        },
      },
      { highWaterMark: 0 },
    );
    return this.#stream;
  }

  /** The whole payload of this frame in one buffer (bounded by `maxFrameSize`). */
  bytes(): Promise<Uint8Array<ArrayBuffer>> {
    if (this.#stream || this.#collector) return Promise.reject(new TypeError('Frame payload is already being read'));
    if (this.#state === 'errored') return Promise.reject(this.#error);
    if (this.#state !== 'open') return Promise.resolve(new Uint8Array(0));
    return new Promise((resolve, reject) => {
      this.#collector = { buf: new GrowableBuffer(this.length, this.#host.allocUnsafe), resolve, reject };
      this.#host.demand();
    });
  }

  /** @internal */
  get _ended(): boolean {
    return this.#state !== 'open';
  }

  /** @internal Whether the consumer can take a chunk now. */
  _wantsData(): boolean {
    return this.#state === 'discarded' || this.#collector !== undefined || this.#pullPending;
  }

  /** @internal */
  _push(chunk: Uint8Array): void {
    if (this.#collector) this.#collector.buf.append(chunk);
    else if (this.#controller && this.#state === 'open') {
      this.#pullPending = false;
      this.#controller.enqueue(chunk);
    }
  }

  /** @internal */
  _end(): void {
    if (this.#state === 'open') {
      this.#state = 'ended';
      this.#controller?.close();
    }
    if (this.#collector) {
      this.#collector.resolve(this.#collector.buf.take());
      this.#collector = undefined;
    }
  }

  /** @internal */
  _error(err: WebSocketError): void {
    if (this.#state === 'open' || this.#state === 'discarded') {
      const wasOpen = this.#state === 'open';
      this.#state = 'errored';
      this.#error = err;
      if (wasOpen) this.#controller?.error(err);
    }
    if (this.#collector) {
      this.#collector.reject(err);
      this.#collector = undefined;
    }
  }

  /** @internal The consumer moved on to the next frame: drop the rest of this one. */
  _discard(): void {
    if (this.#state !== 'open') return;
    this.#state = 'discarded';
    this.#controller?.error(new WebSocketError('Frame was discarded: the next frame was read first', { kind: 'DISCARDED' }));
    if (this.#collector) {
      this.#collector.reject(new WebSocketError('Frame was discarded: the next frame was read first', { kind: 'DISCARDED' }));
      this.#collector = undefined;
    }
  }
}
