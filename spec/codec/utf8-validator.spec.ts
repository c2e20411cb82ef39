import fc from 'fast-check';
import { Utf8Validator, isValidUtf8 } from '../../lib/codec/utf8-validator';
import { hex } from './helpers';

const decoderAccepts = (b: Uint8Array): boolean => {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(b);
    return true;
  } catch {
    return false;
  }
};

/** Validates `bytes` split at `cuts`: whether it is valid, and the absolute index of the first bad byte. */
function validate(bytes: Uint8Array, cuts: number[] = [], native?: (b: Uint8Array) => boolean): { ok: boolean; badAt: number } {
  const v = new Utf8Validator(native);
  let at = 0;
  for (const c of [...cuts, bytes.length]) {
    const r = v.push(bytes.subarray(at, c));
    if (r !== -1) return { ok: false, badAt: at + r };
    at = c;
  }
  return { ok: v.end(), badAt: -1 };
}

// Random code points encoded, then sometimes mutated: mostly-valid text exercises the DFA.
const nearlyValid = fc
  .tuple(fc.array(fc.oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 0x80, max: 0x10ffff })), { maxLength: 40 }),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 2 }))
  .map(([cps, muts]) => {
    const s = String.fromCodePoint(...cps.filter((c) => c < 0xd800 || c > 0xdfff));
    const b = new TextEncoder().encode(s);
    const out = b.length > 0 ? b.slice() : new Uint8Array([0x61]);
    for (const [i, v] of muts) out[i % out.length] = v;
    return out;
  });

describe('Utf8Validator', () => {
  it('Utf8Validator agrees with TextDecoder (fatal) on random bytes, whole and split', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 64 }), nearlyValid), fc.array(fc.nat(), { maxLength: 5 }), (bytes, cuts) => {
        const expected = decoderAccepts(bytes);
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        expect(validate(bytes).ok).toBe(expected);
        expect(validate(bytes, points).ok).toBe(expected);
        expect(isValidUtf8(bytes)).toBe(expected);
      }),
      { numRuns: 3000 },
    );
  });

  it('Utf8Validator reports the same first bad byte however the input is split', () => {
    fc.assert(
      fc.property(nearlyValid, fc.array(fc.nat(), { maxLength: 5 }), (bytes, cuts) => {
        const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        expect(validate(bytes, points)).toEqual(validate(bytes));
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['a surrogate (ED A0 80) at the A0', 'eda080', 1],
    ['a code point above U+10FFFF (F4 90) at the 90', 'f49080 80', 1],
    ['an overlong 2-byte form (C0 80) at the C0', 'c080', 0],
    ['an overlong 3-byte form (E0 80 80) at the second byte', 'e08080', 1],
    ['an overlong 4-byte form (F0 80 80 80) at the second byte', 'f0808080', 1],
    ['F5 at once', '61f5', 1],
    ['a stray continuation byte', '6180', 1],
    ['a lead byte followed by ASCII', 'e26162', 1],
  ])('Utf8Validator fails fast on %s', (_name, bytes, index) => {
    expect(validate(hex(bytes)).badAt).toBe(index);
  });

  it('Utf8Validator fails a sequence cut short at the end of the text', () => {
    const v = new Utf8Validator();
    expect(v.push(hex('e282'))).toBe(-1);
    expect(v.end()).toBe(false);
  });

  it('Utf8Validator reports a bad byte in the chunk where it arrives, mid-sequence across chunks', () => {
    const v = new Utf8Validator();
    expect(v.push(hex('61f0'))).toBe(-1);
    expect(v.push(hex('9f'))).toBe(-1);
    expect(v.push(hex('41'))).toBe(0);
    expect(v.failed).toBe(true);
  });

  it('Utf8Validator accepts the largest code point and every boundary of the encoding', () => {
    for (const cp of [0x7f, 0x80, 0x7ff, 0x800, 0xd7ff, 0xe000, 0xfffd, 0xffff, 0x10000, 0x10ffff]) {
      expect(isValidUtf8(new TextEncoder().encode(String.fromCodePoint(cp)))).toBe(true);
    }
  });

  it('Utf8Validator gives the same answers with a native fast path plugged in', () => {
    let calls = 0;
    const native = (b: Uint8Array): boolean => (calls++, decoderAccepts(b));
    const long = new TextEncoder().encode('héllo wörld '.repeat(100));
    expect(validate(long, [], native).ok).toBe(true);
    const bad = long.slice();
    bad[700] = 0xff;
    expect(validate(bad, [], native).badAt).toBe(700);
    expect(validate(long, [1001], native).ok).toBe(true);
    expect(calls).toBeGreaterThan(0);
    expect(isValidUtf8(bad, native)).toBe(false);
  });
});
