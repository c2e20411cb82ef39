// Cutting validated UTF-8 text at code point boundaries: what a sender that re-frames text as
// it arrives holds back, so that every frame it sends carries only complete code points.

/**
 * How many bytes at the end of `before` followed by `bytes` form an incomplete UTF-8 sequence
 * (0–3), for text already found valid so far (by a `Utf8Validator`). `before` is a tail held
 * back earlier (at most 3 bytes). Looks at 3 bytes at most; an ASCII last byte answers at once.
 *
 * @example
 * ```ts
 * incompleteUtf8Tail(new Uint8Array([0x61, 0xe2, 0x82]));                    // 2: "a", then 2 of the 3 bytes of "€"
 * incompleteUtf8Tail(new Uint8Array([0xac]), new Uint8Array([0xe2, 0x82]));  // 0: "€" complete
 * incompleteUtf8Tail(new Uint8Array([0x82]), new Uint8Array([0xe2]));        // 2: still incomplete
 * ```
 */
export function incompleteUtf8Tail(bytes: Uint8Array, before?: Uint8Array): number {
  const n = bytes.length;
  if (n > 0 && bytes[n - 1]! < 0x80) return 0;
  const total = n + (before === undefined ? 0 : before.length);
  for (let back = 1; back <= 3 && back <= total; back++) {
    const b = back <= n ? bytes[n - back]! : before![before!.length - (back - n)]!;
    if (b < 0x80) return 0;
    if (b >= 0xc0) return (b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2) > back ? back : 0;
  }
  // Three continuation bytes end a complete 4-byte sequence (the text is valid so far).
  return 0;
}

/**
 * The last `tail` bytes of `before` followed by `bytes`, as a new array (the bytes to hold
 * back, which outlive the chunk they came in); `undefined` for none.
 */
export function utf8TailCopy(bytes: Uint8Array, before: Uint8Array | undefined, tail: number): Uint8Array | undefined {
  if (tail === 0) return undefined;
  const n = bytes.length;
  if (tail <= n) return bytes.slice(n - tail);
  const out = new Uint8Array(tail);
  const fromBefore = tail - n;
  out.set(before!.subarray(before!.length - fromBefore), 0);
  out.set(bytes, fromBefore);
  return out;
}
