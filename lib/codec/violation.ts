import { CloseCode } from './constants';

/**
 * Stable machine-readable identifiers for what went wrong, so users can branch on them
 * without parsing messages (in the manner of ws's `WS_ERR_*` codes).
 */
export type ViolationKind =
  | 'RESERVED_BITS'
  | 'RESERVED_OPCODE'
  | 'CONTROL_FRAME_TOO_LONG'
  | 'CONTROL_FRAME_FRAGMENTED'
  | 'UNEXPECTED_CONTINUATION'
  | 'EXPECTED_CONTINUATION'
  | 'MASK_REQUIRED'
  | 'MASK_FORBIDDEN'
  | 'NON_MINIMAL_LENGTH'
  | 'LENGTH_MSB_SET'
  | 'FRAME_TOO_BIG'
  | 'MESSAGE_TOO_BIG'
  | 'INVALID_UTF8'
  | 'PING_FLOOD'
  | 'INVALID_CLOSE_PAYLOAD'
  | 'INVALID_CLOSE_CODE'
  | 'CLOSE_REASON_TOO_LONG'
  | 'DATA_AFTER_CLOSE'
  | 'EXTENSION_ERROR'
  | 'TOO_MANY_FRAGMENTS';

/**
 * A peer broke a protocol rule. Carries the close code to fail the connection with, chosen
 * where the rule was checked. The codec never throws this out of its public API: it is
 * returned as data (an `error` event, a `-1`/index result) so that peer input cannot throw.
 */
export class ProtocolViolation extends Error {
  /** Always `'ProtocolViolation'`, to tell it apart without `instanceof`. */
  override readonly name = 'ProtocolViolation';
  constructor(
    /** The close code to fail the connection with (1002, 1007, 1009, …). */
    readonly closeCode: CloseCode,
    /** Which rule was broken, stable to branch on (see `ViolationKind`). */
    readonly kind: ViolationKind,
    message: string,
  ) {
    super(message);
  }
}
