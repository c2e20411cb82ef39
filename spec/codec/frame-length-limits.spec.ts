// Issue #4: frames up to RFC 6455's 2^63 − 1 bytes, as Autobahn's streaming demo declares.
import { checkFrameLength, encodeFrameHeader, headerSize, MAX_FRAME_LENGTH, subtractLength } from '../../lib/codec/frame-header';
import { FrameParser, type ParserEvent } from '../../lib/codec/frame-parser';
import { resolveOptions } from '../../lib/streams/connection-options';
import { Protocol } from '../../lib/protocol/protocol';
import { FrameEncoder } from '../../lib/protocol/frame-encoder';
import { hex, toHex } from './helpers';

const MAX = 2n ** 63n - 1n;
const KEY = hex('37fa213d');
const header = (length: number | bigint, key?: Uint8Array): string => {
  const out = new Uint8Array(14);
  return toHex(out.subarray(0, encodeFrameHeader(out, 0, true, 0, 2, length, key)));
};
const events = (parser: FrameParser): ParserEvent[] => {
  const out: ParserEvent[] = [];
  for (let ev = parser.next(), i = 0; ev && i < 100; ev = parser.next(), i++) out.push(ev);
  return out;
};

describe('issue #4: encodeFrameHeader up to 2^63 − 1', () => {
  it('encodes 2^63 − 1 exactly: 0x7f, then 7f ff ff ff ff ff ff ff', () =>
    expect(header(MAX)).toBe('827f7fffffffffffffff'));
  it('encodes 2^63 − 1 masked, the key after the length', () =>
    expect(header(MAX, KEY)).toBe('82ff7fffffffffffffff37fa213d'));
  it('encodes 2^53 and 2^53 + 1 exactly as bigints (no rounding)', () => {
    expect(header(2n ** 53n)).toBe('827f0020000000000000');
    expect(header(2n ** 53n + 1n)).toBe('827f0020000000000001');
  });
  it('encodes small bigints with the minimal encoding, as their numbers', () => {
    expect(header(5n)).toBe(header(5));
    expect(header(300n)).toBe(header(300));
    expect(header(BigInt(Number.MAX_SAFE_INTEGER))).toBe('827f001fffffffffffff');
  });
  it('refuses a number above Number.MAX_SAFE_INTEGER with a RangeError that says to pass a bigint', () => {
    expect(() => header(2 ** 53)).toThrow(RangeError);
    expect(() => header(2 ** 63 - 1)).toThrow(/pass it as a bigint/);
  });
  it('refuses 2^63 and above, and negative lengths', () => {
    expect(() => header(2n ** 63n)).toThrow(/2\^63 − 1/);
    expect(() => header(2n ** 64n - 1n)).toThrow(RangeError);
    expect(() => header(-1n)).toThrow(RangeError);
    expect(() => header(-1)).toThrow(RangeError);
    expect(() => header(1.5)).toThrow(RangeError);
  });
  it('headerSize takes bigints', () => {
    expect(headerSize(MAX, true)).toBe(14);
    expect(headerSize(MAX, false)).toBe(10);
    expect(headerSize(100n, false)).toBe(2);
  });
  it('checkFrameLength gives a number whenever it is exact, a bigint beyond', () => {
    expect(checkFrameLength(1024n)).toBe(1024);
    expect(checkFrameLength(MAX)).toBe(MAX);
    expect(checkFrameLength(MAX_FRAME_LENGTH)).toBe(MAX);
    expect(checkFrameLength(Number.MAX_SAFE_INTEGER)).toBe(Number.MAX_SAFE_INTEGER);
  });
  it('subtractLength counts down exactly and turns back into a number once it fits', () => {
    expect(subtractLength(MAX, 1)).toBe(MAX - 1n);
    expect(subtractLength(2n ** 53n, 1)).toBe(Number.MAX_SAFE_INTEGER);
    expect(subtractLength(10, 3)).toBe(7);
  });
  it('FrameEncoder.beginFrame writes the 2^63 − 1 header and masks pieces with the phase carried', () => {
    const f = new FrameEncoder({ role: 'client', maskKeySource: () => KEY }).beginFrame(2, MAX, true, 0);
    expect(toHex(f.header)).toBe('82ff7fffffffffffffff37fa213d');
    expect(toHex(f.mask(new Uint8Array([0, 0, 0])))).toBe('37fa21');
    expect(toHex(f.mask(new Uint8Array([0, 0])))).toBe('3d37');
  });
});

