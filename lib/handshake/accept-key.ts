/** RFC 6455 §1.3: the GUID appended to the client's key before hashing. */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/**
 * RFC 6455 §4.2.1 item 5: the key is "a base64-encoded value that, when decoded, is 16
 * bytes in length". Sixteen bytes are 22 base64 characters and `==` (as ws checks it).
 */
const KEY_PATTERN = /^[+/0-9A-Za-z]{22}==$/;

/**
 * Whether `key` is a valid `Sec-WebSocket-Key`: base64 that decodes to exactly 16 bytes.
 *
 * @example
 * ```ts
 * isValidKey('dGhlIHNhbXBsZSBub25jZQ=='); // true
 * ```
 */
export function isValidKey(key: string): boolean {
  return KEY_PATTERN.test(key);
}

/**
 * A fresh `Sec-WebSocket-Key`: 16 random bytes, base64 (RFC 6455 §4.1: "a nonce consisting
 * of a randomly selected 16-byte value ... base64-encoded").
 *
 * @example
 * ```ts
 * const key = generateKey(); // e.g. 'x3JJHMbDL1EzLkh9GBhXDw=='
 * ```
 */
export function generateKey(): string {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  return toBase64(bytes);
}

/**
 * `Sec-WebSocket-Accept` for a key: base64 of SHA-1(key + GUID) (RFC 6455 §4.2.2 item 5.4),
 * with WebCrypto so it runs in any runtime. The Node adapter hashes synchronously instead.
 *
 * @example
 * ```ts
 * await computeAccept('dGhlIHNhbXBsZSBub25jZQ=='); // 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='
 * ```
 */
export async function computeAccept(key: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-1', new TextEncoder().encode(key + WEBSOCKET_GUID));
  return toBase64(new Uint8Array(digest));
}

// `btoa` exists in browsers, Deno, Bun and Node ≥ 16.
/** Base64 of bytes (internal; the core has no Buffer). */
export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
  return btoa(s);
}
