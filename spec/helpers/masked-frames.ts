// Bytes cut where a property says: for specs of how a server unmasks what it receives, however
// TCP cuts the bytes. (Frames masked with a chosen key: `frame(…, { key })` in
// spec/codec/helpers.ts, which masks with its own byte loop, not the library's.)

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
