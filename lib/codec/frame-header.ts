// The frame header type every layer shares, and its wire encoding.
/**
 * A frame header as it is on the wire (RFC 6455 §5.2). `rsv` is a 3-bit number with RSV1 as
 * the most significant bit (see `Rsv`). `length` is the payload length in bytes; it is a safe
 * integer because the parser refuses larger lengths from the header alone.
 */
export interface FrameHeader {
  readonly fin: boolean;
  readonly rsv: number;
  readonly opcode: number;
  readonly masked: boolean;
  readonly length: number;
  /** The 4-byte masking key when `masked`, else `undefined`. */
  readonly maskKey: Uint8Array | undefined;
}

/** Bytes a frame header takes: 2, 4 or 10, plus 4 for a masking key (RFC 6455 §5.2). */
export function headerSize(length: number, masked: boolean): number {
  return (length < 126 ? 2 : length < 0x10000 ? 4 : 10) + (masked ? 4 : 0);
}

/**
 * Writes a frame header into `target` at `offset` with the minimal length encoding
 * (RFC 6455 §5.2: "the minimal number of bytes MUST be used"); returns the bytes written.
 * Arguments outside the format throw a RangeError.
 */
export function encodeFrameHeader(
  target: Uint8Array, offset: number, fin: boolean, rsv: number, opcode: number, length: number, maskKey: Uint8Array | undefined,
): number {
  if (!Number.isInteger(opcode) || opcode < 0 || opcode > 0xf) throw new RangeError(`Opcode must be 0–15, got ${opcode}`);
  if (!Number.isInteger(rsv) || rsv < 0 || rsv > 0b111) throw new RangeError(`rsv must be a 3-bit number (0–7), got ${rsv}`);
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`Payload length must be a safe non-negative integer, got ${length}`);
  if (maskKey !== undefined && maskKey.length !== 4) throw new RangeError(`Masking key must be 4 bytes, got ${maskKey.length}`);
  let i = offset;
  target[i++] = (fin ? 0x80 : 0) | (rsv << 4) | opcode;
  const m = maskKey ? 0x80 : 0;
  if (length < 126) {
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
