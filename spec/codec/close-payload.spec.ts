import { describeCloseCode, isValidWireCloseCode } from '../../lib/codec/close-codes';
import { encodeClosePayload, parseClosePayload } from '../../lib/codec/close-payload';
import { ProtocolViolation } from '../../lib/codec/violation';
import { hex } from './helpers';

const codeOf = (payload: Uint8Array) => {
  const r = parseClosePayload(payload);
  return r instanceof ProtocolViolation ? { fail: r.closeCode } : { code: r.code, reason: r.reason };
};
const withCode = (code: number, reason = '') => encodeClosePayloadRaw(code, reason);
function encodeClosePayloadRaw(code: number, reason: string): Uint8Array {
  const r = new TextEncoder().encode(reason);
  const out = new Uint8Array(2 + r.length);
  out[0] = code >> 8;
  out[1] = code & 0xff;
  out.set(r, 2);
  return out;
}

describe('close payloads', () => {
  it('parseClosePayload reads an empty payload as 1005 with no reason', () =>
    expect(codeOf(new Uint8Array(0))).toEqual({ code: 1005, reason: '' }));
  it('parseClosePayload fails with 1002 on a 1-byte payload', () =>
    expect(codeOf(new Uint8Array([3]))).toEqual({ fail: 1002 }));
  it.each([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999])('parseClosePayload accepts code %p', (code) =>
    expect(codeOf(withCode(code, 'ok'))).toEqual({ code, reason: 'ok' }));
  it.each([0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535])('parseClosePayload fails with 1002 on code %p', (code) =>
    expect(codeOf(withCode(code))).toEqual({ fail: 1002 }));
  it('parseClosePayload fails with 1007 on a reason that is not UTF-8', () =>
    expect(codeOf(hex('03e8 cebae1bdb9cf83cebcceb5eda080656469746564'))).toEqual({ fail: 1007 }));
  it('encodeClosePayload writes the code big-endian and the reason in UTF-8', () =>
    expect(Array.from(encodeClosePayload(1001, 'é'))).toEqual([0x03, 0xe9, 0xc3, 0xa9]));
  it('encodeClosePayload without a code is empty', () => expect(encodeClosePayload().length).toBe(0));
  it('encodeClosePayload refuses codes that may not be sent', () => {
    for (const code of [1004, 1005, 1006, 1015, 999, 5000, 2000]) expect(() => encodeClosePayload(code)).toThrow(RangeError);
  });
  it('encodeClosePayload refuses a reason over 123 bytes and a reason without a code', () => {
    expect(() => encodeClosePayload(1000, 'é'.repeat(62))).toThrow(RangeError);
    expect(encodeClosePayload(1000, 'x'.repeat(123)).length).toBe(125);
    expect(() => encodeClosePayload(undefined, 'why')).toThrow(TypeError);
  });
  it('isValidWireCloseCode and describeCloseCode agree with the registry', () => {
    expect(isValidWireCloseCode(1009)).toBe(true);
    expect(isValidWireCloseCode(1006)).toBe(false);
    expect(describeCloseCode(1009)).toBe('message too big');
  });
});
