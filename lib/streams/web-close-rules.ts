// The close code and reason rules of the WHATWG WebSockets standard (the `WebSocketError`
// constructor, `WebSocketStream.close()`): stricter than RFC 6455's wire rules, because a page
// may only send 1000 or a code of the 3000–4999 ranges.

const MAX_REASON_BYTES = 123;

/**
 * WebIDL `[EnforceRange] unsigned short` for a close code: NaN, ±Infinity and values outside
 * 0–65535 (after truncation) are a TypeError; anything else is converted with `Number()`.
 */
export function enforceCloseCodeRange(value: unknown): number {
  const n = Number(value);
  if (!Number.isFinite(n)) throw new TypeError(`A close code must be a finite number, got ${String(n)}`);
  const code = Math.trunc(n);
  if (code < 0 || code > 0xffff) throw new TypeError(`A close code must be in 0–65535, got ${code}`);
  return code;
}

/**
 * "Validate close code and reason" (WHATWG WebSockets): a code that is neither 1000 nor in
 * 3000–4999 is an `InvalidAccessError` DOMException, a reason over 123 UTF-8 bytes a
 * `SyntaxError` DOMException.
 */
export function validateWebCloseInfo(code: number | null, reason: string): void {
  if (code !== null && code !== 1000 && !(code >= 3000 && code <= 4999)) {
    throw new DOMException(`The close code must be 1000 or in 3000–4999, got ${code}`, 'InvalidAccessError');
  }
  // Every UTF-16 unit is at most 3 UTF-8 bytes: only a reason longer than 41 units can be too long.
  if (reason.length > MAX_REASON_BYTES / 3) {
    const bytes = new TextEncoder().encode(reason).length;
    if (bytes > MAX_REASON_BYTES) throw new DOMException(`The close reason must be at most 123 UTF-8 bytes, got ${bytes}`, 'SyntaxError');
  }
}
