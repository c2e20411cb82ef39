import fc from 'fast-check';
import { FrameParser } from '../../lib/codec/frame-parser';
import { FrameEncoder } from '../../lib/protocol/frame-encoder';
import { failureOf, frame, hex, parseAll, toHex } from './helpers';

const KEY = hex('37fa213d');
const enc = new TextEncoder();
const server = { role: 'server' as const };
const client = { role: 'client' as const };
const masked = (opcode: number, payload: Uint8Array | string, opts: Parameters<typeof frame>[2] = {}) =>
  frame(opcode, typeof payload === 'string' ? enc.encode(payload) : payload, { key: KEY, ...opts });

// RFC 6455 §5.7 examples.
const vectors = {
  unmaskedHello: hex('810548656c6c6f'),
  maskedHello: hex('818537fa213d7f9f4d5158'),
  fragmentedHello: hex('010348656c 80026c6f'),
  unmaskedPing: hex('890548656c6c6f'),
  maskedPong: hex('8a8537fa213d7f9f4d5158'),
  binary256: new Uint8Array([0x82, 0x7e, 0x01, 0x00, ...new Uint8Array(256)]),
  binary64k: new Uint8Array([0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0, ...new Uint8Array(65536)]),
};
const splitPoints = (b: Uint8Array) => Array.from({ length: b.length - 1 }, (_, i) => i + 1);

describe('FrameParser: RFC 6455 §5.7 vectors', () => {
  it('FrameParser decodes the unmasked "Hello" text frame (client role)', () =>
    expect(parseAll(vectors.unmaskedHello, client)).toEqual({ frames: [{ fin: true, rsv: 0, opcode: 1, payload: toHex(enc.encode('Hello')) }] }));
  it('FrameParser decodes the masked "Hello" text frame (server role)', () =>
    expect(parseAll(vectors.maskedHello, server)).toEqual({ frames: [{ fin: true, rsv: 0, opcode: 1, payload: toHex(enc.encode('Hello')) }] }));
  it('FrameParser decodes the fragmented "Hel" + "lo"', () =>
    expect(parseAll(vectors.fragmentedHello, client).frames.map((f) => [f.opcode, f.fin, f.payload])).toEqual([[1, false, toHex(enc.encode('Hel'))], [0, true, toHex(enc.encode('lo'))]]));
  it('FrameParser decodes the unmasked ping and the masked pong', () => {
    expect(parseAll(vectors.unmaskedPing, client).frames[0]).toMatchObject({ opcode: 9, payload: toHex(enc.encode('Hello')) });
    expect(parseAll(vectors.maskedPong, server).frames[0]).toMatchObject({ opcode: 10, payload: toHex(enc.encode('Hello')) });
  });
  it('FrameParser decodes the 256-byte (16-bit length) and 64 KiB (64-bit length) binary frames', () => {
    expect(parseAll(vectors.binary256, client).frames[0]!.payload.length).toBe(512);
    expect(parseAll(vectors.binary64k, client).frames[0]!.payload.length).toBe(131072);
  });
  it.each(splitPoints(vectors.maskedHello))('FrameParser gives the same masked frame when split at %p', (at) =>
    expect(parseAll(vectors.maskedHello, server, [at])).toEqual(parseAll(vectors.maskedHello, server)));
  it.each(splitPoints(vectors.fragmentedHello))('FrameParser gives the same fragments when split at %p', (at) =>
    expect(parseAll(vectors.fragmentedHello, client, [at])).toEqual(parseAll(vectors.fragmentedHello, client)));
  it('FrameParser parses a 64-bit-length frame fed one byte at a time', () => {
    const bytes = masked(2, new Uint8Array(70000).map((_, i) => i));
    expect(parseAll(bytes, server, splitPoints(bytes))).toEqual(parseAll(bytes, server));
  });
});

