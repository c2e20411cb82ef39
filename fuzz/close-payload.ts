// Fuzz target: the close payload (lib/codec/close-payload.ts) against RFC 6455 §5.5.1 and
// §7.4 written out again here, with the reason checked by the platform's fatal UTF-8 decoder.
import fc from 'fast-check';
import { encodeClosePayload, parseClosePayload } from '../lib/codec/close-payload';
import { ProtocolViolation } from '../lib/codec/violation';
import { check, onlyThrows, sameOutcome, type FuzzTarget } from './support';

const fatal = new TextDecoder('utf-8', { fatal: true });

/** RFC 6455 §7.4.1–§7.4.2: the codes a close frame may carry. */
const wireCode = (c: number): boolean => (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999);

export const target: FuzzTarget = {
  name: 'close-payload',
  inputs: fc.tuple(fc.integer({ min: 0, max: 0xffff }), fc.oneof(fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => new TextEncoder().encode(s)), fc.uint8Array({ maxLength: 12 })))
    .map(([code, reason]) => new Uint8Array([code >> 8, code & 0xff, ...reason])),
  fuzz(payload: Uint8Array): void {
    const r = onlyThrows('parseClosePayload', () => parseClosePayload(payload));
    if (payload.length === 0) {
      sameOutcome('an empty close', r, { code: 1005, reason: '' });
      return;
    }
    const code = payload.length >= 2 ? (payload[0]! << 8) | payload[1]! : -1;
    let reason: string | undefined;
    try {
      reason = fatal.decode(payload.subarray(2));
    } catch {
      reason = undefined;
    }
    if (payload.length === 1 || !wireCode(code)) {
      check(r instanceof ProtocolViolation && r.closeCode === 1002, `close payload ${payload.length === 1 ? 'of 1 byte' : `with code ${code}`} not refused with 1002`);
      return;
    }
    if (reason === undefined) {
      check(r instanceof ProtocolViolation && r.closeCode === 1007 && r.kind === 'INVALID_UTF8', 'a reason that is not UTF-8 not refused with 1007');
      return;
    }
    sameOutcome('a valid close payload', r, { code, reason });
    // And back: a valid code and reason encode to the same bytes (a reason over 123 bytes
    // cannot be in a control frame: encoding refuses it with a RangeError).
    const again = onlyThrows('encodeClosePayload', () => encodeClosePayload(code, reason), RangeError);
    if (payload.length - 2 > 123) check(again instanceof RangeError, 'a reason over 123 bytes encoded');
    else sameOutcome('encoded again', again, payload);
  },
};
