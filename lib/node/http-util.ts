import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { WEBSOCKET_GUID } from '../handshake/accept-key';

/**
 * `Sec-WebSocket-Accept` for a key, synchronously with node:crypto: the handshake then needs
 * no promise turn between the request and the 101 (the core's `computeAccept` is async
 * because WebCrypto is).
 */
export function computeAcceptSync(key: string): string {
  return createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64');
}

/** The default `onError`: report, never throw (a handler's error must not crash the server). */
export function reportError(error: unknown): void {
  console.error(error);
}

/** How much of a refusal's body `HandshakeError.body` keeps. */
export const MAX_REFUSAL_BODY = 4096;

/**
 * Reads at most `max` bytes of a refusal's body, then calls `done` once with them: at the
 * body's end, at `max` bytes (the rest is not waited for), or when the response fails.
 */
export function collectBody(res: Readable, max: number, done: (body: Uint8Array) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    res.off('data', onData);
    done(new Uint8Array(Buffer.concat(chunks, size)));
  };
  const onData = (chunk: Buffer): void => {
    const room = max - size;
    chunks.push(chunk.length > room ? chunk.subarray(0, room) : chunk);
    size += Math.min(chunk.length, room);
    if (size >= max) finish();
  };
  res.on('data', onData);
  res.once('end', finish);
  res.once('error', finish);
  res.once('aborted', finish);
  res.once('close', finish);
}