describe('FrameEncoder: RFC 6455 §5.7 vectors', () => {
  it('FrameEncoder produces the unmasked "Hello" frame byte for byte (server role)', () =>
    expect(toHex(concat(new FrameEncoder({ role: 'server' }).encodeFrame(1, enc.encode('Hello'), true, 0)))).toBe('810548656c6c6f'));
  it('FrameEncoder produces the masked "Hello" frame byte for byte with an injected key (client role)', () =>
    expect(toHex(concat(new FrameEncoder({ role: 'client', maskKeySource: () => KEY }).encodeFrame(1, enc.encode('Hello'), true, 0)))).toBe('818537fa213d7f9f4d5158'));
  it('FrameEncoder produces the fragmented, ping and pong examples', () => {
    const s = new FrameEncoder({ role: 'server' });
    expect(toHex(concat([...s.encodeFrame(1, enc.encode('Hel'), false, 0), ...s.encodeFrame(0, enc.encode('lo'), true, 0)]))).toBe('010348656c80026c6f');
    expect(toHex(concat(s.encodeFrame(9, enc.encode('Hello'), true, 0)))).toBe('890548656c6c6f');
    expect(toHex(concat(new FrameEncoder({ role: 'client', maskKeySource: () => KEY }).encodeFrame(10, enc.encode('Hello'), true, 0)))).toBe('8a8537fa213d7f9f4d5158');
  });
  it('FrameEncoder uses 16- and 64-bit lengths at 126 and 65536 bytes', () => {
    const s = new FrameEncoder({ role: 'server' });
    expect(toHex(concat(s.encodeFrame(2, new Uint8Array(256), true, 0))).slice(0, 8)).toBe('827e0100');
    expect(toHex(concat(s.encodeFrame(2, new Uint8Array(65536), true, 0))).slice(0, 20)).toBe('827f0000000000010000');
    expect(toHex(concat(s.encodeFrame(2, new Uint8Array(125), true, 0))).slice(0, 4)).toBe('827d');
    expect(toHex(concat(s.encodeFrame(2, new Uint8Array(65535), true, 0))).slice(0, 8)).toBe('827effff');
  });
  it('FrameEncoder never modifies the caller payload when masking', () => {
    const payload = enc.encode('Hello');
    new FrameEncoder({ role: 'client', maskKeySource: () => KEY }).encodeFrame(1, payload, true, 0);
    expect(new TextDecoder().decode(payload)).toBe('Hello');
  });
  it('FrameEncoder.beginFrame masks pieces with the key phase carried across them', () => {
    const e = new FrameEncoder({ role: 'client', maskKeySource: () => KEY });
    const { header, mask } = e.beginFrame(1, 5, true, 0);
    expect(toHex(concat([header, mask(enc.encode('He')), mask(enc.encode('l')), mask(enc.encode('lo'))]))).toBe('818537fa213d7f9f4d5158');
  });
});

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

describe('FrameParser: every RFC 6455 §5 rule, with its close code', () => {
  it('fails with 1002 when RSV1, RSV2 or RSV3 is set and no extension owns it', () => {
    for (const rsv of [4, 2, 1]) expect(failureOf(masked(1, 'x', { rsv }), server)).toEqual({ closeCode: 1002, kind: 'RESERVED_BITS' });
  });
  it('accepts RSV bits that a negotiated extension owns, on data frames only', () => {
    expect(parseAll(masked(1, 'x', { rsv: 4 }), { role: 'server', allowedRsv: 4 }).error).toBeUndefined();
    expect(failureOf(masked(9, 'x', { rsv: 4 }), { role: 'server', allowedRsv: 4 })).toEqual({ closeCode: 1002, kind: 'RESERVED_BITS' });
  });
  it.each([3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf])('fails with 1002 on reserved opcode 0x%s', (op) =>
    expect(failureOf(masked(op, 'x'), server)).toEqual({ closeCode: 1002, kind: 'RESERVED_OPCODE' }));
  it('accepts a reserved opcode an extension defines', () =>
    expect(parseAll(masked(3, 'x'), { role: 'server', allowedOpcodes: [3] }).frames[0]).toMatchObject({ opcode: 3 }));
  it('fails with 1002 on a control frame longer than 125 bytes', () =>
    expect(failureOf(masked(9, new Uint8Array(126)), server)).toEqual({ closeCode: 1002, kind: 'CONTROL_FRAME_TOO_LONG' }));
  it('accepts a control frame of exactly 125 bytes', () =>
    expect(parseAll(masked(9, new Uint8Array(125)), server).frames[0]!.payload.length).toBe(250));
  it('fails with 1002 on a fragmented control frame', () =>
    expect(failureOf(masked(9, 'x', { fin: false }), server)).toEqual({ closeCode: 1002, kind: 'CONTROL_FRAME_FRAGMENTED' }));
  it('fails with 1002 on a continuation without a started message', () =>
    expect(failureOf(masked(0, 'x'), server)).toEqual({ closeCode: 1002, kind: 'UNEXPECTED_CONTINUATION' }));
  it('fails with 1002 on a new data frame inside a fragmented message', () =>
    expect(failureOf(concat([masked(1, 'a', { fin: false }), masked(2, 'b')]), server)).toEqual({ closeCode: 1002, kind: 'EXPECTED_CONTINUATION' }));
  it('fails with 1002 when a server receives an unmasked frame', () =>
    expect(failureOf(vectors.unmaskedHello, server)).toEqual({ closeCode: 1002, kind: 'MASK_REQUIRED' }));
  it('fails with 1002 when a client receives a masked frame', () =>
    expect(failureOf(vectors.maskedHello, client)).toEqual({ closeCode: 1002, kind: 'MASK_FORBIDDEN' }));
  it('fails with 1002 when the 64-bit length has its most significant bit set', () =>
    expect(failureOf(hex('827f8000000000000001'), client)).toEqual({ closeCode: 1002, kind: 'LENGTH_MSB_SET' }));
  it('fails with 1009 from the header alone for a length above 2^53 − 1', () => {
    const parser = new FrameParser(client);
    parser.push(hex('827f0020000000000000')); // 2^53, no payload follows
    expect(parser.next()).toMatchObject({ type: 'error', violation: { closeCode: 1009, kind: 'FRAME_TOO_BIG' } });
    expect(parser.bufferedAmount).toBe(0);
  });
  it('fails with 1009 from the header alone for a length above maxFrameSize, before any payload', () => {
    const parser = new FrameParser({ role: 'client', maxFrameSize: 1000 });
    parser.push(hex('827f4000000000000000')); // claims 2^62 bytes
    expect(parser.next()).toMatchObject({ type: 'error', violation: { closeCode: 1009 } });
    expect(failureOf(frame(2, new Uint8Array(1001)), { role: 'client', maxFrameSize: 1000 })).toEqual({ closeCode: 1009, kind: 'FRAME_TOO_BIG' });
  });
  it('delivers a control frame between fragments in wire order', () =>
    expect(parseAll(concat([masked(1, 'a', { fin: false }), masked(9, 'p'), masked(0, 'b')]), server).frames.map((f) => f.opcode)).toEqual([1, 9, 0]));
  it('accepts a non-minimal length encoding, as ws, Autobahn and browsers do', () =>
    expect(parseAll(frame(1, enc.encode('hi'), { len: 16 }), client).frames[0]!.payload).toBe('6869'));
  it('stays failed after an error and ignores further input', () => {
    const parser = new FrameParser(server);
    parser.push(vectors.unmaskedHello);
    expect(parser.next()!.type).toBe('error');
    parser.push(masked(1, 'x'));
    expect(parser.next()).toBeUndefined();
    expect(parser.failed).toBe(true);
  });
  it('does not parse ahead of next() calls', () => {
    const parser = new FrameParser(server);
    parser.push(concat([masked(1, 'a'), masked(1, 'b')]));
    expect(parser.next()!.type).toBe('frame-start');
    expect(parser.bufferedAmount).toBe(1 + 6 + 1);
  });
  it('hands out payload as views into the pushed chunk, unmasked in place', () => {
    const bytes = masked(2, new Uint8Array(100).fill(5));
    const parser = new FrameParser(server);
    parser.push(bytes);
    parser.next();
    const ev = parser.next();
    expect(ev!.type).toBe('frame-data');
    const data = (ev as { data: Uint8Array }).data;
    expect(data.buffer).toBe(bytes.buffer);
    expect(data.every((x) => x === 5)).toBe(true);
  });
  it('keeps a mask key of its own, also from a node Buffer (whose slice() is a view)', () => {
    const bytes = Buffer.from(masked(2, new Uint8Array(8).fill(5)));
    const parser = new FrameParser(server);
    parser.push(bytes);
    const start = parser.next() as { type: 'frame-start'; header: { maskKey: Uint8Array } };
    expect(start.type).toBe('frame-start');
    bytes.fill(0, 2, 6); // the key's bytes in the chunk it came in
    expect(toHex(start.header.maskKey)).toBe(toHex(KEY));
    const ev = parser.next(true) as { type: 'frame-data'; maskKey: Uint8Array };
    expect(toHex(ev.maskKey)).toBe(toHex(KEY));
  });
});

