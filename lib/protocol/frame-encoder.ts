import { encodeFrameHeader, headerSize, type FrameLength } from '../codec/frame-header';
import { createMaskKey, maskInPlace } from '../codec/mask';
import { carve } from '../codec/slab';

/** Options of a `FrameEncoder`: its role, and where masking keys come from. */
export interface FrameEncoderOptions {
  /** A client masks every frame (RFC 6455 §5.3); a server never does. */
  readonly role: 'client' | 'server';
  /** Source of masking keys; inject one for byte-exact tests. Default `createMaskKey`. */
  readonly maskKeySource?: () => Uint8Array;
}

/**
 * Payloads up to this size are sent in the same buffer as their header: one small copy is
 * cheaper than a second chunk through the transport (ws merges below 4 KiB for the same reason
 * when it must copy anyway; we merge where the copy is all that is saved).
 */
const MERGE_LIMIT = 1024;

/** A server's pieces go out as they are. */
const unmasked = (chunk: Uint8Array): Uint8Array => chunk;

/** Turns payloads into wire frames for one role. */
export class FrameEncoder {
  readonly #mask: boolean;
  readonly #keySource: () => Uint8Array;

  constructor(options: FrameEncoderOptions) {
    this.#mask = options.role === 'client';
    this.#keySource = options.maskKeySource ?? createMaskKey;
  }

  /**
   * A whole frame as wire chunks: `[header, payload]`, or one chunk when small. The caller's
   * payload is never modified: a client masks a copy.
   */
  encodeFrame(opcode: number, payload: Uint8Array, fin: boolean, rsv: number): Uint8Array[] {
    const n = payload.length;
    const key = this.#mask ? this.#keySource() : undefined;
    const hs = headerSize(n, key !== undefined);
    if (n <= MERGE_LIMIT || key !== undefined) {
      // A client must copy the payload to mask it, so the header shares the buffer.
      const out = carve(hs + n);
      encodeFrameHeader(out, 0, fin, rsv, opcode, n, key);
      if (n > 0) {
        out.set(payload, hs);
        if (key) maskInPlace(out.subarray(hs), key, 0);
      }
      return [out];
    }
    const header = new Uint8Array(hs);
    encodeFrameHeader(header, 0, fin, rsv, opcode, n, undefined);
    return [header, payload];
  }

  /**
   * The header of a frame whose `length` payload bytes follow in pieces, and a masker that
   * turns each piece into wire bytes (a masked copy for a client, the piece itself for a
   * server), carrying the key phase across pieces.
   */
  beginFrame(opcode: number, length: FrameLength, fin: boolean, rsv: number): {
    /** The frame header, masking key included, to write first. */
    header: Uint8Array;
    /** Turns the next payload piece into wire bytes. */
    mask(chunk: Uint8Array): Uint8Array;
  } {
    const key = this.#mask ? this.#keySource().slice() : undefined;
    const header = new Uint8Array(headerSize(length, key !== undefined));
    encodeFrameHeader(header, 0, fin, rsv, opcode, length, key);
    if (key === undefined) return { header, mask: unmasked };
    let phase = 0;
    return {
      header,
      mask: (chunk) => {
        // new Uint8Array(chunk) copies; a Node Buffer's slice() would be a view, and masking
        // it would scramble the caller's bytes.
        const copy = new Uint8Array(chunk);
        phase = maskInPlace(copy, key, phase);
        return copy;
      },
    };
  }
}
