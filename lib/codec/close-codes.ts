// Close status codes: which may appear on the wire and which an application may send.

/**
 * Codes a close frame may carry (RFC 6455 §7.4): 1000–1003, 1007–1014 and 3000–4999 (the
 * registered and private ranges). 1004, 1005, 1006 and 1015 are reserved and "MUST NOT be
 * set as a status code in a Close control frame"; 0–999 are unused; 1016–2999 are
 * reserved for future RFCs, so a peer sending one is in error.
 */
export function isValidWireCloseCode(code: number): boolean {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

/** Codes an application may pass to `close()`: the same set as on the wire. */
export function isSendableCloseCode(code: number): boolean {
  return Number.isInteger(code) && isValidWireCloseCode(code);
}

const DESCRIPTIONS: Record<number, string> = {
  1000: 'normal closure',
  1001: 'going away',
  1002: 'protocol error',
  1003: 'unsupported data',
  1004: 'reserved',
  1005: 'no status received',
  1006: 'abnormal closure',
  1007: 'invalid frame payload data',
  1008: 'policy violation',
  1009: 'message too big',
  1010: 'mandatory extension',
  1011: 'internal error',
  1012: 'service restart',
  1013: 'try again later',
  1014: 'bad gateway',
  1015: 'TLS handshake failure',
};

/** A short English description of a close code (`'message too big'` for 1009). */
export function describeCloseCode(code: number): string {
  return DESCRIPTIONS[code] ?? (code >= 3000 && code <= 3999 ? 'registered by a library or framework' : code >= 4000 && code <= 4999 ? 'private use' : 'unknown');
}
