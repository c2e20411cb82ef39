import { carve, CARVE_LIMIT, SLAB_BYTES } from '../../lib/codec/slab';
import { FrameEncoder } from '../../lib/protocol/frame-encoder';

describe('slab: small buffers carved from a shared slab', () => {
  it('never hands out a byte twice: carved views are disjoint, zeroed and start on 8-byte boundaries', () => {
    const seen: Uint8Array[] = [];
    for (let i = 0; i < 200; i++) {
      const size = 1 + ((i * 37) % 300);
      const v = carve(size);
      expect(v.length).toBe(size);
      expect(v.byteOffset % 8).toBe(0);
      expect(v.every((b) => b === 0)).toBe(true);
      v.fill(0xff); // a later carve must not see or hand out these bytes again
      for (const w of seen) {
        if (w.buffer !== v.buffer) continue;
        const overlap = v.byteOffset < w.byteOffset + w.length && w.byteOffset < v.byteOffset + v.length;
        expect(overlap).toBe(false);
      }
      seen.push(v);
    }
    // 200 views of up to 300 bytes do not fit one slab: several slabs were made.
    expect(new Set(seen.map((v) => v.buffer)).size).toBeGreaterThan(1);
    expect(seen.every((v) => v.buffer.byteLength === SLAB_BYTES)).toBe(true);
  });

  it('gives a buffer of its own beyond CARVE_LIMIT', () => {
    const v = carve(CARVE_LIMIT + 1);
    expect(v.byteOffset).toBe(0);
    expect(v.buffer.byteLength).toBe(CARVE_LIMIT + 1);
  });

  it('frames encoded one after another keep their own bytes (a server frame of 1 KiB shares a slab with the next)', () => {
    const enc = new FrameEncoder({ role: 'server' });
    const frames = [1, 2, 3].map((v) => enc.encodeFrame(2, new Uint8Array(1024).fill(v), true, 0));
    frames.forEach((chunks, i) => {
      expect(chunks).toHaveLength(1);
      const f = chunks[0]!;
      expect(f.length).toBe(4 + 1024);
      expect([...f.subarray(0, 4)]).toEqual([0x82, 126, 4, 0]);
      expect(f.subarray(4).every((b) => b === i + 1)).toBe(true);
    });
    // At most one slab boundary falls between three consecutive 1 KiB frames.
    const buf = frames.map((c) => c[0]!.buffer);
    expect(buf[0] === buf[1] || buf[1] === buf[2]).toBe(true);
  });
});
