/** WebSocket frame opcodes (RFC 6455 §5.2, §11.8). */
export const Opcode = {
  /** 0x0: the next fragment of a data message that began with a text or binary frame. */
  Continuation: 0x0,
  /** 0x1: the first frame of a text message (UTF-8 payload). */
  Text: 0x1,
  /** 0x2: the first frame of a binary message. */
  Binary: 0x2,
  /** 0x8: a close frame, starting or answering the closing handshake. */
  Close: 0x8,
  /** 0x9: a ping, to be answered with a pong carrying the same payload. */
  Ping: 0x9,
  /** 0xA: a pong, the answer to a ping (or an unsolicited heartbeat). */
  Pong: 0xa,
} as const;
export type Opcode = (typeof Opcode)[keyof typeof Opcode];

/** True for opcodes 0x8–0xF (RFC 6455 §5.5: control frames have the high opcode bit set). */
export const isControlOpcode = (opcode: number): boolean => (opcode & 0x8) !== 0;

/** Close status codes (RFC 6455 §7.4.1, IANA registry). */
export const CloseCode = {
  /** 1000: the purpose of the connection was fulfilled. */
  Normal: 1000,
  /** 1001: the endpoint is going away (a server shutting down, a page navigated from). */
  GoingAway: 1001,
  /** 1002: the peer broke the protocol (framing, masking, fragmentation rules). */
  ProtocolError: 1002,
  /** 1003: a data type the endpoint cannot accept (e.g. binary where only text is). */
  UnsupportedData: 1003,
  /** Reserved; Autobahn's CLOSE_STATUS_CODE_FRAME_TOO_LARGE from before RFC 6455. Never sent. */
  Reserved1004: 1004,
  /** Reserved: "no status code was present". Never sent on the wire. */
  NoStatusReceived: 1005,
  /** Reserved: "closed abnormally, without a close frame". Never sent on the wire. */
  AbnormalClosure: 1006,
  /** 1007: data inconsistent with its message type, e.g. text that is not UTF-8. */
  InvalidPayload: 1007,
  /** 1008: a message that violates the endpoint's policy (generic, when no other code fits). */
  PolicyViolation: 1008,
  /** 1009: a frame or message too big to process (past `maxFrameSize`, `maxMessageSize`). */
  MessageTooBig: 1009,
  /** 1010: sent by a client whose required extension the server did not negotiate. */
  MandatoryExtension: 1010,
  /** 1011: an unexpected condition on the endpoint kept it from fulfilling the request. */
  InternalError: 1011,
  /** 1012: the service is restarting (IANA registry). */
  ServiceRestart: 1012,
  /** 1013: temporary overload: try again later (IANA registry). */
  TryAgainLater: 1013,
  /** 1014: a gateway or proxy got an invalid response upstream (IANA registry). */
  BadGateway: 1014,
  /** Reserved: TLS handshake failure. Never sent on the wire. */
  TlsHandshake: 1015,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Bits of the first header byte (RFC 6455 §5.2). */
export const HeaderBits = {
  /** FIN: this frame is the last of its message. */
  Fin: 0x80,
  /** RSV1: reserved for extensions (permessage-deflate marks compressed messages with it). */
  Rsv1: 0x40,
  /** RSV2: reserved for extensions. */
  Rsv2: 0x20,
  /** RSV3: reserved for extensions. */
  Rsv3: 0x10,
  /** The opcode, the low four bits of the first byte. */
  Opcode: 0x0f,
  /** Second byte: the payload is masked (set on every client-to-server frame). */
  Mask: 0x80,
  /** Second byte: the 7-bit payload length (126: a 16-bit length follows, 127: a 64-bit one). */
  Length: 0x7f,
} as const;

/**
 * RSV bits as a 3-bit number, RSV1 the most significant: `rsv & Rsv.Rsv1` tests RSV1.
 * This is the form `FrameHeader.rsv`, extensions and the Autobahn tier use.
 */
export const Rsv = {
  /** RSV1 (0b100): permessage-deflate's "this message is compressed". */
  Rsv1: 0b100,
  /** RSV2 (0b010). */
  Rsv2: 0b010,
  /** RSV3 (0b001). */
  Rsv3: 0b001,
} as const;

/** RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less". */
export const MAX_CONTROL_PAYLOAD = 125;
/** RFC 6455 §5.5.1: 125 − 2 bytes of status code. */
export const MAX_CLOSE_REASON_BYTES = 123;
