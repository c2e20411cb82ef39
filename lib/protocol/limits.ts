// The limits and rules of the sans-I/O protocol, declared once: the protocol takes them,
// and a connection's options extend them.

/** What the protocol accepts from the peer and answers on its own. Every field has a documented default. */
export interface ProtocolLimits {
  /**
   * Largest frame payload accepted, checked from the header (1009). Default 64 MiB.
   * `Infinity` (with `maxMessageSize: Infinity`) also accepts frames declared longer than
   * 2^53 − 1 bytes, up to RFC 6455's 2^63 − 1: their `IncomingFrame.length` is a `bigint`.
   */
  maxFrameSize?: number;
  /** Largest message accepted, counted as it streams in, after decompression (1009). Default 64 MiB. `Infinity` for none. */
  maxMessageSize?: number;
  /**
   * Most frames one message may have (1009 past it, refused from the header of the frame
   * past it): bounds per-frame overhead. Default 16 384 (in the sans-I/O `Protocol` alone:
   * no limit).
   */
  maxFragments?: number;
  /** Answer pings with pongs automatically (only the latest of pings not answered yet, RFC 6455 §5.5.3). Default true. */
  autoPong?: boolean;
  /** RSV bits the user accepts on incoming data frames without an extension owning them. Default 0. */
  allowReservedBits?: number;
  /** Reserved opcodes the user accepts as data messages without an extension defining them. Default none. */
  allowReservedOpcodes?: readonly number[];
  /** Injectable mask-key source for byte-exact tests (client role). Default crypto.getRandomValues. */
  maskKeySource?: () => Uint8Array;
}
