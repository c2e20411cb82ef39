// RFC 8441: the opening handshake as an HTTP/2 extended CONNECT. Only the carrier differs from
// RFC 6455 §4: the version, subprotocol and extension rules are the same functions.
import { completeNegotiation, type ClientHandshakeResult, type ClientRequest } from './client-handshake';
import { HandshakeError, type HandshakeErrorKind } from './errors';
import { flattenHeaders, joinHeader, type HeaderMap } from './header-values';
import { validateWebSocketOffer, type HandshakeRejection, type WebSocketOffer } from './server-handshake';

/**
 * HTTP/1.1 request headers an HTTP/2 request may not carry. RFC 9113 §8.2.2: "An endpoint
 * MUST NOT generate an HTTP/2 message containing connection-specific header fields", and
 * RFC 8441 §5: the Sec-WebSocket-Key and Sec-WebSocket-Accept fields "are not used". Host
 * becomes `:authority`.
 */
const NOT_IN_HTTP2 = new Set(['host', 'upgrade', 'connection', 'sec-websocket-key', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te']);

/**
 * The header block of an extended CONNECT (RFC 8441 §4, §5) for a request built by
 * `buildClientRequest`: `:method CONNECT`, `:protocol websocket`, `:scheme` (`https` for
 * `wss:`, `http` for `ws:`), `:path`, `:authority` (the `Host` the request would send, a
 * user's own included), then its other headers with lower-case names, minus what HTTP/2
 * forbids or RFC 8441 drops (`Upgrade`, `Connection`, `Sec-WebSocket-Key`). A user header
 * HTTP/2 forbids (`Keep-Alive`, `Transfer-Encoding`, `TE`, ...) throws a `TypeError`.
 *
 * @example
 * ```ts
 * const req = buildClientRequest('wss://example.com/chat', { key: generateKey(), protocols: ['chat'] });
 * buildExtendedConnectHeaders(req);
 * // { ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https', ':path': '/chat',
 * //   ':authority': 'example.com', 'sec-websocket-version': '13', 'sec-websocket-protocol': 'chat' }
 * ```
 */
export function buildExtendedConnectHeaders(request: ClientRequest): Record<string, string> {
  const out: Record<string, string> = {
    ':method': 'CONNECT',
    ':protocol': 'websocket',
    ':scheme': request.url.protocol === 'wss:' ? 'https' : 'http',
    ':path': request.path,
    ':authority': request.url.host,
  };
  for (const [name, value] of Object.entries(request.headers)) {
    const lower = name.toLowerCase();
    if (lower === 'host') {
      out[':authority'] = value;
      continue;
    }
    if (NOT_IN_HTTP2.has(lower)) {
      if (lower === 'upgrade' || lower === 'connection' || lower === 'sec-websocket-key') continue; // the handshake's own
      throw new TypeError(`Header ${name} is connection-specific and cannot be sent over HTTP/2 (RFC 9113 §8.2.2)`);
    }
    out[lower] = value;
  }
  return out;
}

/**
 * Checks an HTTP/2 request against RFC 8441 §4–5 and says what it offers, or which response
 * refuses it: 405 (with `Allow: CONNECT`) for a method other than CONNECT, 400 for a
 * `:protocol` other than `websocket` or a missing `:scheme`, `:path` or `:authority`, then
 * the checks every opening request shares (`validateWebSocketOffer`: version 13,
 * subprotocols, extensions). Pseudo-headers are looked up by their names (`':method'`), as
 * node's `http2` hands them over.
 *
 * @example
 * ```ts
 * const r = validateExtendedConnect({ ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https',
 *   ':path': '/chat', ':authority': 'example.com', 'sec-websocket-version': '13' });
 * if (r.ok) console.log(r.protocols); else console.log(r.status, r.reason);
 * ```
 */
export function validateExtendedConnect(headers: HeaderMap): WebSocketOffer | HandshakeRejection {
  const method = joinHeader(headers[':method']) ?? '';
  // RFC 8441 §4: "A new pseudo-header field :protocol MAY be included on request HEADERS
  // indicating the desired protocol to be spoken on the tunnel created by CONNECT."
  if (method !== 'CONNECT') return { ok: false, status: 405, reason: `A WebSocket over HTTP/2 is opened with CONNECT, not ${method}`, headers: { Allow: 'CONNECT' } };
  const protocol = joinHeader(headers[':protocol']);
  if (protocol !== 'websocket') {
    return { ok: false, status: 400, reason: `The :protocol pseudo-header must be "websocket", got ${JSON.stringify(protocol ?? '')}`, headers: {} };
  }
  // §4: "On requests that contain the :protocol pseudo-header field, the :scheme and :path
  // pseudo-header fields of the target URI MUST also be included." §5: :authority carries
  // what Host did.
  for (const name of [':scheme', ':path', ':authority']) {
    const value = joinHeader(headers[name]);
    if (value === undefined || value === '') return { ok: false, status: 400, reason: `The ${name} pseudo-header is missing`, headers: {} };
  }
  return validateWebSocketOffer(headers);
}

/**
 * Checks the server's answer to an extended CONNECT for `request` (RFC 8441 §5): a 2xx
 * status opens the tunnel (RFC 9110 §9.3.6), then the subprotocol and extensions are checked
 * as for a 101 (`validateServerResponse`). No `Sec-WebSocket-Accept` is involved. Any failure
 * throws a `HandshakeError` carrying the status and headers (lower-case names, pseudo-headers
 * left out).
 *
 * @example
 * ```ts
 * const result = validateExtendedConnectResponse(request, 200, { 'sec-websocket-protocol': 'chat' });
 * console.log(result.protocol); // 'chat'
 * ```
 */
export function validateExtendedConnectResponse(request: ClientRequest, status: number, headers: HeaderMap): ClientHandshakeResult {
  const plain: Record<string, HeaderMap[string]> = {};
  for (const name of Object.keys(headers)) if (!name.startsWith(':')) plain[name] = headers[name];
  const flat = flattenHeaders(plain);
  const fail = (kind: HandshakeErrorKind, message: string, cause?: unknown): never => {
    throw new HandshakeError(kind, message, { status, headers: flat, cause });
  };
  if (!(status >= 200 && status <= 299)) fail('UNEXPECTED_STATUS', `The server refused the WebSocket handshake over HTTP/2 with status ${status}`);
  return completeNegotiation(request, plain, flat, fail);
}
