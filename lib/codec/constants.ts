/** WebSocket frame opcodes (RFC 6455 §5.2, §11.8). */
export const Opcode = {
  Continuation: 0x0,
  Text: 0x1,
  Binary: 0x2,
  Close: 0x8,
  Ping: 0x9,
  Pong: 0xa,
} as const;
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** True for opcodes 0x8–0xF (RFC 6455 §5.5: control frames have the high opcode bit set). */
export const isControlOpcode = (opcode: number): boolean => (opcode & 0x8) !== 0;

/** Close status codes (RFC 6455 §7.4.1, IANA registry). */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  /** Reserved; Autobahn's CLOSE_STATUS_CODE_FRAME_TOO_LARGE from before RFC 6455. Never sent. */
  Reserved1004: 1004,
  /** Reserved: "no status code was present". Never sent on the wire. */
  NoStatusReceived: 1005,
  /** Reserved: "closed abnormally, without a close frame". Never sent on the wire. */
  AbnormalClosure: 1006,
  InvalidPayload: 1007,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  MandatoryExtension: 1010,
  InternalError: 1011,
  ServiceRestart: 1012,
  TryAgainLater: 1013,
  BadGateway: 1014,
  /** Reserved: TLS handshake failure. Never sent on the wire. */
  TlsHandshake: 1015,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Bits of the first header byte (RFC 6455 §5.2). */
export const HeaderBits = {
  Fin: 0x80,
  Rsv1: 0x40,
  Rsv2: 0x20,
  Rsv3: 0x10,
  Opcode: 0x0f,
  Mask: 0x80,
  Length: 0x7f,
} as const;

/**
 * RSV bits as a 3-bit number, RSV1 the most significant: `rsv & Rsv.Rsv1` tests RSV1.
 * This is the form `FrameHeader.rsv`, extensions and the Autobahn tier use.
 */
export const Rsv = { Rsv1: 0b100, Rsv2: 0b010, Rsv3: 0b001 } as const;

/** RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less". */
export const MAX_CONTROL_PAYLOAD = 125;
/** RFC 6455 §5.5.1: 125 − 2 bytes of status code. */
export const MAX_CLOSE_REASON_BYTES = 123;
