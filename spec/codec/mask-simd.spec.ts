import fc from 'fast-check';
import { maskInPlace, maskInto } from '../../lib/codec/mask';
import { setSimdMaskEnabled, SIMD_SLICE, simdMaskAvailable, simdMaskInPlace } from '../../lib/codec/mask-simd';

/** The RFC 6455 §5.3 definition, one byte at a time: the reference. */
const reference = (data: Uint8Array, key: Uint8Array, phase: number) => data.map((b, i) => b ^ key[(phase + i) & 3]!);

const pattern = (n: number) => new Uint8Array(n).map((_, i) => (i * 131 + (i >>> 8) * 7) & 0xff);

/** Masks a view of `len` bytes at `offset` inside a larger buffer; checks it and that the bytes around it are untouched. */
function checkMask(len: number, offset: number, phase: number, key: Uint8Array): void {
  const buf = pattern(offset + len + 80);
  const before = buf.slice();
  const view = buf.subarray(offset, offset + len);
  const want = reference(view, key, phase);
  expect(maskInPlace(view, key, phase)).toBe((phase + len) & 3);
  expect(Buffer.from(view).equals(Buffer.from(want))).toBe(true);
  expect(Buffer.from(buf.subarray(0, offset)).equals(Buffer.from(before.subarray(0, offset)))).toBe(true);
  expect(Buffer.from(buf.subarray(offset + len)).equals(Buffer.from(before.subarray(offset + len)))).toBe(true);
}

// Lengths around the kernel's threshold (1024), its 64-byte rounds and its slice size.
const LENGTHS = [1023, 1024, 1025, 1027, 1088, 1100, 4096 + 61, SIMD_SLICE - 1, SIMD_SLICE, SIMD_SLICE + 1, SIMD_SLICE + 63, 2 * SIMD_SLICE + 13];

describe('maskInPlace through the WebAssembly SIMD kernel', () => {
  afterEach(() => setSimdMaskEnabled(true));

  it('the kernel runs on this engine (Node has WebAssembly SIMD)', () => {
    expect(simdMaskAvailable()).toBe(true);
  });

  for (const simd of [true, false]) {
    const path = simd ? 'SIMD kernel' : 'JavaScript word loop';

    it(`${path}: matches the byte-by-byte definition at every offset and key phase, across slice and round boundaries, without touching neighbours`, () => {
      setSimdMaskEnabled(simd);
      const key = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);
      for (const len of LENGTHS) {
        for (let offset = 0; offset < 8; offset++) {
          for (let phase = 0; phase < 4; phase++) checkMask(len, offset, phase, key);
        }
      }
    });

    it(`${path}: matches the definition for any payload, offset, phase and key (property)`, () => {
      setSimdMaskEnabled(simd);
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 5000 }), fc.nat(15), fc.nat(3), fc.uint8Array({ minLength: 4, maxLength: 4 }), (len, offset, phase, key) => {
          checkMask(len, offset, phase, key);
        }),
        { numRuns: 300 },
      );
    });

    it(`${path}: carries the key phase across pieces of one payload cut anywhere (property)`, () => {
      setSimdMaskEnabled(simd);
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 3 * SIMD_SLICE }), fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 5 }), (len, key, cuts) => {
          const data = pattern(len);
          const whole = reference(data, key, 0);
          const points = [...new Set(cuts.map((c) => c % len))].sort((a, b) => a - b);
          let phase = 0;
          let at = 0;
          for (const p of [...points, len]) {
            phase = maskInPlace(data.subarray(at, p), key, phase);
            at = p;
          }
          expect(Buffer.from(data).equals(Buffer.from(whole))).toBe(true);
        }),
        { numRuns: 40 },
      );
    });
  }

  for (const simd of [true, false]) {
    it(`maskInto (${simd ? 'SIMD kernel' : 'JavaScript'}): writes the masked bytes at any target offset and key phase, leaving the source and the rest of the target as they were (property)`, () => {
      setSimdMaskEnabled(simd);
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 3 * SIMD_SLICE }), fc.nat(15), fc.nat(31), fc.nat(3), fc.uint8Array({ minLength: 4, maxLength: 4 }), (len, srcOffset, dstOffset, phase, key) => {
          const src = pattern(srcOffset + len).subarray(srcOffset);
          const source = src.slice();
          const target = new Uint8Array(dstOffset + len + 70).fill(0xa5);
          expect(maskInto(src, key, phase, target, dstOffset)).toBe((phase + len) & 3);
          expect(Buffer.from(src).equals(Buffer.from(source))).toBe(true);
          expect(Buffer.from(target.subarray(dstOffset, dstOffset + len)).equals(Buffer.from(reference(source, key, phase)))).toBe(true);
          expect(target.subarray(0, dstOffset).every((b) => b === 0xa5)).toBe(true);
          expect(target.subarray(dstOffset + len).every((b) => b === 0xa5)).toBe(true);
        }),
        { numRuns: 200 },
      );
    });
  }

  it('simdMaskInPlace does nothing and says so when the kernel is off', () => {
    setSimdMaskEnabled(false);
    const data = pattern(2048);
    expect(simdMaskInPlace(data, 0x12345678)).toBe(false);
    expect(Buffer.from(data).equals(Buffer.from(pattern(2048)))).toBe(true);
  });

  it('simdMaskInPlace XORs with the little-endian key word', () => {
    const data = new Uint8Array(2048);
    expect(simdMaskInPlace(data, 0x04030201)).toBe(true);
    expect(Array.from(data.subarray(0, 8))).toEqual([1, 2, 3, 4, 1, 2, 3, 4]);
    expect(Array.from(data.subarray(2040))).toEqual([1, 2, 3, 4, 1, 2, 3, 4]);
  });
});
