import { maskInPlace, maskInto } from '../codec/mask';

/**
 * Collects chunks into one contiguous buffer that grows by doubling, so a message of a
 * million tiny fragments costs one buffer, not a million chunk objects. The first chunk is
 * kept as a view when it turns out to be the whole payload (the common single-frame case).
 */
const MAX_PREALLOCATION = 16 * 1024 * 1024;

/** Hands out `size` bytes whose content is unspecified (see `GrowableBuffer.setUnsafeAllocator`). */
export type UnsafeAllocator = (size: number) => Uint8Array;

let unsafeAllocator: UnsafeAllocator | undefined;

export class GrowableBuffer {
  #buf: Uint8Array | undefined;
  #len = 0;
  #single: Uint8Array | undefined;
  /** `#buf` came from the unsafe allocator: its bytes past `#len` may be anything. */
  #dirty = false;
  readonly #expected: number;

  /**
   * Where buffers come from instead of the zero-filled `new Uint8Array(size)`: a runtime
   * adapter's allocator of unzeroed memory (Node: `Buffer.allocUnsafeSlow`). Profiling the
   * 64 KiB – 1 MiB echo of the Autobahn tier showed the zero fill at 7–11 % of the server's
   * time, for bytes that are overwritten at once. No byte it hands out reaches anyone
   * unwritten: the bytes below the length are written by `append*` before `take()` returns
   * them, and `take()` zeroes the rest of the buffer (reachable through `.buffer`). Its
   * result must be a plain `Uint8Array` over a whole `ArrayBuffer` of exactly `size` bytes
   * (never a slice of a shared pool, whose other bytes belong to others); anything else is
   * not used.
   * `undefined` restores the default.
   */
  static setUnsafeAllocator(fn: UnsafeAllocator | undefined): void {
    unsafeAllocator = fn;
  }

  /** `expected`: a size hint (the frame length, maybe a bigint); 0 when unknown. */
  constructor(expected: number | bigint = 0) {
    // A header may announce far more than will ever be allocated at once (limits are
    // checked elsewhere); grow toward big payloads instead of trusting the hint whole.
    this.#expected = Math.min(Number(expected), MAX_PREALLOCATION);
  }

  get length(): number {
    return this.#len;
  }

  /** Raises the size hint before more data comes (the next frame's length). */
  reserve(extra: number | bigint): void {
    this.#ensure(this.#len + Math.min(Number(extra), MAX_PREALLOCATION), true);
  }

  append(chunk: Uint8Array): void {
    const n = chunk.length;
    if (n === 0) return;
    if (this.#len === 0 && this.#buf === undefined && this.#single === undefined) {
      this.#single = chunk;
      this.#len = n;
      return;
    }
    this.#ensure(this.#len + n, false);
    this.#buf!.set(chunk, this.#len);
    this.#len += n;
  }

  /**
   * Appends `chunk` unmasked with `key` from key position `phase`, leaving `chunk` masked
   * unless it is kept as the whole payload (then it is unmasked in place, as a view).
   */
  appendMasked(chunk: Uint8Array, key: Uint8Array, phase: number): void {
    const n = chunk.length;
    if (n === 0) return;
    if (this.#len === 0 && this.#buf === undefined && this.#single === undefined && n >= this.#expected) {
      // The whole payload in one piece (a small message): no buffer, no copy.
      maskInPlace(chunk, key, phase);
      this.#single = chunk;
      this.#len = n;
      return;
    }
    this.#ensure(this.#len + n, false);
    maskInto(chunk, key, phase, this.#buf!, this.#len);
    this.#len += n;
  }

  /** The collected bytes; the collector is empty afterwards. */
  take(): Uint8Array {
    let out: Uint8Array;
    if (this.#single) {
      out = this.#single;
    } else if (this.#buf) {
      // What was never written is zeroed before anyone can reach it.
      if (this.#dirty && this.#len < this.#buf.length) this.#buf.fill(0, this.#len);
      out = this.#buf.subarray(0, this.#len);
    } else {
      out = new Uint8Array(0);
    }
    this.#single = this.#buf = undefined;
    this.#dirty = false;
    this.#len = 0;
    return out;
  }

  #ensure(needed: number, exact: boolean): void {
    if (this.#buf && this.#buf.length >= needed) return;
    if (this.#buf === undefined && this.#single === undefined && exact) {
      this.#buf = this.#allocate(needed);
      return;
    }
    // Growing at least doubles, reserved or not: growing by each frame's size made a message
    // of n frames cost O(n²) in copies (40 000 ten-byte fragments took 2.5 s to collect).
    const cap = Math.max(needed, Math.min(this.#len * 2, Number.MAX_SAFE_INTEGER), this.#expected, 256);
    const old = this.#single ?? this.#buf;
    const next = this.#allocate(cap);
    if (old) next.set(old.subarray(0, this.#len));
    this.#single = undefined;
    this.#buf = next;
  }

  /** A buffer of `size` bytes; `#dirty` says whether its content is unspecified. */
  #allocate(size: number): Uint8Array {
    const fn = unsafeAllocator;
    if (fn !== undefined) {
      const b = fn(size);
      // A plain Uint8Array, as the default gives (a Node Buffer's slice() is a view, not a copy).
      if (b.constructor === Uint8Array && b.byteOffset === 0 && b.length === size && b.buffer.byteLength === size) {
        this.#dirty = true;
        return b;
      }
    }
    this.#dirty = false;
    return new Uint8Array(size);
  }
}
