// The frame header type every layer shares, and its wire encoding.
/**
 * A frame's payload length. A `number` up to `Number.MAX_SAFE_INTEGER` (2^53 − 1); beyond it
 * (RFC 6455 §5.2 allows up to 2^63 − 1) a `bigint`, so the length is never rounded. Received
 * lengths are a `bigint` only then; a sender may pass any length as a `bigint`.
 */
export type FrameLength = number | bigint;

/** RFC 6455 §5.2: a 64-bit length whose "most significant bit MUST be 0": at most 2^63 − 1. */
export const MAX_FRAME_LENGTH = 0x7fff_ffff_ffff_ffffn;

/**
 * A frame header as it is on the wire (RFC 6455 §5.2). `rsv` is a 3-bit number with RSV1 as
 * the most significant bit (see `Rsv`). `length` is the payload length in bytes: a `number`,
 * or a `bigint` exactly when it exceeds `Number.MAX_SAFE_INTEGER`, which the parser accepts
 * only with `maxFrameSize: Infinity` (it refuses such a frame with 1009 otherwise).
 */
export interface FrameHeader {
  /** FIN: this frame ends its message. */
  readonly fin: boolean;
  /** RSV1–RSV3 as a 3-bit number, RSV1 the most significant (see `Rsv`). */
  readonly rsv: number;
  /** The opcode, 0x0–0xF (see `Opcode`). */
  readonly opcode: number;
  /** The payload is masked (MASK bit; always set by clients, never by servers). */
  readonly masked: boolean;
  /** The payload length in bytes, as the header announced it. */
  readonly length: FrameLength;
  /** The 4-byte masking key when `masked`, else `undefined`. */
  readonly maskKey: Uint8Array | undefined;
}

/** Bytes a frame header takes: 2, 4 or 10, plus 4 for a masking key (RFC 6455 §5.2). */
export function headerSize(length: FrameLength, masked: boolean): number {
  return (length < 126 ? 2 : length < 0x10000 ? 4 : 10) + (masked ? 4 : 0);
}

/**
 * Checks a payload length a sender declares and returns it as a `number` when it is one
 * exactly (up to 2^53 − 1), else as a `bigint` (up to 2^63 − 1). A `number` above
 * `Number.MAX_SAFE_INTEGER` is refused, since it may already have been rounded: pass a `bigint`.
 *
 * @example
 * ```ts
 * checkFrameLength(2n ** 63n - 1n);   // 9223372036854775807n, the largest frame RFC 6455 allows
 * checkFrameLength(1024n);            // 1024
 * ```
 */
export function checkFrameLength(length: FrameLength): FrameLength {
  if (typeof length === 'bigint') {
    if (length < 0n || length > MAX_FRAME_LENGTH) {
      throw new RangeError(`Frame length must be from 0 to 2^63 − 1 (RFC 6455 §5.2), got ${length}`);
    }
    return length <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(length) : length;
  }
  if (typeof length !== 'number' || !Number.isInteger(length) || length < 0) {
    throw new RangeError(`Frame length must be a non-negative integer, got ${String(length)}`);
  }
  if (length > Number.MAX_SAFE_INTEGER) {
    throw new RangeError(`Frame length ${length} is above Number.MAX_SAFE_INTEGER and may have been rounded; pass it as a bigint (for example 2n ** 63n - 1n)`);
  }
  return length;
}

const MAX_SAFE_BIGINT = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * `remaining − n` for a count of payload bytes still to come: a `number` again as soon as it
 * fits one exactly, so only frames longer than 2^53 − 1 bytes ever pay for bigint arithmetic.
 */
export function subtractLength(remaining: FrameLength, n: number): FrameLength {
  if (typeof remaining === 'number') return remaining - n;
  const left = remaining - BigInt(n);
  return left > MAX_SAFE_BIGINT ? left : Number(left);
}

/**
 * Writes a frame header into `target` at `offset` with the minimal length encoding
 * (RFC 6455 §5.2: "the minimal number of bytes MUST be used"); returns the bytes written.
 * `length` is a safe integer or a `bigint` up to 2^63 − 1 (see `checkFrameLength`).
 * Arguments outside the format throw a RangeError.
 */
export function encodeFrameHeader(
  target: Uint8Array, offset: number, fin: boolean, rsv: number, opcode: number, length: FrameLength, maskKey: Uint8Array | undefined,
): number {
  if (!Number.isInteger(opcode) || opcode < 0 || opcode > 0xf) throw new RangeError(`Opcode must be 0–15, got ${opcode}`);
  if (!Number.isInteger(rsv) || rsv < 0 || rsv > 0b111) throw new RangeError(`rsv must be a 3-bit number (0–7), got ${rsv}`);
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) length = checkFrameLength(length);
  if (maskKey !== undefined && maskKey.length !== 4) throw new RangeError(`Masking key must be 4 bytes, got ${maskKey.length}`);
  let i = offset;
  target[i++] = (fin ? 0x80 : 0) | (rsv << 4) | opcode;
  const m = maskKey ? 0x80 : 0;
  if (typeof length === 'bigint') {
    // Beyond 2^53 − 1: only the 64-bit form fits, written exactly.
    target[i++] = m | 127;
    new DataView(target.buffer, target.byteOffset + i, 8).setBigUint64(0, length);
    i += 8;
  } else if (length < 126) {
    target[i++] = m | length;
  } else if (length < 0x10000) {
    target[i++] = m | 126;
    target[i++] = length >>> 8;
    target[i++] = length & 0xff;
  } else {
    target[i++] = m | 127;
    const hi = Math.floor(length / 0x100000000);
    const lo = length >>> 0;
    target[i++] = hi >>> 24; target[i++] = (hi >>> 16) & 0xff; target[i++] = (hi >>> 8) & 0xff; target[i++] = hi & 0xff;
    target[i++] = lo >>> 24; target[i++] = (lo >>> 16) & 0xff; target[i++] = (lo >>> 8) & 0xff; target[i++] = lo & 0xff;
  }
  if (maskKey) {
    target[i++] = maskKey[0]!; target[i++] = maskKey[1]!; target[i++] = maskKey[2]!; target[i++] = maskKey[3]!;
  }
  return i - offset;
}
