/** An empty queue's chunks: never written to, so that an idle connection keeps no array of its own. */
const NONE: Array<Uint8Array | undefined> = [];
/**
 * One emptied array per process (of at most `MAX_SPARE` slots), for the next queue that gets a
 * chunk: a connection whose reads are each parsed whole hands its array back and takes it again
 * on every read. Truncating the array instead (`length = 0`) cost a runtime call per read, and
 * the next push a new backing store.
 */
let spare: Array<Uint8Array | undefined> | undefined;
const MAX_SPARE = 64;

/**
 * A FIFO of byte chunks that hands out views: `takeUpTo(n)` never copies, `take(n)` copies
 * only when the bytes straddle two chunks (a header split by TCP), in the manner of ws's
 * `Receiver#consume`.
 */
export class ByteQueue {
  #chunks = NONE;
  #head = 0;
  /** The end of the chunks in `#chunks` (its slots past it are `undefined`). */
  #tail = 0;
  /** Offset into the first chunk. */
  #offset = 0;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.#chunks === NONE) {
      this.#chunks = spare ?? [];
      spare = undefined;
    }
    this.#chunks[this.#tail++] = chunk;
    this.#length += chunk.length;
  }

  /** The byte at position `i` from the front, without consuming it. */
  peekByte(i: number): number {
    let at = this.#head;
    let k = this.#offset + i;
    while (k >= this.#chunks[at]!.length) {
      k -= this.#chunks[at]!.length;
      at++;
    }
    return this.#chunks[at]![k]!;
  }

  /**
   * Drops `n` bytes (n ≤ length) from the front without making a view of them: a frame
   * header read with `peekByte` costs no object (a view of a node Buffer is a Buffer, built
   * by node's JavaScript `subarray` for every 2-byte header and 4-byte mask key).
   */
  drop(n: number): void {
    this.#length -= n;
    let k = this.#offset + n;
    while (this.#head < this.#tail && k >= this.#chunks[this.#head]!.length) {
      k -= this.#chunks[this.#head]!.length;
      this.#shift();
    }
    this.#offset = k;
  }

  /** Up to `n` bytes from the front of the first chunk, as a view. */
  takeUpTo(n: number): Uint8Array {
    if (n === 0 || this.#length === 0) return new Uint8Array(0);
    const first = this.#chunks[this.#head]!;
    const avail = first.length - this.#offset;
    if (n >= avail) {
      const out = this.#offset === 0 ? first : first.subarray(this.#offset);
      this.#shift();
      this.#length -= avail;
      return out;
    }
    const out = first.subarray(this.#offset, this.#offset + n);
    this.#offset += n;
    this.#length -= n;
    return out;
  }

  /** Exactly `n` bytes (n ≤ length): a view inside one chunk, a copy across chunks. */
  take(n: number): Uint8Array {
    if (n === 0) return new Uint8Array(0);
    const first = this.#chunks[this.#head]!;
    if (first.length - this.#offset >= n) return this.takeUpTo(n);
    const out = new Uint8Array(n);
    let at = 0;
    while (at < n) {
      const piece = this.takeUpTo(n - at);
      out.set(piece, at);
      at += piece.length;
    }
    return out;
  }

  /** Drops `n` bytes from the front. */
  skip(n: number): void {
    while (n > 0) n -= this.takeUpTo(n).length;
  }

  clear(): void {
    this.#chunks = NONE;
    this.#head = this.#tail = this.#offset = this.#length = 0;
  }

  #shift(): void {
    this.#offset = 0;
    // Release the consumed chunk at once: a queue that never runs empty (a slow consumer
    // keeps it near its high-water mark) must not keep every chunk it ever held alive.
    this.#chunks[this.#head++] = undefined;
    if (this.#head === this.#tail) {
      // Every slot up to the tail is `undefined` again: the array is as good as new.
      if (spare === undefined && this.#tail <= MAX_SPARE) spare = this.#chunks;
      this.#chunks = NONE;
      this.#head = this.#tail = 0;
    } else if (this.#head >= 64 && this.#head * 2 >= this.#tail) {
      this.#chunks = this.#chunks.slice(this.#head, this.#tail);
      this.#tail -= this.#head;
      this.#head = 0;
    }
  }
}