describe('issue #4: FrameParser and lengths beyond 2^53 − 1', () => {
  const infinite = { role: 'client' as const, maxFrameSize: Infinity };

  it('accepts 2^63 − 1 with maxFrameSize: Infinity, reports it as a bigint and streams the payload', () => {
    const parser = new FrameParser(infinite);
    parser.push(hex('827f7fffffffffffffff 010203'));
    const evs = events(parser);
    expect(evs[0]).toMatchObject({ type: 'frame-start', header: { length: MAX, fin: true, opcode: 2 } });
    expect(typeof (evs[0] as { header: { length: unknown } }).header.length).toBe('bigint');
    expect(evs.slice(1)).toEqual([{ type: 'frame-data', data: hex('010203') }]);
    parser.push(hex('0405'));
    expect(events(parser)).toEqual([{ type: 'frame-data', data: hex('0405') }]); // no frame-end: 2^63 − 6 bytes to go
  });
  it('unmasks a client-sent 2^63 − 1 frame across pushes (server role)', () => {
    const parser = new FrameParser({ role: 'server', maxFrameSize: Infinity });
    parser.push(hex('82ff7fffffffffffffff37fa213d 37fa21'));
    parser.push(hex('3d37'));
    const data = events(parser).filter((e) => e.type === 'frame-data').map((e) => toHex((e as { data: Uint8Array }).data));
    expect(data.join('')).toBe('0000000000');
  });
  it.each([2, 4, 7, 9])('gives the same bigint header when the header is split at %p', (at) => {
    const parser = new FrameParser(infinite);
    const bytes = hex('827f7fffffffffffffff');
    parser.push(bytes.subarray(0, at));
    expect(events(parser)).toEqual([]);
    parser.push(bytes.subarray(at));
    expect(events(parser)).toMatchObject([{ type: 'frame-start', header: { length: MAX } }]);
  });
  it('reports 2^53 as a bigint and 2^53 − 1 as a number', () => {
    const a = new FrameParser(infinite);
    a.push(hex('827f0020000000000000'));
    expect(events(a)[0]).toMatchObject({ header: { length: 2n ** 53n } });
    const b = new FrameParser(infinite);
    b.push(hex('827f001fffffffffffff'));
    expect(events(b)[0]).toMatchObject({ header: { length: Number.MAX_SAFE_INTEGER } });
  });
  it.each(['8000000000000000', 'ffffffffffffffff'])('fails with 1002 for 0x%s even with maxFrameSize: Infinity (RFC 6455 §5.2: the MSB must be 0)', (len) => {
    const parser = new FrameParser(infinite);
    parser.push(hex(`827f${len}`));
    expect(events(parser)).toMatchObject([{ type: 'error', violation: { closeCode: 1002, kind: 'LENGTH_MSB_SET' } }]);
  });
  it.each([undefined, Number.MAX_SAFE_INTEGER, 64 * 1024 * 1024])('keeps refusing 2^63 − 1 with 1009 from the header when maxFrameSize is %p', (maxFrameSize) => {
    const parser = new FrameParser({ role: 'client', maxFrameSize });
    parser.push(hex('827f7fffffffffffffff 00'));
    expect(events(parser)).toMatchObject([{ type: 'error', violation: { closeCode: 1009, kind: 'FRAME_TOO_BIG' } }]);
    expect(parser.bufferedAmount).toBe(0);
  });
});

describe('issue #4: the opt-in through Protocol and options', () => {
  it('resolveOptions keeps Infinity for maxFrameSize and maxMessageSize, and clamps the rest', () => {
    const o = resolveOptions({ maxFrameSize: Infinity, maxMessageSize: Infinity, maxFragments: Infinity });
    expect([o.maxFrameSize, o.maxMessageSize, o.maxFragments]).toEqual([Infinity, Infinity, Number.MAX_SAFE_INTEGER]);
    expect(resolveOptions().maxFrameSize).toBe(64 * 1024 * 1024);
  });
  it('Protocol passes a 2^63 − 1 frame only when maxMessageSize is Infinity too', () => {
    const open = new Protocol({ role: 'client', maxFrameSize: Infinity, maxMessageSize: Infinity });
    open.receive(hex('827f7fffffffffffffff'));
    expect(open.nextEvent()).toMatchObject({ type: 'frame-start', header: { length: MAX }, first: true });

    const bounded = new Protocol({ role: 'client', maxFrameSize: Infinity, maxMessageSize: Number.MAX_SAFE_INTEGER });
    bounded.receive(hex('827f7fffffffffffffff'));
    expect(bounded.nextEvent()).toMatchObject({ type: 'failed', violation: { closeCode: 1009, kind: 'MESSAGE_TOO_BIG' } });
    expect(bounded.closeSent?.code).toBe(1009);
  });
});
