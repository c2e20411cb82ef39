import { Opcode } from '../codec/constants';
import { WebSocketError } from '../streams/errors';
import type { StreamFrame, StreamMessage } from '../streams/stream-surface';
import type { WireMessage } from './message-socket';

/** `stream()` hands the payload out in views of this size: a consumer sees it chunk by chunk, as from `Connection`, without a copy. */
const STREAM_CHUNK = 64 * 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The payload as bytes: a view of what the browser gave, or the UTF-8 of a text message. */
function payloadBytes(data: WireMessage): Uint8Array<ArrayBuffer> {
  return typeof data === 'string' ? encoder.encode(data) : data;
}

/** A message's payload as a stream of views, and how to end it early with an error. */
interface ChunkStream {
  readonly stream: ReadableStream<Uint8Array<ArrayBuffer>>;
  /** Errors the stream with `err` unless it has given everything already. */
  abandon(err: WebSocketError): void;
}

/** The payload as pull-driven chunks of `STREAM_CHUNK` bytes. */
function chunkStream(bytes: Uint8Array<ArrayBuffer>): ChunkStream {
  let at = 0;
  let controller!: ReadableStreamDefaultController<Uint8Array<ArrayBuffer>>;
  const stream = new ReadableStream<Uint8Array<ArrayBuffer>>({
    start: (c) => void (controller = c),
    pull: (c) => {
      if (at < bytes.length) c.enqueue(bytes.subarray(at, (at += STREAM_CHUNK)));
      if (at >= bytes.length) c.close();
    },
    cancel: () => void (at = bytes.length),
  }, { highWaterMark: 0 });
  return {
    stream,
    abandon: (err) => {
      if (at >= bytes.length) return;
      at = bytes.length;
      controller.error(err);
    },
  };
}

const discarded = (): WebSocketError => new WebSocketError('Message was discarded: the next message was read first', { kind: 'DISCARDED' });

/**
 * One received message of a `BrowserConnection`, with `IncomingMessage`'s surface. The browser
 * hands messages over whole, so it is in memory already (bounded by `maxMessageSize`):
 * `stream()` gives it in 64 KiB chunks, and `frames` gives one frame, since a browser never
 * exposes frames (however the peer fragmented the message). As with `IncomingMessage`, the
 * payload is read once, and asking for the next message discards what is left of this one.
 *
 * @example
 * ```ts
 * for await (const msg of conn) console.log(msg.type, msg.type === 'text' ? await msg.text() : (await msg.bytes()).length);
 * ```
 */
export class BrowserMessage implements StreamMessage {
  /** `'text'` or `'binary'`. */
  readonly type: 'text' | 'binary';
  #data: WireMessage | undefined;
  #reading: string | undefined;
  #abandon: ((err: WebSocketError) => void) | undefined;
  #frames: ReadableStream<StreamFrame> | undefined;

  /** @internal */
  constructor(data: WireMessage) {
    this.type = typeof data === 'string' ? 'text' : 'binary';
    this.#data = data;
  }

  /** The message as one frame (`fin` true, `rsv` 0, `opcode` 1 or 2, `length` the payload's bytes); the same stream on every access. */
  get frames(): ReadableStream<StreamFrame> {
    if (this.#frames !== undefined) return this.#frames;
    const bytes = payloadBytes(this.#claim('frames'));
    const frame = new BrowserFrame(this.type === 'text' ? Opcode.Text : Opcode.Binary, bytes);
    this.#abandon = (err) => frame._discard(err);
    let given = false;
    return (this.#frames = new ReadableStream<StreamFrame>({
      pull: (c) => {
        if (!given) c.enqueue(frame);
        else c.close();
        given = true;
      },
    }, { highWaterMark: 0 }));
  }

  /** The payload as a byte stream, in chunks of at most 64 KiB, as the reader pulls them. */
  stream(): ReadableStream<Uint8Array<ArrayBuffer>> {
    const chunks = chunkStream(payloadBytes(this.#claim('stream()')));
    this.#abandon = chunks.abandon;
    return chunks.stream;
  }

  /** The whole payload in one buffer. */
  bytes(): Promise<Uint8Array<ArrayBuffer>> {
    try {
      return Promise.resolve(payloadBytes(this.#claim('bytes()/text()')));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** The whole payload decoded as UTF-8 (a text message as the browser decoded it). */
  text(): Promise<string> {
    try {
      const data = this.#claim('bytes()/text()');
      return Promise.resolve(typeof data === 'string' ? data : decoder.decode(data));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * The whole payload parsed as JSON, as `Response.json()` does (a leading BOM dropped).
   * Invalid JSON rejects with `JSON.parse`'s `SyntaxError`; the connection goes on.
   */
  async json(): Promise<unknown> {
    const text = await this.text();
    return JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text) as unknown;
  }

  /** @internal The next message was asked for: what is left of this one goes. */
  _discard(): void {
    if (this.#reading === undefined) this.#reading = 'discarded';
    this.#data = undefined;
    this.#abandon?.(discarded());
    this.#abandon = undefined;
  }

  #claim(how: string): WireMessage {
    const data = this.#data;
    if (this.#reading !== undefined || data === undefined) {
      throw new TypeError(this.#reading === 'discarded'
        ? 'Message was discarded: the next message was read first'
        : `Message payload is already being read (${this.#reading ?? how})`);
    }
    this.#reading = how;
    this.#data = undefined;
    return data;
  }
}

/** The one frame of a `BrowserMessage`: the whole payload. */
export class BrowserFrame implements StreamFrame {
  /** Always true: the message is one frame. */
  readonly fin = true;
  /** Always 0: a browser does not say whether the message was compressed. */
  readonly rsv = 0;
  /** 1 text, 2 binary. */
  readonly opcode: number;
  /** The payload's length in bytes. */
  readonly length: number;
  #bytes: Uint8Array<ArrayBuffer> | undefined;
  #chunks: ChunkStream | undefined;
  #error: WebSocketError | undefined;

  /** @internal */
  constructor(opcode: number, bytes: Uint8Array<ArrayBuffer>) {
    this.opcode = opcode;
    this.length = bytes.length;
    this.#bytes = bytes;
  }

  /** The payload as a byte stream, in chunks of at most 64 KiB. */
  get data(): ReadableStream<Uint8Array<ArrayBuffer>> {
    if (this.#chunks !== undefined) return this.#chunks.stream;
    if (this.#error !== undefined) {
      const err = this.#error;
      return new ReadableStream({ start: (c) => c.error(err) });
    }
    this.#chunks = chunkStream(this.#take());
    return this.#chunks.stream;
  }

  /** The whole payload in one buffer. */
  bytes(): Promise<Uint8Array<ArrayBuffer>> {
    try {
      return Promise.resolve(this.#take());
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** @internal */
  _discard(err: WebSocketError): void {
    if (this.#bytes !== undefined) this.#error = err;
    this.#bytes = undefined;
    this.#chunks?.abandon(err);
  }

  #take(): Uint8Array<ArrayBuffer> {
    const b = this.#bytes;
    if (b === undefined) throw this.#error ?? new TypeError('Frame payload is already being read');
    this.#bytes = undefined;
    return b;
  }
}
