// Cutting validated UTF-8 at code point boundaries (RFC 3629 §3): how many trailing bytes of
// text valid so far are an incomplete sequence, across a held-back tail and the next piece.
import fc from 'fast-check';
import { incompleteUtf8Tail, utf8TailCopy } from '../../lib/codec/utf8-tail';
import { isValidUtf8 } from '../../lib/codec/utf8-validator';
import { hex, toHex } from '../helpers/connection-pair';

/** The reference: the fewest trailing bytes whose removal leaves complete, valid UTF-8. */
function referenceTail(validSoFar: Uint8Array): number {
  for (let t = 0; t <= 3 && t <= validSoFar.length; t++) {
    if (isValidUtf8(validSoFar.subarray(0, validSoFar.length - t))) return t;
  }
  throw new Error(`not valid so far: ${toHex(validSoFar)}`);
}

describe('incompleteUtf8Tail', () => {
  it('counts the bytes of a sequence cut short at the end, of every length', () => {
    expect(incompleteUtf8Tail(hex(''))).toBe(0);
    expect(incompleteUtf8Tail(hex('61'))).toBe(0);
    expect(incompleteUtf8Tail(hex('61c3'))).toBe(1);
    expect(incompleteUtf8Tail(hex('c3a9'))).toBe(0);
    expect(incompleteUtf8Tail(hex('e2'))).toBe(1);
    expect(incompleteUtf8Tail(hex('e282'))).toBe(2);
    expect(incompleteUtf8Tail(hex('e282ac'))).toBe(0);
    expect(incompleteUtf8Tail(hex('f0'))).toBe(1);
    expect(incompleteUtf8Tail(hex('f09f'))).toBe(2);
    expect(incompleteUtf8Tail(hex('f09f98'))).toBe(3);
    expect(incompleteUtf8Tail(hex('f09f9882'))).toBe(0);
    expect(incompleteUtf8Tail(hex('cebae1bdb9cf83cebcceb5f4'))).toBe(1);
  });

  it('looks through a held-back tail when the piece does not reach a lead byte', () => {
    expect(incompleteUtf8Tail(hex('82'), hex('e2'))).toBe(2);
    expect(incompleteUtf8Tail(hex('ac'), hex('e282'))).toBe(0);
    expect(incompleteUtf8Tail(hex('98'), hex('f09f'))).toBe(3);
    expect(incompleteUtf8Tail(hex('9882'), hex('f0'))).toBe(3);
    expect(incompleteUtf8Tail(hex('9f9882'), hex('f0'))).toBe(0);
    expect(incompleteUtf8Tail(hex(''), hex('e282'))).toBe(2);
  });

  it('utf8TailCopy takes the held-back bytes across the tail and the piece, as a copy', () => {
    const piece = hex('61e282');
    const copy = utf8TailCopy(piece, undefined, 2)!;
    expect(toHex(copy)).toBe('e282');
    piece[1] = 0;
    expect(toHex(copy)).toBe('e282');
    expect(toHex(utf8TailCopy(hex('9f98'), hex('f0'), 3)!)).toBe('f09f98');
    expect(utf8TailCopy(hex('61'), undefined, 0)).toBeUndefined();
  });

  it('agrees with the validator on every cut of any text, with the previous cut held back', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 24 }), fc.nat(), fc.nat(), (s, x, y) => {
        const bytes = new TextEncoder().encode(s);
        const a = x % (bytes.length + 1);
        const b = a + (y % (bytes.length - a + 1));
        const held = referenceTail(bytes.subarray(0, a));
        const before = held === 0 ? undefined : bytes.slice(a - held, a);
        const piece = bytes.subarray(a, b);
        const tail = incompleteUtf8Tail(piece, before);
        expect(tail).toBe(referenceTail(bytes.subarray(0, b)));
        expect(toHex(utf8TailCopy(piece, before, tail) ?? new Uint8Array(0))).toBe(toHex(bytes.subarray(b - tail, b)));
      }),
      { numRuns: 2000 },
    );
  });
});
