import type { ByteTransport, TransportSink } from '../../lib/streams/byte-transport';

/**
 * Two in-memory transport ends wired to each other, with real pause semantics: bytes
 * written to one end queue until the other end is resumed, and `write()` reports the queue
 * against a high-water mark as a socket would. Delivery is asynchronous (microtasks), so a
 * connection never re-enters itself through its peer.
 */
export class MemoryTransport implements ByteTransport {
  peer!: MemoryTransport;
  sink: TransportSink | undefined;
  paused = false;
  /** Everything written by this end, for byte-exact assertions. */
  readonly written: Uint8Array[] = [];
  readonly #incoming: Uint8Array[] = [];
  #incomingBytes = 0;
  #ended = false;
  #peerEnded = false;
  closed = false;
  destroyedWith: Error | undefined | null = null;
  #scheduled = false;
  #needDrain = false;
  readonly #hwm: number;

  constructor(highWaterMark = 64 * 1024) {
    this.#hwm = highWaterMark;
  }

  static pair(highWaterMark?: number): [MemoryTransport, MemoryTransport] {
    const a = new MemoryTransport(highWaterMark);
    const b = new MemoryTransport(highWaterMark);
    a.peer = b;
    b.peer = a;
    return [a, b];
  }

  attach(sink: TransportSink): void {
    this.sink = sink;
    this.#schedule();
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
    this.#schedule();
  }
  /** Bytes this end wrote that the peer has not taken yet. */
  get bufferedAmount(): number {
    return this.peer.#incomingBytes;
  }
  /** Bytes queued towards this end and not delivered. */
  get incomingBytes(): number {
    return this.#incomingBytes;
  }
  write(chunks: readonly Uint8Array[]): boolean {
    if (this.closed || this.#ended) return false;
    for (const c of chunks) {
      const copy = c.slice();
      this.written.push(copy);
      this.peer.#incoming.push(copy);
      this.peer.#incomingBytes += copy.length;
    }
    this.peer.#schedule();
    if (this.bufferedAmount >= this.#hwm) {
      this.#needDrain = true;
      return false;
    }
    return true;
  }
  end(): void {
    if (this.#ended || this.closed) return;
    this.#ended = true;
    this.peer.#peerEnded = true;
    this.peer.#schedule();
    this.#maybeClose();
  }
  destroy(error?: Error): void {
    if (this.closed) return;
    this.destroyedWith = error;
    this.#close(error);
    // The other side sees a reset.
    this.peer.#close(new Error('Connection reset by peer'));
  }
  #close(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.#incoming.length = 0;
    this.#incomingBytes = 0;
    queueMicrotask(() => {
      if (error) this.sink?.onError(error);
      this.sink?.onClose();
    });
  }
  #maybeClose(): void {
    if (this.#ended && this.#peerEnded && this.#incomingBytes === 0) {
      this.#close();
      if (this.peer.#ended && this.peer.#incomingBytes === 0) this.peer.#close();
    }
  }
  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    queueMicrotask(() => {
      this.#scheduled = false;
      this.#deliver();
    });
  }
  #deliver(): void {
    if (!this.sink || this.closed) return;
    while (!this.paused && this.#incoming.length > 0 && !this.closed) {
      const c = this.#incoming.shift()!;
      this.#incomingBytes -= c.length;
      this.sink.onData(c);
    }
    const writer = this.peer;
    if (writer.#needDrain && this.#incomingBytes < writer.#hwm) {
      writer.#needDrain = false;
      writer.sink?.onDrain();
    }
    if (!this.paused && this.#incoming.length === 0 && this.#peerEnded && !this.#endReported) {
      this.#endReported = true;
      this.sink.onEnd();
      this.#maybeClose();
    }
  }
  #endReported = false;
}