describe('FrameParser properties', () => {
  const frameArb = fc.record({
    opcode: fc.constantFrom(1, 2),
    fragments: fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 4 }),
    ping: fc.option(fc.uint8Array({ maxLength: 125 }), { nil: undefined }),
  });
  it('FrameParser parses any valid frame sequence to the same frames however it is split', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 12 }), fc.boolean(), (messages, cuts, isServer) => {
        const key = isServer ? KEY : undefined;
        const parts: Uint8Array[] = [];
        const expected: Array<{ opcode: number; fin: boolean; payload: string }> = [];
        for (const m of messages) {
          m.fragments.forEach((p, i) => {
            const fin = i === m.fragments.length - 1;
            const opcode = i === 0 ? m.opcode : 0;
            parts.push(frame(opcode, p, { fin, key }));
            expected.push({ opcode, fin, payload: toHex(p) });
            if (i === 0 && m.ping && !fin) {
              parts.push(frame(9, m.ping, { key }));
              expected.push({ opcode: 9, fin: true, payload: toHex(m.ping) });
            }
          });
        }
        const bytes = concat(parts);
        const splits = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const got = parseAll(bytes, { role: isServer ? 'server' : 'client' }, splits);
        expect(got.error).toBeUndefined();
        expect(got.frames.map(({ opcode, fin, payload }) => ({ opcode, fin, payload }))).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });
  it('FrameParser never throws out of push() or next() for any input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.boolean(), fc.array(fc.nat(), { maxLength: 5 }), (bytes, isServer, cuts) => {
        const splits = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        expect(() => parseAll(bytes, { role: isServer ? 'server' : 'client', maxFrameSize: 200 }, splits)).not.toThrow();
      }),
      { numRuns: 2000 },
    );
  });
});
