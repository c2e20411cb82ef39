import type { ByteTransport, TransportSink } from './byte-transport';

/** Options of a `WebStreamTransport`. */
export interface WebStreamTransportOptions {
  /** Bytes queued for writing at which `write()` returns false (default 1 MiB). */
  highWaterMark?: number;
  /**
   * Half-closes the socket's write side (TCP FIN), for sockets where closing the writable
   * closes the whole socket. Deno's `Deno.Conn` is one: `writable.close()` closes the
   * connection and interrupts a pending read, so a server ending TCP after the closing
   * handshake would lose the client's FIN; pass `() => conn.closeWrite()`. Called once every
   * queued write has completed. Without it, `end()` closes the writable.
   */
  closeWrite?: () => void | Promise<void>;
}

/**
 * A `ByteTransport` over a pair of web byte streams, for runtimes whose sockets are streams
 * (Deno's `Deno.connect`, Cloudflare's `connect()`, a WebTransport stream, a test pipe).
 * Reading is pulled one chunk at a time and stops while paused, so backpressure reaches
 * the peer through the stream.
 *
 * @example
 * ```ts
 * const tcp = await Deno.connect({ hostname: '127.0.0.1', port: 8080 });
 * const transport = new WebStreamTransport(tcp.readable, tcp.writable, { closeWrite: () => tcp.closeWrite() });
 * ```
 */
export class WebStreamTransport implements ByteTransport {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #highWaterMark: number;
  readonly #closeWrite: (() => void | Promise<void>) | undefined;
  /** The last write's completion: `closeWrite` waits for it. */
  #lastWrite: Promise<void> = Promise.resolve();
  #sink: TransportSink | undefined;
  #paused = false;
  #reading = false;
  #queued = 0;
  #closed = false;
  #readDone = false;
  #writeDone = false;
  #needDrain = false;

  constructor(readable: ReadableStream<Uint8Array>, writable: WritableStream<Uint8Array>, options: WebStreamTransportOptions = {}) {
    this.#reader = readable.getReader();
    this.#writer = writable.getWriter();
    this.#highWaterMark = options.highWaterMark ?? 1024 * 1024;
    this.#closeWrite = options.closeWrite;
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
      this.#lastWrite = this.#writer.write(chunk).then(
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
    const closed = this.#closeWrite === undefined ? this.#writer.close() : this.#halfClose(this.#closeWrite);
    closed.then(() => this.#maybeClosed(), (err: unknown) => this.#fail(err));
  }

  async #halfClose(closeWrite: () => void | Promise<void>): Promise<void> {
    await this.#lastWrite;
    if (this.#closed) return;
    try {
      await closeWrite();
    } catch (err) {
      // Deno closes the whole socket once its readable has ended (the peer's FIN), so a
      // half-close after that fails; every write had completed, so nothing was lost.
      if (!this.#readDone) throw err;
    }
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
