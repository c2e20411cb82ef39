import { maskInPlace, maskInto } from '../codec/mask';

/**
 * Collects chunks into one contiguous buffer that grows by doubling, so a message of a
 * million tiny fragments costs one buffer, not a million chunk objects. The first chunk is
 * kept as a view when it turns out to be the whole payload (the common single-frame case).
 *
 * A length a frame header announced is allocated exactly, once, before its payload comes:
 * growing toward it by doubling from a capped first guess made a 64 MiB message cost
 * 16 + 32 + 64 MiB of buffers, each copied into the next. The announced length is bounded by
 * `maxFrameSize` and `maxMessageSize`, which the protocol checks from the header before any
 * payload is read; `MAX_EXACT_ALLOCATION` bounds it where those limits were lifted.
 */
const MAX_EXACT_ALLOCATION = 1024 * 1024 * 1024;
/** Where a collector starts when the length it was told is beyond `MAX_EXACT_ALLOCATION`. */
const MAX_PREALLOCATION = 16 * 1024 * 1024;

/** What to allocate up front for an announced length: all of it, unless it is beyond belief. */
function upFront(length: number | bigint): number {
  const n = Number(length);
  return n <= MAX_EXACT_ALLOCATION ? n : MAX_PREALLOCATION;
}

/**
 * Hands out `size` bytes whose content is unspecified: a runtime's allocator of unzeroed
 * memory (Node: `Buffer.allocUnsafeSlow`). See `RuntimeHooks.allocUnsafe`.
 */
export type UnsafeAllocator = (size: number) => Uint8Array;

export class GrowableBuffer {
  #buf: Uint8Array | undefined;
  #len = 0;
  #single: Uint8Array | undefined;
  /** `#buf` came from the unsafe allocator: its bytes past `#len` may be anything. */
  #dirty = false;
  readonly #expected: number;
  readonly #alloc: UnsafeAllocator | undefined;

  /**
   * `expected`: the payload length a frame header announced (maybe a bigint), allocated
   * whole with the first bytes; 0 when unknown.
   *
   * `alloc`: where buffers come from instead of the zero-filled `new Uint8Array(size)`: a runtime
   * adapter's allocator of unzeroed memory (Node: `Buffer.allocUnsafeSlow`). Profiling the
   * 64 KiB – 1 MiB echo of the Autobahn tier showed the zero fill at 7–11 % of the server's
   * time, for bytes that are overwritten at once. No byte it hands out reaches anyone
   * unwritten: the bytes below the length are written by `append*` before `take()` returns
   * them, and `take()` zeroes the rest of the buffer (reachable through `.buffer`). Its
   * result must be a plain `Uint8Array` over a whole `ArrayBuffer` of exactly `size` bytes
   * (never a slice of a shared pool, whose other bytes belong to others); anything else is
   * not used.
   * Without it, buffers are zero-filled.
   */
  constructor(expected: number | bigint = 0, alloc?: UnsafeAllocator) {
    this.#expected = upFront(expected);
    this.#alloc = alloc;
  }

  get length(): number {
    return this.#len;
  }

  /**
   * Makes room for `extra` more bytes before they come (the next frame's announced length):
   * exactly that much when nothing is allocated yet, or when `last` says no more will follow
   * (the final frame). Otherwise the buffer at least doubles, as it grows.
   */
  reserve(extra: number | bigint, last = false): void {
    this.#ensure(this.#len + upFront(extra), true, last);
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

  /**
   * The collected bytes; the collector is empty afterwards. Typed as backed by an
   * `ArrayBuffer` (what DOM APIs taking a `BufferSource` require): every buffer here was
   * allocated by us or came from a transport, never a `SharedArrayBuffer`.
   */
  take(): Uint8Array<ArrayBuffer> {
    let out: Uint8Array;
    if (this.#single) {
      out = this.#single;
    } else if (this.#buf) {
      const buf = this.#buf;
      if (this.#len === buf.length) {
        // Exactly full (an announced length, allocated exactly): the buffer itself, no view.
        out = buf;
      } else {
        // What was never written is zeroed before anyone can reach it.
        if (this.#dirty) buf.fill(0, this.#len);
        out = buf.subarray(0, this.#len);
      }
    } else {
      out = new Uint8Array(0);
    }
    this.#single = this.#buf = undefined;
    this.#dirty = false;
    this.#len = 0;
    return out as Uint8Array<ArrayBuffer>;
  }

  /**
   * Room for `needed` bytes: exactly that many when `exact` and nothing is held yet, or when
   * `final` (no growth will follow); otherwise at least double.
   */
  #ensure(needed: number, exact: boolean, final = false): void {
    if (this.#buf && this.#buf.length >= needed) return;
    if (this.#buf === undefined && this.#single === undefined && exact) {
      this.#buf = this.#allocate(needed);
      return;
    }
    // Growing at least doubles, reserved or not: growing by each frame's size made a message
    // of n frames cost O(n²) in copies (40 000 ten-byte fragments took 2.5 s to collect). The
    // last growth of a message (its final frame announced) is exact: nothing follows it.
    const cap = exact && final ? needed : Math.max(needed, Math.min(this.#len * 2, Number.MAX_SAFE_INTEGER), this.#expected, 256);
    const old = this.#single ?? this.#buf;
    const next = this.#allocate(cap);
    if (old) next.set(old.subarray(0, this.#len));
    this.#single = undefined;
    this.#buf = next;
  }

  /** A buffer of `size` bytes; `#dirty` says whether its content is unspecified. */
  #allocate(size: number): Uint8Array {
    const fn = this.#alloc;
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
