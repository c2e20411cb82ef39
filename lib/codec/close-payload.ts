import { CloseCode, MAX_CLOSE_REASON_BYTES } from './constants';
import { isSendableCloseCode, isValidWireCloseCode } from './close-codes';
import { Utf8Validator } from './utf8-validator';
import { ProtocolViolation } from './violation';

/** A parsed close frame payload. `code` is 1005 when the payload was empty. */
export interface ClosePayload {
  /** The status code (1005 when the payload was empty). */
  readonly code: number;
  /** The reason, decoded from UTF-8 ('' when there was none). */
  readonly reason: string;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * Parses a received close payload (RFC 6455 §5.5.1). Never throws: a bad payload comes back
 * as the violation to fail the connection with.
 */
export function parseClosePayload(payload: Uint8Array): ClosePayload | ProtocolViolation {
  if (payload.length === 0) return { code: CloseCode.NoStatusReceived, reason: '' };
  if (payload.length === 1) {
    return new ProtocolViolation(CloseCode.ProtocolError, 'INVALID_CLOSE_PAYLOAD', 'Close frame payload of 1 byte: a status code takes 2');
  }
  const code = (payload[0]! << 8) | payload[1]!;
  if (!isValidWireCloseCode(code)) {
    return new ProtocolViolation(CloseCode.ProtocolError, 'INVALID_CLOSE_CODE', `Close code ${code} is not valid on the wire`);
  }
  const reasonBytes = payload.subarray(2);
  const v = new Utf8Validator();
  if (v.push(reasonBytes) !== -1 || !v.end()) {
    // RFC 6455 §5.5.1: the reason's "data is not guaranteed to be human readable" but MUST
    // be UTF-8; an invalid one is invalid payload data (1007).
    return new ProtocolViolation(CloseCode.InvalidPayload, 'INVALID_UTF8', 'Close reason is not valid UTF-8');
  }
  return { code, reason: decoder.decode(reasonBytes) };
}

/**
 * Encodes a close payload to send. No code: an empty payload. Misuse throws: a code that
 * may not be sent (RangeError), a reason over 123 UTF-8 bytes (RangeError), a reason
 * without a code (TypeError).
 */
export function encodeClosePayload(code?: number, reason?: string): Uint8Array {
  if (code === undefined) {
    if (reason !== undefined && reason !== '') throw new TypeError('A close reason needs a close code');
    return new Uint8Array(0);
  }
  if (!isSendableCloseCode(code)) {
    throw new RangeError(`Close code ${code} may not be sent: use 1000–1003, 1007–1014 or 3000–4999`);
  }
  const r = reason ? encoder.encode(reason) : new Uint8Array(0);
  if (r.length > MAX_CLOSE_REASON_BYTES) {
    throw new RangeError(`Close reason is ${r.length} bytes of UTF-8; at most ${MAX_CLOSE_REASON_BYTES} fit in a close frame`);
  }
  const out = new Uint8Array(2 + r.length);
  out[0] = code >> 8;
  out[1] = code & 0xff;
  out.set(r, 2);
  return out;
}
