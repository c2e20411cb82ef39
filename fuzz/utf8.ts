// Fuzz target: incremental UTF-8 validation (lib/codec/utf8-validator.ts) and the tail a
// re-framing sender holds back (lib/codec/utf8-tail.ts), against the platform's fatal decoder,
// in any chunking.
import fc from 'fast-check';
import { isUtf8 } from 'node:buffer';
import { incompleteUtf8Tail } from '../lib/codec/utf8-tail';
import { Utf8Validator } from '../lib/codec/utf8-validator';
import { check, chunkings, onlyThrows, type FuzzTarget } from './support';

/** Where the WHATWG decoder (fail-fast per byte) first refuses `bytes`, or -1 for a valid-so-far prefix; `complete`: also whole. */
function reference(bytes: Uint8Array): { firstBad: number; complete: boolean } {
  const streaming = new TextDecoder('utf-8', { fatal: true });
  for (let i = 0; i < bytes.length; i++) {
    try {
      streaming.decode(bytes.subarray(i, i + 1), { stream: true });
    } catch {
      return { firstBad: i, complete: false };
    }
  }
  try {
    streaming.decode();
    return { firstBad: -1, complete: true };
  } catch {
    return { firstBad: -1, complete: false };
  }
}

const sequences = fc.constantFrom(
  [0x24], [0xc2, 0xa2], [0xe2, 0x82, 0xac], [0xf0, 0x90, 0x8d, 0x88], [0xed, 0x9f, 0xbf], [0xee, 0x80, 0x80], [0xf4, 0x8f, 0xbf, 0xbf],
  [0x80], [0xbf], [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xe0, 0x9f, 0xbf], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf],
  [0xf0, 0x80, 0x80, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf5], [0xff], [0xe2, 0x82], [0xf0, 0x90],
);

export const target: FuzzTarget = {
  name: 'utf8',
  inputs: fc.oneof(
    fc.array(sequences, { maxLength: 24 }).map((seqs) => new Uint8Array(seqs.flat())),
    // Long enough for the ASCII fast path and the native check on large chunks.
    fc.tuple(fc.integer({ min: 0, max: 1200 }), fc.array(sequences, { maxLength: 4 })).map(([n, seqs]) => new Uint8Array([...new Uint8Array(n).fill(0x61), ...seqs.flat()])),
  ),
  fuzz(bytes: Uint8Array): void {
    const ref = reference(bytes);
    // Text before byte i was found valid so far: it is complete when its last sequence (from
    // the last byte that is not a continuation byte, 10xxxxxx) decodes on its own.
    const whole = new TextDecoder('utf-8', { fatal: true });
    const boundary = (i: number): boolean => {
      let j = i - 1;
      while (j > 0 && i - j < 4 && (bytes[j]! & 0xc0) === 0x80) j--;
      if (j < 0) return true;
      try {
        whole.decode(bytes.subarray(j, i));
        return true;
      } catch {
        return false;
      }
    };
    for (const native of [undefined, isUtf8]) {
      for (const pieces of chunkings(bytes)) {
        const v = new Utf8Validator(native);
        let offset = 0;
        let bad = -1;
        let before: Uint8Array = new Uint8Array(0);
        for (const piece of pieces) {
          const at = onlyThrows('Utf8Validator.push', () => v.push(piece)) as number;
          if (at !== -1) {
            bad = offset + at;
            break;
          }
          // The tail held back at this cut: what a complete-code-points-only sender would keep.
          const tail = incompleteUtf8Tail(piece, before.length > 0 ? before.subarray(-3) : undefined);
          const sent = offset + piece.length - tail;
          check(tail <= 3 && boundary(sent), () => `incompleteUtf8Tail leaves an incomplete sequence before byte ${sent}`);
          check(tail === 0 || !boundary(sent + tail), () => `incompleteUtf8Tail holds back ${tail} bytes of complete text`);
          before = bytes.subarray(Math.max(0, offset + piece.length - 3), offset + piece.length);
          offset += piece.length;
        }
        check(bad === ref.firstBad, () => `Utf8Validator${native ? ' (native)' : ''} finds the first bad byte at ${bad}, the decoder at ${ref.firstBad} (${pieces.length} pieces)`);
        if (bad === -1) check(v.end() === ref.complete, () => `Utf8Validator.end() says ${!ref.complete}, the decoder ${ref.complete}`);
      }
    }
  },
};
