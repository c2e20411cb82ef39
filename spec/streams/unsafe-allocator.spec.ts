import fc from 'fast-check';
import { maskInPlace } from '../../lib/codec/mask';
import { GrowableBuffer, type UnsafeAllocator } from '../../lib/streams/growable-buffer';
import { concat, rawServer } from '../helpers/connection-pair';

// A runtime adapter may give the message collector unzeroed memory (Node:
// Buffer.allocUnsafeSlow). Whatever that memory held must never reach the user: every byte
// of the ArrayBuffer behind a collected payload (`payload.buffer`, not just the view) is one
// that was written, or zero. Here the "unzeroed" memory is filled with 0xa5 to show it.

const DIRTY = 0xa5;
const dirtied = new Set<ArrayBufferLike>();
const dirtyAllocator = (size: number): Uint8Array => {
  const b = new Uint8Array(size).fill(DIRTY);
  dirtied.add(b.buffer);
  return b;
};

/** Bytes of `out.buffer` outside the view that are not zero. */
function strayBytes(out: Uint8Array): number {
  const all = new Uint8Array(out.buffer);
  let n = 0;
  for (let i = 0; i < all.length; i++) if ((i < out.byteOffset || i >= out.byteOffset + out.length) && all[i] !== 0) n++;
  return n;
}

const payloadOf = (n: number, seed: number) => new Uint8Array(n).map((_, i) => ((i * 131 + seed) & 0xff) | 1);
const key4 = fc.uint8Array({ minLength: 4, maxLength: 4 });

let alloc: UnsafeAllocator | undefined;

describe('collecting into unzeroed memory (an allocUnsafe runtime hook)', () => {
  beforeEach(() => {
    dirtied.clear();
    alloc = dirtyAllocator;
  });
  afterEach(() => (alloc = undefined));

  it('take() exposes written bytes only, whatever the pieces, reserves, hints and masking (property)', () => {
    const piece = fc.record({ size: fc.integer({ min: 0, max: 3000 }), reserve: fc.option(fc.integer({ min: 0, max: 5000 })), masked: fc.boolean() });
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), fc.nat(6000), key4, (pieces, hint, key) => {
        const buf = new GrowableBuffer(hint, alloc);
        const expected: Uint8Array[] = [];
        pieces.forEach(({ size, reserve, masked }, i) => {
          if (reserve !== null) buf.reserve(reserve);
          const plain = payloadOf(size, i);
          expected.push(plain);
          if (!masked) return buf.append(plain.slice());
          const wire = plain.slice();
          maskInPlace(wire, key, 0);
          buf.appendMasked(wire, key, 0);
        });
        const out = buf.take();
        expect(Buffer.from(out).equals(Buffer.from(concat(expected)))).toBe(true);
        expect(out.constructor).toBe(Uint8Array);
        // A payload kept as the caller's own piece is not the allocator's memory.
        if (dirtied.has(out.buffer)) expect(strayBytes(out)).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('zeroes the unused tail of a grown buffer before handing it out', () => {
    const buf = new GrowableBuffer(0, alloc);
    buf.append(payloadOf(10, 1));
    buf.append(payloadOf(10, 2)); // grows to 256 bytes from the allocator, 20 used
    const out = buf.take();
    expect(dirtied.has(out.buffer)).toBe(true);
    expect(out.buffer.byteLength).toBeGreaterThan(out.length);
    expect(strayBytes(out)).toBe(0);
  });

  it('never uses an allocator result that shares its ArrayBuffer or is not a plain Uint8Array', () => {
    const pool = new Uint8Array(1 << 16).fill(DIRTY);
    for (const bad of [
      (size: number) => pool.subarray(8, 8 + size), // a slice of a shared pool
      (size: number) => pool.subarray(0, size), // the start of a larger buffer
      (size: number) => Buffer.alloc(size, DIRTY), // a Buffer: its slice() is a view, not a copy
      (size: number) => new Uint8Array(size + 1).fill(DIRTY), // the wrong size
    ]) {
      alloc = bad;
      const buf = new GrowableBuffer(300, alloc);
      buf.append(payloadOf(100, 3));
      buf.append(payloadOf(100, 4));
      const out = buf.take();
      expect(out.buffer).not.toBe(pool.buffer);
      expect(out.constructor).toBe(Uint8Array);
      expect(strayBytes(out)).toBe(0);
      expect(Buffer.from(out).equals(Buffer.concat([payloadOf(100, 3), payloadOf(100, 4)]))).toBe(true);
    }
  });

  it('a fragmented masked message read with bytes() carries no unwritten byte in its ArrayBuffer', async () => {
    const key = new Uint8Array([0x11, 0x22, 0x33, 0x44]);
    const parts = [payloadOf(10, 5), payloadOf(10, 6), payloadOf(100, 7)]; // the last fits the grown buffer: a tail is left
    const frame = (op: number, p: Uint8Array, fin: boolean) => {
      const n = p.length;
      const len = n < 126 ? [0x80 | n] : n < 65536 ? [0x80 | 126, n >> 8, n & 255] : [0x80 | 127, 0, 0, 0, 0, 0, (n >> 16) & 255, (n >> 8) & 255, n & 255];
      const body = p.slice();
      maskInPlace(body, key, 0);
      return concat([new Uint8Array([(fin ? 0x80 : 0) | op, ...len, ...key]), body]);
    };
    const { server, peer } = rawServer(undefined, { allocUnsafe: alloc });
    const reading = server.nextMessage();
    peer.write([frame(2, parts[0]!, false), frame(0, parts[1]!, false), frame(0, parts[2]!, true)]);
    const out = await (await reading)!.bytes();
    expect(Buffer.from(out).equals(Buffer.from(concat(parts)))).toBe(true);
    expect(dirtied.has(out.buffer)).toBe(true);
    expect(strayBytes(out)).toBe(0);
    peer.end();
    await server.closed;
  });
});

describe('collecting a message of many frames', () => {
  afterEach(() => (alloc = undefined));

  it('grows its buffer geometrically, not by each frame: a few allocations for 20 000 frames', () => {
    // Counted through the allocator hook (no timing): growing by each frame's announced size
    // allocated (and copied everything) once per frame.
    let allocations = 0;
    alloc = (size) => {
      allocations++;
      return new Uint8Array(size);
    };
    const buf = new GrowableBuffer(10, alloc);
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 20_000; i++) {
      const f = payloadOf(10, i);
      frames.push(f);
      buf.reserve(f.length); // what a collecting message does at each frame-start
      buf.append(f);
    }
    const out = buf.take();
    expect(Buffer.from(out).equals(Buffer.from(concat(frames)))).toBe(true);
    expect(allocations).toBeLessThan(30);
  });
});
