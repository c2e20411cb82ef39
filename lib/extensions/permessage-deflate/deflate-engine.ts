// What permessage-deflate needs from a DEFLATE implementation. The core stays runtime-free:
// the Node adapter supplies one built on node:zlib (lib/node/zlib-engine.ts); another runtime
// supplies its own (WHATWG CompressionStream cannot: it has no sync flush).

/**
 * Receives output. Returning a promise asks the codec to stop producing until it settles (the
 * consumer of an inflated message is not reading); throwing aborts the operation with that error.
 */
export type CodecSink = (out: Uint8Array) => void | Promise<void>;

/** One raw DEFLATE (RFC 1951) compressor or decompressor with its sliding window. */
export interface RawCodec {
  /**
   * Takes `input` and sync-flushes it (Z_SYNC_FLUSH): all of its output will go to `sink`, in
   * order, a compressor's ending with an empty stored block (`00 00 FF FF`). May return before
   * the output is produced (then a promise when the codec holds enough input that the caller
   * should wait). The codec may hold on to `input` until the next `flush` settles.
   */
  write(input: Uint8Array, sink: CodecSink): void | Promise<void>;
  /** Settles once the output of every write so far went to `sink`. */
  flush(sink: CodecSink): Promise<void>;
  /** Frees the window and state; the codec cannot be used afterwards. Safe to call twice. */
  close(): void;
}

/** The zlib parameters of a raw deflate compressor. */
export interface DeflaterOptions {
  /** LZ77 window size as a power of two, 8–15 (as negotiated: `server_max_window_bits` / `client_max_window_bits`). */
  readonly windowBits: number;
  /** Compression level, 0 (none) to 9 (best). */
  readonly level: number;
  /** Memory for the compressor's internal state, 1 to 9. */
  readonly memLevel: number;
}

/** Makes codecs. Implementations bound how many operations run at once. */
export interface DeflateEngine {
  /** A raw deflate compressor with these parameters. */
  createDeflater(options: DeflaterOptions): RawCodec;
  /** A decompressor whose window is large enough for a compressor of `windowBits`. */
  createInflater(windowBits: number): RawCodec;
  /**
   * Takes back a codec whose message is complete and whose history is no longer needed (no
   * context takeover). The engine may reset it and hand it to the next `create*` call with
   * the same parameters, from any connection, or close it. Optional: without it, the
   * extension closes such codecs.
   */
  recycle?(codec: RawCodec): void;
}
