import type { IncomingMessage } from './incoming-message';

/**
 * Bytes in any of the forms JavaScript keeps them: an ArrayBuffer (or SharedArrayBuffer) or
 * any view on one. Wider than the DOM's `BufferSource`, which excludes shared memory.
 */
export type BinaryData = ArrayBufferLike | ArrayBufferView;

/** What can be sent as one message. */
export type OutgoingData = string | BinaryData | Blob | ReadableStream<Uint8Array> | IncomingMessage;

/**
 * What `Connection.writable` accepts and `send()` takes: the data alone (strings are text,
 * everything else binary, an `IncomingMessage` keeps its type), or the data with its type.
 */
export type OutgoingMessage = OutgoingData | {
  /** Send as this type, whatever `data` is. */
  readonly type: 'text' | 'binary';
  /** The payload. */
  readonly data: OutgoingData;
};

/** Options of `Connection.send()`. */
export interface SendOptions {
  /** Send as binary (true) or text (false) whatever the data is. */
  readonly binary?: boolean;
  /** Split a buffered payload into frames of at most this many bytes. */
  readonly fragmentSize?: number;
  /** Let a negotiated compression extension compress this message (default true). */
  readonly compress?: boolean;
  /**
   * Aborts the send: rejects with `signal.reason`. Before the message's turn (queued behind
   * another), it is removed and nothing reaches the wire. Once its frames are going out it
   * cannot be taken back: the connection fails with 1011 (a close frame between frames), as
   * RFC 6455 lets no message end early; a stream source is cancelled. A message already
   * written whole is not affected (the send resolves as usual).
   */
  readonly signal?: AbortSignal;
}

const textEncoder = new TextEncoder();

/** A view of any BinaryData without copying. */
export function toBytes(data: BinaryData): Uint8Array {
  if (data instanceof Uint8Array) return data as Uint8Array;
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (data instanceof ArrayBuffer || Object.prototype.toString.call(data) === '[object ArrayBuffer]' ||
      Object.prototype.toString.call(data) === '[object SharedArrayBuffer]') {
    return new Uint8Array(data as ArrayBuffer);
  }
  throw new TypeError(`Cannot send ${Object.prototype.toString.call(data)}: expected a string, BinaryData, Blob, ReadableStream or IncomingMessage`);
}

export function encodeText(text: string): Uint8Array {
  return textEncoder.encode(text);
}

export const isBlob = (v: unknown): v is Blob => typeof Blob === 'function' && v instanceof Blob;

export const isReadableStream = (v: unknown): v is ReadableStream<Uint8Array> =>
  typeof v === 'object' && v !== null && typeof (v as ReadableStream).getReader === 'function' &&
  typeof (v as ReadableStream).pipeTo === 'function';

/** Reads a Blob in slices, so a large file is never loaded whole. */
export async function* blobChunks(blob: Blob, sliceSize = 256 * 1024): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < blob.size; at += sliceSize) {
    yield new Uint8Array(await blob.slice(at, Math.min(blob.size, at + sliceSize)).arrayBuffer());
  }
}
