import fc from 'fast-check';
import { FrameParser, type ParserEvent } from '../../lib/codec/frame-parser';
import { maskInPlace } from '../../lib/codec/mask';
import { setSimdMaskEnabled } from '../../lib/codec/mask-simd';
import { GrowableBuffer } from '../../lib/streams/growable-buffer';
import { concat, rawServer } from '../helpers/connection-pair';
import { frame } from '../codec/helpers';
import { cutAt as cut } from '../helpers/masked-frames';

// A message collected whole (`bytes()`, `text()`, the Autobahn tier's onMessage) takes its
// payload still masked from the parser and unmasks it on its way into the message buffer.
// These check that path against the plain definition, whatever the key, the fragmentation
// and the way TCP cuts the bytes.

const payloadOf = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * 131 + seed) & 0xff);
const key4 = fc.uint8Array({ minLength: 4, maxLength: 4 });

describe('collecting a masked message unmasks it into the message buffer', () => {
  afterEach(() => setSimdMaskEnabled(true));

  it('FrameParser.next(true) leaves payload masked with the key and phase that unmask it to what next() gives', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 70_000 }), key4, fc.array(fc.nat(), { maxLength: 6 }), (n, key, cuts) => {
        const payload = payloadOf(n, 3);
        const wire = frame(2, payload, { fin: true, key });
        const got: Uint8Array[] = [];
        const parser = new FrameParser({ role: 'server' });
        for (const piece of cut(wire, cuts)) {
          parser.push(piece);
          for (let ev: ParserEvent | undefined = parser.next(true); ev; ev = parser.next(true)) {
            if (ev.type !== 'frame-data') continue;
            expect(ev.maskKey).toEqual(key);
            const data = ev.data.slice();
            maskInPlace(data, ev.maskKey!, ev.maskPhase!);
            got.push(data);
          }
        }
        expect(Buffer.from(concat(got)).equals(Buffer.from(payload))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  for (const simd of [true, false]) {
    it(`GrowableBuffer.appendMasked equals unmasking then appending, for any pieces, key and size hint (${simd ? 'SIMD' : 'JavaScript'} masking)`, () => {
      setSimdMaskEnabled(simd);
      fc.assert(
        fc.property(fc.integer({ min: 0, max: 40_000 }), key4, fc.array(fc.nat(), { maxLength: 8 }), fc.nat(50_000), (n, key, cuts, hint) => {
          const payload = payloadOf(n, 11);
          const masked = payload.slice();
          maskInPlace(masked, key, 0);
          const buf = new GrowableBuffer(hint);
          let phase = 0;
          for (const piece of cut(masked, cuts)) {
            const before = piece.slice();
            buf.appendMasked(piece, key, phase);
            phase = (phase + piece.length) & 3;
            // A piece is left as it was, unless the first one was kept as a view (unmasked in place).
            if (buf.length !== piece.length) expect(Buffer.from(piece).equals(Buffer.from(before))).toBe(true);
          }
          expect(Buffer.from(buf.take()).equals(Buffer.from(payload))).toBe(true);
        }),
        { numRuns: 150 },
      );
    });
  }

  it('bytes() and text() deliver fragmented masked messages cut anywhere intact (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 200_000 }),
        key4,
        fc.array(fc.nat(), { maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.boolean(),
        async (n, key, fragmentCuts, wireCuts, text) => {
          const payload = text ? payloadOf(n, 5).map((b) => 0x20 + (b % 0x5f)) : payloadOf(n, 7);
          const fragments = n === 0 ? [payload] : cut(payload, fragmentCuts);
          const wire = concat(fragments.map((f, i) => frame(i === 0 ? (text ? 1 : 2) : 0, f, { fin: i === fragments.length - 1, key })));
          const { server, peer } = rawServer();
          const reading = server.nextMessage();
          peer.write(cut(wire, wireCuts));
          const msg = (await reading)!;
          if (text) expect(await msg.text()).toBe(new TextDecoder().decode(payload));
          else expect(Buffer.from(await msg.bytes()).equals(Buffer.from(payload))).toBe(true);
          peer.end();
          await server.closed;
        },
      ),
      { numRuns: 40 },
    );
  });

  it('a collected message that arrived in pieces before bytes() was asked for is intact', async () => {
    const key = new Uint8Array([0x9c, 0x01, 0xfe, 0x42]);
    const payload = payloadOf(150_000, 1);
    const { server, peer } = rawServer();
    const wire = concat([frame(2, payload.subarray(0, 70_001), { fin: false, key }), frame(0, payload.subarray(70_001), { fin: true, key })]);
    peer.write(cut(wire, [5, 9_000, 65_536, 70_020, 100_003]));
    const msg = (await server.nextMessage())!;
    await new Promise((r) => setTimeout(r, 0));
    expect(Buffer.from(await msg.bytes()).equals(Buffer.from(payload))).toBe(true);
    peer.end();
    await server.closed;
  });
});
