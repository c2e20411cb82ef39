// Masking per RFC 6455 §5.3: payload[i] ^= key[(phase + i) % 4].
import { simdMaskInPlace, simdMaskInto } from './mask-simd';

/** Below this many bytes a plain byte loop is fastest. */
const SMALL = 64;
/** From this many bytes the WebAssembly SIMD kernel (where it runs) beats the word loop. */
const SIMD_MIN = 1024;

/**
 * XORs `data` in place with `key`, starting at key byte `phase` (0–3); returns the phase for
 * the next piece of the same frame. Works a 32-bit word at a time on the aligned middle
 * (about 10× a byte loop on V8), or 16 bytes at a time through WebAssembly SIMD on large
 * pieces where the engine has it (`mask-simd.ts`); an all-zero key costs nothing.
 *
 * @example
 * ```ts
 * let phase = 0;
 * for (const piece of pieces) phase = maskInPlace(piece, key, phase);
 * ```
 */
export function maskInPlace(data: Uint8Array, key: Uint8Array, phase: number): number {
  const n = data.length;
  if (n === 0) return phase;
  const k0 = key[0]!, k1 = key[1]!, k2 = key[2]!, k3 = key[3]!;
  const end = (phase + n) & 3;
  if ((k0 | k1 | k2 | k3) === 0) return end;
  if (n >= SIMD_MIN && simdMaskInPlace(data, keyWord(key, phase))) return end;
  let i = 0;
  if (n < SMALL) {
    // A word view costs more to make than it saves on a few bytes.
    for (; i < n; i++) data[i]! ^= key[(phase + i) & 3]!;
    return end;
  }
  // Bytes up to the first 4-byte aligned address.
  const misalign = (4 - ((data.byteOffset) & 3)) & 3;
  const head = Math.min(misalign, n);
  for (; i < head; i++) data[i]! ^= key[(phase + i) & 3]!;
  const words = (n - i) >>> 2;
  if (words > 0) {
    // The word's first byte sits at key position (phase + i) & 3; rotate the key to match.
    // Little-endian words (every platform V8 runs on): byte j of the word is bits 8j..8j+7.
    const p = (phase + i) & 3;
    // Signed words: `x ^ kw` stays a 32-bit integer (an unsigned word above 2^31 would be a
    // double to V8), and eight words a round: 1.8 -> about 5 GB/s on 1 MiB.
    const kw = key[p]! | (key[(p + 1) & 3]! << 8) | (key[(p + 2) & 3]! << 16) | (key[(p + 3) & 3]! << 24);
    const view = new Int32Array(data.buffer, data.byteOffset + i, words);
    let w = 0;
    for (const last = words - 8; w <= last; w += 8) {
      view[w]! ^= kw;
      view[w + 1]! ^= kw;
      view[w + 2]! ^= kw;
      view[w + 3]! ^= kw;
      view[w + 4]! ^= kw;
      view[w + 5]! ^= kw;
      view[w + 6]! ^= kw;
      view[w + 7]! ^= kw;
    }
    for (; w < words; w++) view[w]! ^= kw;
    i += words << 2;
  }
  for (; i < n; i++) data[i]! ^= key[(phase + i) & 3]!;
  return end;
}

/**
 * Copies `data` masked with `key` from `phase` into `target` at `offset`, leaving `data` as
 * it is; returns the phase for the next piece. Large pieces are masked on their way into
 * `target` (one pass fewer than a copy and then `maskInPlace`).
 */
export function maskInto(data: Uint8Array, key: Uint8Array, phase: number, target: Uint8Array, offset: number): number {
  const n = data.length;
  if (n >= SIMD_MIN && simdMaskInto(data, keyWord(key, phase), target, offset)) return (phase + n) & 3;
  target.set(data, offset);
  return maskInPlace(target.subarray(offset, offset + n), key, phase);
}

/** The key as a little-endian 32-bit word, rotated so that its byte for position `phase` comes first. */
function keyWord(key: Uint8Array, phase: number): number {
  const kw = key[0]! | (key[1]! << 8) | (key[2]! << 16) | (key[3]! << 24);
  const shift = (phase & 3) * 8;
  return shift === 0 ? kw : (kw >>> shift) | (kw << (32 - shift));
}

// Keys are drawn from a pooled buffer of random bytes: one getRandomValues call per 2048
// keys instead of one per frame (RFC 6455 §5.3 wants them unpredictable, not expensive).
const POOL_SIZE = 8192;
let pool = new Uint8Array(0);
let poolAt = POOL_SIZE;

/** Four fresh random bytes from `crypto.getRandomValues`, for a client frame's masking key. */
export function createMaskKey(): Uint8Array {
  if (poolAt + 4 > pool.length) {
    pool = new Uint8Array(POOL_SIZE);
    globalThis.crypto.getRandomValues(pool);
    poolAt = 0;
  }
  const key = pool.subarray(poolAt, poolAt + 4);
  poolAt += 4;
  return key;
}
