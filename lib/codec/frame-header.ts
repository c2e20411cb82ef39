// CONTRACT FILE (types fixed by the lead; the codec helper implements the functions).
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
