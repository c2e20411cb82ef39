// One message compressed once for many connections (broadcast): RFC 7692 lets a message be
// compressed on its own wherever the sender's compressor keeps no context between messages.
import type { DeflateEngine, DeflaterOptions } from './deflate-engine';

/**
 * How a compressor without context takeover turns a message into its payload: connections
 * whose extensions return the very same object produce the same compressed payload for the
 * same message, so it can be compressed once and sent to all of them.
 */
export interface SharedDeflate {
  /** Messages shorter than this many bytes are sent uncompressed (the extension's `threshold`). */
  readonly threshold: number;
  /** The payload of a compressed message (RSV1 set) carrying `payload`. */
  compress(payload: Uint8Array): Promise<Uint8Array>;
}

/** The shared compressors made so far, per engine and parameters, so that equal ones are one object. */
const known = new WeakMap<DeflateEngine, Map<string, SharedDeflate>>();

/** The one `SharedDeflate` of `engine` with these parameters. */
export function sharedDeflateFor(engine: DeflateEngine, options: DeflaterOptions, threshold: number): SharedDeflate {
  let byParams = known.get(engine);
  if (byParams === undefined) known.set(engine, (byParams = new Map()));
  const key = `${options.windowBits}/${options.level}/${options.memLevel}/${threshold}`;
  let shared = byParams.get(key);
  if (shared === undefined) {
    shared = { threshold, compress: (payload) => deflateMessage(engine, options, payload) };
    byParams.set(key, shared);
  }
  return shared;
}

/**
 * Compresses one whole message with a fresh compressor: deflate, sync flush, and the final
 * empty block's 00 00 FF FF removed (RFC 7692 §7.2.1). An empty result becomes the single
 * 0x00 byte of §7.2.3.6, so the receiver's appended tail completes a block.
 */
export async function deflateMessage(engine: DeflateEngine, options: DeflaterOptions, payload: Uint8Array): Promise<Uint8Array> {
  const codec = engine.createDeflater(options);
  const parts: Uint8Array[] = [];
  let total = 0;
  const sink = (out: Uint8Array): void => {
    // The codec may reuse its output buffer: keep a copy.
    parts.push(out.slice());
    total += out.length;
  };
  let done = false;
  try {
    await codec.write(payload, sink);
    await codec.flush(sink);
    done = true;
  } finally {
    if (done && engine.recycle !== undefined) engine.recycle(codec);
    else codec.close();
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  if (total === 0) return new Uint8Array([0x00]);
  const t = total - 4;
  if (t < 0 || out[t] !== 0 || out[t + 1] !== 0 || out[t + 2] !== 0xff || out[t + 3] !== 0xff) {
    throw new Error('Compressor output did not end with an empty stored block');
  }
  return out.subarray(0, t);
}
