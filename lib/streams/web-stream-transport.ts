import type { ByteTransport, TransportSink } from './byte-transport';

/**
 * A `ByteTransport` over a pair of web byte streams, for runtimes whose sockets are streams
 * (Deno's `Deno.connect`, Cloudflare's `connect()`, a WebTransport stream, a test pipe).
 * Reading is pulled one chunk at a time and stops while paused, so backpressure reaches
 * the peer through the stream.
 *
 * @example
 * ```ts
 * const tcp = await Deno.connect({ hostname: '127.0.0.1', port: 8080 });
 * const transport = new WebStreamTransport(tcp.readable, tcp.writable);
 * ```
 */
export class WebStreamTransport implements ByteTransport {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #highWaterMark: number;
  #sink: TransportSink | undefined;
  #paused = false;
  #reading = false;
  #queued = 0;
  #closed = false;
  #readDone = false;
  #writeDone = false;
  #needDrain = false;

  constructor(readable: ReadableStream<Uint8Array>, writable: WritableStream<Uint8Array>, options: { highWaterMark?: number } = {}) {
    this.#reader = readable.getReader();
    this.#writer = writable.getWriter();
    this.#highWaterMark = options.highWaterMark ?? 1024 * 1024;
  }

  attach(sink: TransportSink): void {
    this.#sink = sink;
    this.#readLoop();
  }

  /** Stops reading the readable side until `resume()`. */
  pause(): void {
    this.#paused = true;
  }

  /** Reads the readable side again. */
  resume(): void {
    this.#paused = false;
    this.#readLoop();
  }

  get bufferedAmount(): number {
    return this.#queued;
  }

  write(chunks: readonly Uint8Array[]): boolean {
    if (this.#closed || this.#writeDone) return false;
    for (const chunk of chunks) {
      const n = chunk.length;
      this.#queued += n;
      this.#writer.write(chunk).then(
        () => {
          this.#queued -= n;
          if (this.#needDrain && this.#queued < this.#highWaterMark) {
            this.#needDrain = false;
            this.#sink?.onDrain();
          }
        },
        (err: unknown) => this.#fail(err),
      );
    }
    if (this.#queued >= this.#highWaterMark) {
      this.#needDrain = true;
      return false;
    }
    return true;
  }

  end(): void {
    if (this.#writeDone || this.#closed) return;
    this.#writeDone = true;
    this.#writer.close().then(() => this.#maybeClosed(), (err: unknown) => this.#fail(err));
  }

  destroy(error?: Error): void {
    if (this.#closed) return;
    if (error) this.#sink?.onError(error);
    this.#writer.abort(error).catch(() => undefined);
    this.#reader.cancel(error).catch(() => undefined);
    this.#finish();
  }

  async #readLoop(): Promise<void> {
    if (this.#reading || !this.#sink) return;
    this.#reading = true;
    try {
      while (!this.#paused && !this.#closed && !this.#readDone) {
        const { done, value } = await this.#reader.read();
        if (this.#closed) return;
        if (done) {
          this.#readDone = true;
          this.#sink.onEnd();
          this.#maybeClosed();
          return;
        }
        if (value.length > 0) this.#sink.onData(value);
      }
    } catch (err) {
      this.#fail(err);
    } finally {
      this.#reading = false;
    }
  }

  #maybeClosed(): void {
    if (this.#readDone && this.#writeDone) this.#finish();
  }

  #fail(err: unknown): void {
    if (this.#closed) return;
    this.#sink?.onError(err instanceof Error ? err : new Error(String(err)));
    this.destroy();
  }

  #finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sink?.onClose();
  }
}
