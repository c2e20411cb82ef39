import { maskInPlace, maskInto } from '../codec/mask';

/**
 * Collects chunks into one contiguous buffer that grows by doubling, so a message of a
 * million tiny fragments costs one buffer, not a million chunk objects. The first chunk is
 * kept as a view when it turns out to be the whole payload (the common single-frame case).
 */
const MAX_PREALLOCATION = 16 * 1024 * 1024;

export class GrowableBuffer {
  #buf: Uint8Array | undefined;
  #len = 0;
  #single: Uint8Array | undefined;
  readonly #expected: number;

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
    const out = this.#single ?? (this.#buf ? this.#buf.subarray(0, this.#len) : new Uint8Array(0));
    this.#single = this.#buf = undefined;
    this.#len = 0;
    return out;
  }

  #ensure(needed: number, exact: boolean): void {
    if (this.#buf && this.#buf.length >= needed) return;
    if (this.#buf === undefined && this.#single === undefined && exact) {
      this.#buf = new Uint8Array(needed);
      return;
    }
    const cap = Math.max(needed, exact ? needed : Math.min(this.#len * 2, Number.MAX_SAFE_INTEGER), this.#expected, 256);
    const next = new Uint8Array(cap);
    const old = this.#single ?? this.#buf;
    if (old) next.set(old.subarray(0, this.#len));
    this.#single = undefined;
    this.#buf = next;
  }
}
