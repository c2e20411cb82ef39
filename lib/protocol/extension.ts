// The layer-2 extension interface: how an extension (permessage-deflate) plugs into the protocol.
import type { FrameHeader } from '../codec/frame-header';
import type { ProtocolViolation } from '../codec/violation';

/**
 * One extension entry of a `Sec-WebSocket-Extensions` header: its name and its parameters in
 * the order they were written. A parameter without a value (`server_no_context_takeover`) has
 * value `true`; quoted values are unquoted. Duplicates are kept so negotiation can refuse them.
 */
export interface ExtensionOffer {
  /** The extension token, e.g. `permessage-deflate`. */
  readonly name: string;
  /** Its parameters in order: `[name, value]`, `true` for a parameter without a value. */
  readonly params: ReadonlyArray<readonly [name: string, value: string | true]>;
}

/** Where a `PayloadTransform` puts its output; a returned promise means "wait". */
export type PayloadSink = (out: Uint8Array) => void | Promise<void>;

/**
 * Turns a payload, chunk by chunk, into another payload: inflate on receive, deflate on send.
 * Runs in the streams layer, off the synchronous protocol path, because compression is
 * asynchronous in most runtimes. Output goes to `emit` before the returned promise settles;
 * when `emit` returns a promise, the consumer is not reading: produce nothing more until it
 * settles. When `emit` throws, stop and reject with what it threw.
 * A decoder rejects with a `ProtocolViolation` (1007 for undecodable data, 1009 past its
 * output cap); it must never emit more than the cap it was created with.
 */
export interface PayloadTransform {
  /** Takes one chunk of input; output goes to `emit`, possibly later (before the returned promise settles). */
  transform(chunk: Uint8Array, emit: PayloadSink): void | Promise<void>;
  /**
   * End of one frame's input. `fin` true: end of the message (permessage-deflate appends
   * 00 00 FF FF on decode, strips it on encode, and resets the context when takeover is off).
   */
  flush(fin: boolean, emit: PayloadSink): void | Promise<void>;
  /** The message was abandoned (connection failed or closed): release what is held. */
  dispose(): void;
}

/** A negotiated extension, active on one connection. */
export interface Extension {
  /** The extension token it was negotiated as, e.g. `permessage-deflate`. */
  readonly name: string;
  /** RSV bits (as in `FrameHeader.rsv`) this extension owns on data frames. */
  readonly rsvBits: number;
  /** Reserved opcodes (0x3–0x7, 0xB–0xF) this extension defines, if any. */
  readonly opcodes?: readonly number[];
  /**
   * Synchronous per-frame rules, run by the protocol for every incoming frame before any of
   * its payload is delivered (e.g. RFC 7692 §6.1: RSV1 only on a message's first frame).
   */
  checkIncomingFrame(header: FrameHeader, firstFrameOfMessage: boolean): ProtocolViolation | undefined;
  /**
   * A decoder for an incoming message whose first frame carried `rsv`, or `undefined` if this
   * extension leaves that message as it is. `maxOutputBytes` caps the decoded size (1009).
   */
  createDecoder(rsv: number, maxOutputBytes: number): PayloadTransform | undefined;
  /**
   * An encoder for an outgoing data message, with the RSV bits to set on its first frame, or
   * `undefined` to send it as is. `sizeHint` is the payload size when known in advance
   * (small messages may be sent uncompressed).
   */
  createEncoder(opcode: number, sizeHint: number | undefined): {
    /** RSV bits to set on the message's first frame. */
    rsv: number;
    /** Encodes the message's payload. */
    transform: PayloadTransform;
  } | undefined;
  /** The connection is gone: free contexts and buffers. */
  close(): void;
}

/** Negotiates one extension during the opening handshake (RFC 6455 §9.1). */
export interface ExtensionFactory {
  /** The extension token it negotiates, e.g. `permessage-deflate`. */
  readonly name: string;
  /** Client: the offers to put in the request, most preferred first. */
  offer(): ExtensionOffer[];
  /**
   * Server: the client's offers for this extension, in the client's order. Returns the
   * response entry and the active extension for the first acceptable offer, or `undefined`
   * to decline (invalid offers are declined, never an error: RFC 7692 §5).
   */
  accept(offers: readonly ExtensionOffer[]): {
    /** What the server answers in its `Sec-WebSocket-Extensions`. */
    response: ExtensionOffer;
    /** The extension, active on the connection. */
    extension: Extension;
  } | undefined;
  /**
   * Client: the server's response entry for this extension. Returns the active extension,
   * or throws an `Error` whose message says why the response is unacceptable (the client
   * then fails the handshake, RFC 6455 §4.1 step 5 / RFC 7692 §5).
   */
  complete(response: ExtensionOffer): Extension;
}
