/**
 * Stable identifiers for why an opening handshake failed, beside the message (in the manner
 * of ws's `WS_ERR_*` codes), so callers can branch without parsing text.
 */
export type HandshakeErrorKind =
  /** The server answered with a status other than 101; `status`, `headers`, `body` say how. */
  | 'UNEXPECTED_STATUS'
  /** The 101 lacks `Upgrade: websocket`. */
  | 'INVALID_UPGRADE'
  /** The 101's `Connection` header lacks the `upgrade` token. */
  | 'INVALID_CONNECTION'
  /** `Sec-WebSocket-Accept` is missing or does not match our key. */
  | 'INVALID_ACCEPT'
  /** The server chose a subprotocol we did not offer, or sent a malformed one. */
  | 'INVALID_PROTOCOL'
  /** The server's `Sec-WebSocket-Extensions` is malformed, unknown, un-offered or duplicated. */
  | 'INVALID_EXTENSIONS'
  /** An extension factory refused the server's response parameters. */
  | 'EXTENSION_REJECTED'
  /** A header value does not follow its grammar (RFC 6455 §4.1, §9.1; RFC 7230 §3.2.6). */
  | 'MALFORMED_HEADER'
  /** The handshake did not finish within `handshakeTimeout`. */
  | 'TIMEOUT'
  /** The caller's `AbortSignal` fired before the handshake finished. */
  | 'ABORTED'
  /** TCP or TLS failed, or the connection closed before a response. */
  | 'CONNECTION_FAILED'
  /** The server answered with a redirect (3xx) and following redirects is off; `status` and `headers.location` say where. */
  | 'REDIRECT'
  /** A redirect has no usable `Location` (missing, malformed, or not `ws:`/`wss:`/`http:`/`https:`). */
  | 'INVALID_REDIRECT'
  /** A redirect leads back to a URL already requested. */
  | 'REDIRECT_LOOP'
  /** More redirects than `maxRedirects`. */
  | 'TOO_MANY_REDIRECTS'
  /** The HTTP proxy refused to open a tunnel (`status` is its answer to CONNECT, e.g. 403 or 407). */
  | 'PROXY_REFUSED'
  /** A WebSocket over HTTP/2 was asked for and the server cannot take one (no `h2`, or no RFC 8441 extended CONNECT), and falling back to HTTP/1.1 was not allowed. */
  | 'HTTP2_UNSUPPORTED';

/**
 * The opening handshake failed. On the client a refused handshake carries the HTTP `status`,
 * the response `headers` (lower-case names) and the first bytes of its `body`.
 *
 * @example
 * ```ts
 * try { await connect('ws://127.0.0.1:8080/'); }
 * catch (err) { if (err instanceof HandshakeError && err.status === 401) console.log('log in first'); }
 * ```
 */
export class HandshakeError extends Error {
  /** Always `'HandshakeError'`, to tell it apart without `instanceof`. */
  override readonly name = 'HandshakeError';
  /** Stable identifier of what went wrong (see `HandshakeErrorKind`). */
  readonly kind: HandshakeErrorKind;
  /** The HTTP status of the response the failure is about (a refusal: `UNEXPECTED_STATUS`; a bad 101); `undefined` when there was no response. */
  readonly status: number | undefined;
  /** The response's headers; `undefined` when there was no response. */
  readonly headers: Readonly<Record<string, string>> | undefined;
  /** The start of the response's body (a refusal's explanation); `undefined` when there was none. */
  readonly body: Uint8Array | undefined;

  constructor(
    kind: HandshakeErrorKind,
    message: string,
    details: { status?: number; headers?: Record<string, string>; body?: Uint8Array; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.kind = kind;
    this.status = details.status;
    this.headers = details.headers;
    this.body = details.body;
  }
}
