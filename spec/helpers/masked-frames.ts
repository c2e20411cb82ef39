// Client frames masked with a chosen key, and bytes cut where a property says: for specs of
// how a server unmasks what it receives, whatever the key and the way TCP cuts the bytes.
import { maskInPlace } from '../../lib/codec/mask';
import { concat } from './connection-pair';

/** A client frame masked with `key` (RFC 6455 §5.3), as the wire carries it. */
export function maskedFrame(opcode: number, payload: Uint8Array, fin: boolean, key: Uint8Array, rsv = 0): Uint8Array {
  const n = payload.length;
  const head = n < 126 ? [n] : n < 65536 ? [126, n >> 8, n & 255] : [127, 0, 0, 0, 0, (n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
  const h = new Uint8Array([(fin ? 0x80 : 0) | (rsv << 4) | opcode, 0x80 | head[0]!, ...head.slice(1), ...key]);
  const body = payload.slice();
  maskInPlace(body, key, 0);
  return concat([h, body]);
}

/** `bytes` cut at `cuts` (positions taken modulo its length), as copies; never an empty piece but for empty `bytes`. */
export function cutAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % Math.max(1, bytes.length)))].filter((p) => p > 0).sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of [...points, bytes.length]) {
    if (p > at) out.push(bytes.slice(at, p));
    at = p;
  }
  return out.length > 0 ? out : [bytes.slice()];
}
