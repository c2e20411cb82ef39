import { createHash } from 'node:crypto';
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
