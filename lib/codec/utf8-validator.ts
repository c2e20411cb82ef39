// Incremental, fail-fast UTF-8 validation (RFC 3629 §4), as RFC 6455 §8.1 requires of text.

/** A runtime's native whole-buffer UTF-8 check (Node: `buffer.isUtf8`): true when `bytes` is complete, valid UTF-8. */
export type NativeUtf8Check = (bytes: Uint8Array) => boolean;

/** Below this many bytes the native call costs more than the JS loop saves (measured in bench/codec.mjs). */
const NATIVE_THRESHOLD = 512;

/**
 * Validates UTF-8 fed in pieces split anywhere, reporting the first byte that can no longer
 * be part of valid UTF-8 as soon as it arrives: overlong forms, surrogates (U+D800–DFFF),
 * code points above U+10FFFF, stray continuation bytes. `end()` reports a sequence left
 * incomplete.
 *
 * @example
 * ```ts
 * const v = new Utf8Validator();
 * v.push(new Uint8Array([0xe2, 0x82]));  // -1: fine so far
 * v.push(new Uint8Array([0xac]));        // -1: "€" complete
 * v.end();                               // true
 * ```
 *
 * `native` (e.g. Node's `buffer.isUtf8`) checks the complete part of large chunks (several
 * GB/s); on `false` the JS DFA still finds the exact first bad byte, so failing fast is unchanged.
 */
export class Utf8Validator {
  /** Continuation bytes still expected for the current sequence. */
  #need = 0;
  /** Allowed range of the next continuation byte (narrower right after some lead bytes). */
  #lo = 0x80;
  #hi = 0xbf;
  #failed = false;
  readonly #native: NativeUtf8Check | undefined;

  constructor(native?: NativeUtf8Check) {
    this.#native = native;
  }

  /** True once invalid UTF-8 was seen; stays true until `reset()`. */
  get failed(): boolean {
    return this.#failed;
  }

  /** Forgets all state, to validate a new message. */
  reset(): void {
    this.#need = 0;
    this.#lo = 0x80;
    this.#hi = 0xbf;
    this.#failed = false;
  }

  /** Returns -1 if the text is valid so far, else the index in `chunk` of the first bad byte. */
  push(chunk: Uint8Array): number {
    if (this.#failed) return 0;
    const n = chunk.length;
    let i = 0;
    const native = this.#native;
    if (native !== undefined && this.#need === 0 && n >= NATIVE_THRESHOLD) {
      const complete = completePrefix(chunk);
      if (native(complete === n ? chunk : chunk.subarray(0, complete))) i = complete;
      // On false the loop below finds the exact index: fail-fast behaviour is unchanged.
    }
    let need = this.#need, lo = this.#lo, hi = this.#hi;
    // Finish a sequence left open by the previous chunk, byte by byte.
    while (need > 0 && i < n) {
      const b = chunk[i]!;
      if (b < lo || b > hi) return this.#fail(i);
      need--;
      lo = 0x80;
      hi = 0xbf;
      i++;
    }
    let words: Uint32Array | undefined;
    while (i < n) {
      const b = chunk[i]!;
      if (b < 0x80) {
        i++;
        // A long ASCII run: skip it 8 bytes at a time through one aligned word view per chunk.
        if (i + 32 <= n && (chunk[i]! | chunk[i + 1]! | chunk[i + 2]! | chunk[i + 3]! | chunk[i + 4]! | chunk[i + 5]! | chunk[i + 6]! | chunk[i + 7]!) < 0x80) {
          words ??= wordView(chunk);
          i = skipAscii(chunk, words, i, n);
        }
        continue;
      }
      // Whole sequences inside the chunk take the fast path; a sequence cut by the chunk's
      // end goes through the state kept in need/lo/hi.
      if (b >= 0xc2 && b <= 0xdf) { need = 1; lo = 0x80; hi = 0xbf; }
      else if (b === 0xe0) { need = 2; lo = 0xa0; hi = 0xbf; }          // no overlong 3-byte forms
      else if (b === 0xed) { need = 2; lo = 0x80; hi = 0x9f; }          // no surrogates
      else if (b >= 0xe1 && b <= 0xef) { need = 2; lo = 0x80; hi = 0xbf; }
      else if (b === 0xf0) { need = 3; lo = 0x90; hi = 0xbf; }          // no overlong 4-byte forms
      else if (b >= 0xf1 && b <= 0xf3) { need = 3; lo = 0x80; hi = 0xbf; }
      else if (b === 0xf4) { need = 3; lo = 0x80; hi = 0x8f; }          // nothing above U+10FFFF
      else return this.#fail(i);                                         // 80–C1, F5–FF
      i++;
      const b1 = chunk[i];
      if (b1 === undefined) break;
      if (b1 < lo || b1 > hi) return this.#fail(i);
      i++;
      if (need === 1) { need = 0; continue; }
      const b2 = chunk[i];
      if (b2 === undefined) { need -= 1; lo = 0x80; hi = 0xbf; break; }
      if ((b2 & 0xc0) !== 0x80) return this.#fail(i);
      i++;
      if (need === 2) { need = 0; continue; }
      const b3 = chunk[i];
      if (b3 === undefined) { need = 1; lo = 0x80; hi = 0xbf; break; }
      if ((b3 & 0xc0) !== 0x80) return this.#fail(i);
      i++;
      need = 0;
    }
    this.#need = need;
    this.#lo = lo;
    this.#hi = hi;
    return -1;
  }

  /** End of the text: false if a sequence was left incomplete (or validation failed). */
  end(): boolean {
    const ok = !this.#failed && this.#need === 0;
    if (!ok) this.#failed = true;
    return ok;
  }

  #fail(index: number): number {
    this.#failed = true;
    return index;
  }
}

/** Length of `chunk` without a trailing incomplete sequence (at most 3 bytes are looked at). */
function completePrefix(chunk: Uint8Array): number {
  const n = chunk.length;
  for (let back = 1; back <= 3 && back <= n; back++) {
    const b = chunk[n - back]!;
    if (b < 0x80) return n;
    if (b >= 0xc0) {
      const len = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
      return len > back ? n - back : n;
    }
  }
  return n;
}

/** A Uint32Array over the 4-byte-aligned part of `chunk` (index 0 is the first aligned word). */
function wordView(chunk: Uint8Array): Uint32Array {
  const first = (4 - (chunk.byteOffset & 3)) & 3;
  const count = Math.max(0, (chunk.length - first) >>> 2);
  return new Uint32Array(chunk.buffer, chunk.byteOffset + first, count);
}

/**
 * Index of the first non-ASCII byte at or after `i`, 8 bytes per step on aligned words:
 * ASCII runs go several times faster than byte by byte.
 */
function skipAscii(chunk: Uint8Array, words: Uint32Array, i: number, n: number): number {
  const first = (4 - (chunk.byteOffset & 3)) & 3;
  while (i < n && (i - first) & 3) {
    if (chunk[i]! >= 0x80) return i;
    i++;
  }
  let w = (i - first) >>> 2;
  const last = words.length - 1;
  while (w < last && ((words[w]! | words[w + 1]!) & 0x80808080) === 0) w += 2;
  i = Math.max(i, first + (w << 2));
  while (i < n && chunk[i]! < 0x80) i++;
  return i;
}

/** Whole-buffer check: true when `bytes` is complete, valid UTF-8 (`native` as `Utf8Validator`'s). */
export function isValidUtf8(bytes: Uint8Array, native?: NativeUtf8Check): boolean {
  const v = new Utf8Validator(native);
  return v.push(bytes) === -1 && v.end();
}
