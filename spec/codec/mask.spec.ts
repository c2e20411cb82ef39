import fc from 'fast-check';
import { createMaskKey, maskInPlace } from '../../lib/codec/mask';

/** The RFC 6455 §5.3 definition, one byte at a time: the reference. */
const reference = (data: Uint8Array, key: Uint8Array, phase: number) => data.map((b, i) => b ^ key[(phase + i) & 3]!);

describe('maskInPlace', () => {
  it('maskInPlace matches the byte-by-byte definition at every offset, length and phase', () => {
    const key = new Uint8Array([0x37, 0xfa, 0x21, 0x3d]);
    const buf = new Uint8Array(96).map((_, i) => i * 31);
    for (let offset = 0; offset < 8; offset++) {
      for (let len = 0; len <= 70; len++) {
        for (let phase = 0; phase < 4; phase++) {
          const view = buf.slice().subarray(offset, offset + len);
          const want = reference(view, key, phase);
          const next = maskInPlace(view, key, phase);
          expect(Array.from(view)).toEqual(Array.from(want));
          expect(next).toBe((phase + len) & 3);
        }
      }
    }
  });

  it('maskInPlace applied twice is the identity (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.nat(3), fc.nat(7), (data, key, phase, offset) => {
        const buf = new Uint8Array(offset + data.length);
        buf.set(data, offset);
        const view = buf.subarray(offset);
        maskInPlace(view, key, phase);
        maskInPlace(view, key, phase);
        expect(Array.from(view)).toEqual(Array.from(data));
      }),
      { numRuns: 1000 },
    );
  });

  it('maskInPlace carries the key phase across pieces of one payload', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 6 }), (data, key, cuts) => {
        const whole = reference(data, key, 0);
        const copy = data.slice();
        const points = [...new Set(cuts.map((c) => c % data.length))].sort((a, b) => a - b);
        let phase = 0;
        let at = 0;
        for (const p of [...points, data.length]) {
          phase = maskInPlace(copy.subarray(at, p), key, phase);
          at = p;
        }
        expect(Array.from(copy)).toEqual(Array.from(whole));
      }),
    );
  });

  it('createMaskKey returns 4 bytes that differ from call to call', () => {
    const keys = new Set(Array.from({ length: 100 }, () => Array.from(createMaskKey()).join(',')));
    expect(createMaskKey().length).toBe(4);
    expect(keys.size).toBeGreaterThan(95);
  });
});
