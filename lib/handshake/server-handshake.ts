import type { Extension, ExtensionFactory, ExtensionOffer } from '../protocol/extension';
import { isValidKey } from './accept-key';
import { HandshakeError } from './errors';
import { hasToken, joinHeader, parseExtensions, parseTokenList, serializeExtensions, trimOws, type HeaderMap } from './header-values';

/** What a valid upgrade request asks for (RFC 6455 §4.2.1). */
export interface UpgradeRequest {
  /** Discriminant: the request is a valid upgrade. */
  readonly ok: true;
  /** `Sec-WebSocket-Key`, to be answered with `Sec-WebSocket-Accept`. */
  readonly key: string;
  /** `Sec-WebSocket-Version`: 13 is the only one RFC 6455 defines. */
  readonly version: 13;
  /** Subprotocols the client offers, in its order of preference. */
  readonly protocols: string[];
  /** Extension offers, in header order, duplicates kept. */
  readonly extensions: ExtensionOffer[];
}

/** Why an upgrade request is refused, as the HTTP response to send. */
export interface HandshakeRejection {
  /** Discriminant: the request is refused. */
  readonly ok: false;
  /** The HTTP status to answer with (400 for a malformed request, 405 for a method other than GET, …). */
  readonly status: number;
  /** Says which rule failed; the adapter sends it as a plain-text body. */
  readonly reason: string;
  /** Headers to answer with (`Allow: GET` with 405, `Sec-WebSocket-Version: 13` for a version the server does not speak). */
  readonly headers: Record<string, string>;
}

const reject = (status: number, reason: string, headers: Record<string, string> = {}): HandshakeRejection => ({
  ok: false, status, reason, headers,
});

/**
 * Checks an HTTP request against RFC 6455 §4.2.1 and says what it asks for, or which
 * response refuses it: 405 for a method other than GET, 400 for HTTP/1.0, a missing Host,
 * an `Upgrade` other than `websocket`, a `Connection` without `upgrade`, a key that is not
 * 16 bytes of base64, or a malformed `Sec-WebSocket-Protocol`/`-Extensions`, and 400 with
 * `Sec-WebSocket-Version: 13` when the version is missing or not 13. Header names are
 * lower-case (node's `req.headers` fits).
 *
 * @example
 * ```ts
 * const r = validateUpgradeRequest('GET', '1.1', {
 *   host: 'example.com', upgrade: 'websocket', connection: 'Upgrade',
 *   'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13',
 * });
 * if (r.ok) console.log(r.key); else console.log(r.status, r.reason);
 * ```
 */
export function validateUpgradeRequest(method: string, httpVersion: string, headers: HeaderMap): UpgradeRequest | HandshakeRejection {
  // RFC 6455 §4.1 item 2: "The method of the request MUST be GET, and the HTTP version MUST
  // be at least 1.1." RFC 7231 §6.5.5: a 405 "MUST generate an Allow header field".
  if (method !== 'GET') return reject(405, `The WebSocket handshake must use GET, not ${method}`, { Allow: 'GET' });
  if (!isHttp11OrLater(httpVersion)) return reject(400, `The WebSocket handshake needs HTTP/1.1 or later, got HTTP/${httpVersion}`);
  const host = joinHeader(headers.host);
  if (host === undefined || host.length === 0) return reject(400, 'The Host header is missing');
  // §4.2.1 item 3: "An |Upgrade| header field containing the value "websocket", treated as
  // an ASCII case-insensitive value." Offering other protocols beside it is no handshake.
  const upgrade = joinHeader(headers.upgrade);
  if (upgrade === undefined || trimOws(upgrade).toLowerCase() !== 'websocket') {
    return reject(400, `The Upgrade header must be "websocket", got ${JSON.stringify(upgrade ?? '')}`);
  }
  // Item 4: "A |Connection| header field that includes the token "Upgrade", treated as an
  // ASCII case-insensitive value."
  if (!hasToken(headers.connection, 'upgrade')) {
    return reject(400, `The Connection header must contain the "upgrade" token, got ${JSON.stringify(joinHeader(headers.connection) ?? '')}`);
  }
  // Item 5; a repeated header arrives joined with ", " and fails the pattern, as it should.
  const key = joinHeader(headers['sec-websocket-key']);
  if (key === undefined) return reject(400, 'The Sec-WebSocket-Key header is missing');
  if (!isValidKey(key)) return reject(400, `Sec-WebSocket-Key must be base64 of 16 bytes, got ${JSON.stringify(key.slice(0, 64))}`);
  const offer = validateWebSocketOffer(headers);
  return offer.ok ? { ok: true, key, version: 13, protocols: offer.protocols, extensions: offer.extensions } : offer;
}

/** What a valid opening request offers beyond its transport: the version, subprotocols and extensions. */
export interface WebSocketOffer {
  /** Discriminant: the offer is valid. */
  readonly ok: true;
  /** `Sec-WebSocket-Version`: 13 is the only one RFC 6455 defines. */
  readonly version: 13;
  /** Subprotocols the client offers, in its order of preference. */
  readonly protocols: string[];
  /** Extension offers, in header order, duplicates kept. */
  readonly extensions: ExtensionOffer[];
}

/**
 * The checks an opening request shares whatever carries it (an HTTP/1.1 upgrade, RFC 6455
 * §4.2.1, or an HTTP/2 extended CONNECT, RFC 8441 §5, which keeps "the same semantics"):
 * `Sec-WebSocket-Version` 13 (else 400 with `Sec-WebSocket-Version: 13`), well-formed
 * `Sec-WebSocket-Protocol` values offered once each, and well-formed `Sec-WebSocket-Extensions`.
 *
 * @example
 * ```ts
 * const offer = validateWebSocketOffer({ 'sec-websocket-version': '13', 'sec-websocket-protocol': 'chat' });
 * if (offer.ok) console.log(offer.protocols); // ['chat']
 * ```
 */
export function validateWebSocketOffer(headers: HeaderMap): WebSocketOffer | HandshakeRejection {
  // Item 6 and §4.4: a server that does not speak the client's version answers with the
  // versions it does speak. The §4.4 example does this with 400 Bad Request; so do we.
  const version = joinHeader(headers['sec-websocket-version']);
  if (version !== '13') {
    return reject(
      400,
      version === undefined ? 'The Sec-WebSocket-Version header is missing' : `Unsupported Sec-WebSocket-Version ${JSON.stringify(version)}: only 13 is spoken`,
      { 'Sec-WebSocket-Version': '13' },
    );
  }
  // §4.2.1: "... including but not limited to any violations of the ABNF grammar specified
  // for the components of the handshake, the server MUST stop processing the client's
  // handshake and return an HTTP response with an appropriate error code (such as 400 Bad
  // Request)." So a malformed protocol or extension header refuses the handshake.
  let protocols: string[];
  let extensions: ExtensionOffer[];
  try {
    protocols = parseTokenList(headers['sec-websocket-protocol'], 'Sec-WebSocket-Protocol');
    extensions = parseExtensions(headers['sec-websocket-extensions']);
  } catch (err) {
    if (err instanceof HandshakeError) return reject(400, err.message);
    throw err;
  }
  // §4.1 item 10: the client's subprotocol values "MUST all be unique strings". Empty list
  // elements (`a,,b`, an empty value) were skipped above, as RFC 9110 §5.6.1.2 says a
  // recipient MUST; a repeated value is no grammar slip but a client that breaks the rule.
  const repeated = protocols.find((p, i) => protocols.indexOf(p) !== i);
  if (repeated !== undefined) return reject(400, `Sec-WebSocket-Protocol offers ${JSON.stringify(repeated)} more than once`);
  return { ok: true, version: 13, protocols, extensions };
}

function isHttp11OrLater(version: string): boolean {
  const m = /^(\d+)\.(\d+)$/.exec(version);
  if (!m) return false;
  const major = Number(m[1]);
  return major > 1 || (major === 1 && Number(m[2]) >= 1);
}

/** The extensions a server agreed to: the response header value and the active extensions. */
export interface NegotiatedExtensions {
  /** `Sec-WebSocket-Extensions` for the 101, `''` when none was accepted. */
  readonly header: string;
  /** The accepted extensions with the parameters answered, in the order of the factories. */
  readonly entries: ExtensionOffer[];
  /** In the order of `entries`, which is the order of the factories. */
  readonly extensions: Extension[];
}

/**
 * Server side of RFC 6455 §9.1: groups the client's offers by name and asks each factory,
 * in the server's order, to accept the offers for its name. A factory whose extension
 * would use RSV bits or opcodes an earlier one took is declined (its extension is closed):
 * two extensions cannot both own RSV1.
 *
 * @example
 * ```ts
 * const { header, extensions } = negotiateExtensions(request.extensions, [new PerMessageDeflate()]);
 * ```
 */
export function negotiateExtensions(offers: readonly ExtensionOffer[], factories: readonly ExtensionFactory[]): NegotiatedExtensions {
  const entries: ExtensionOffer[] = [];
  const extensions: Extension[] = [];
  if (offers.length === 0 || factories.length === 0) return { header: '', entries, extensions };
  let rsvTaken = 0;
  const opcodesTaken = new Set<number>();
  for (const factory of factories) {
    const mine = offers.filter((o) => o.name === factory.name);
    if (mine.length === 0) continue;
    const accepted = factory.accept(mine);
    if (accepted === undefined) continue;
    const ext = accepted.extension;
    if ((ext.rsvBits & rsvTaken) !== 0 || (ext.opcodes ?? []).some((op) => opcodesTaken.has(op))) {
      ext.close();
      continue;
    }
    rsvTaken |= ext.rsvBits;
    for (const op of ext.opcodes ?? []) opcodesTaken.add(op);
    entries.push(accepted.response);
    extensions.push(ext);
  }
  return { header: serializeExtensions(entries), entries, extensions };
}

/** Headers a user adds to a handshake response: one value, or several lines of one name. */
export type ResponseHeaders = Readonly<Record<string, string | number | readonly string[]>>;

/** Headers the handshake itself writes on a 101; a user may not replace them. */
const HANDSHAKE_HEADERS = new Set(['upgrade', 'connection', 'sec-websocket-accept', 'sec-websocket-protocol', 'sec-websocket-extensions']);
/** Headers computed from a rejection's body. */
const BODY_HEADERS = new Set(['content-length', 'transfer-encoding']);

const REASON_PHRASES: Readonly<Record<number, string>> = {
  101: 'Switching Protocols', 200: 'OK', 204: 'No Content', 301: 'Moved Permanently', 302: 'Found',
  307: 'Temporary Redirect', 308: 'Permanent Redirect', 400: 'Bad Request', 401: 'Unauthorized',
  403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 408: 'Request Timeout',
  409: 'Conflict', 410: 'Gone', 426: 'Upgrade Required', 429: 'Too Many Requests',
  431: 'Request Header Fields Too Large', 500: 'Internal Server Error', 501: 'Not Implemented',
  502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

/**
 * The 101 response head (status line, headers, blank line) that accepts a handshake
 * (RFC 6455 §4.2.2 item 5). `headers` are added after the handshake's own; a name that is
 * not a token, a value with CR, LF or NUL (header injection), or a handshake header name
 * throws a `TypeError`.
 *
 * @example
 * ```ts
 * buildAcceptResponse({ accept: 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=', protocol: 'chat' });
 * // 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
 * // 'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n'
 * ```
 */
export function buildAcceptResponse(options: {
  accept: string;
  protocol?: string;
  extensions?: string;
  headers?: ResponseHeaders;
}): string {
  let head = `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${options.accept}\r\n`;
  if (options.protocol) head += `Sec-WebSocket-Protocol: ${options.protocol}\r\n`;
  if (options.extensions) head += `Sec-WebSocket-Extensions: ${options.extensions}\r\n`;
  head += headerLines(options.headers, HANDSHAKE_HEADERS, 'is set by the WebSocket handshake');
  return `${head}\r\n`;
}

/**
 * The head of a response that refuses a handshake: status line, the given headers, then
 * `Connection: close` and the `Content-Length` of `bodyLength` bytes (the body follows it).
 * Header rules are those of `buildAcceptResponse`; `Content-Length` and
 * `Transfer-Encoding` come from the body and may not be given.
 *
 * @example
 * ```ts
 * buildRejectionResponse(403, { 'X-Reason': 'origin' }, 9);
 * // 'HTTP/1.1 403 Forbidden\r\nX-Reason: origin\r\nConnection: close\r\nContent-Length: 9\r\n\r\n'
 * ```
 */
export function buildRejectionResponse(status: number, headers: ResponseHeaders | undefined, bodyLength: number, reasonPhrase?: string): string {
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    throw new RangeError(`A handshake rejection needs a status from 200 to 599, got ${status}`);
  }
  const phrase = reasonPhrase ?? REASON_PHRASES[status] ?? 'Unknown';
  if (/[\r\n\0]/.test(phrase)) throw new TypeError('The reason phrase may not contain CR, LF or NUL');
  let head = `HTTP/1.1 ${status} ${phrase}\r\n`;
  const given = headerLines(headers, BODY_HEADERS, 'is computed from the body');
  head += given;
  if (!/^connection:/im.test(given)) head += 'Connection: close\r\n';
  return `${head}Content-Length: ${bodyLength}\r\n\r\n`;
}

function headerLines(headers: ResponseHeaders | undefined, forbidden: ReadonlySet<string>, why: string): string {
  if (headers === undefined) return '';
  let out = '';
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (!isHeaderName(name)) throw new TypeError(`Header name ${JSON.stringify(name)} is not a token`);
    if (forbidden.has(name.toLowerCase())) throw new TypeError(`Header ${name} ${why} and cannot be given`);
    const values = typeof value === 'object' ? value : [value];
    for (const v of values) {
      const s = String(v);
      // RFC 7230 §3.2.4 forbids line folding; a CR or LF here would start a new header (or
      // a body) chosen by whoever controls the value: header injection.
      if (/[\r\n\0]/.test(s)) throw new TypeError(`Header ${name} has a value with CR, LF or NUL`);
      out += `${name}: ${s}\r\n`;
    }
  }
  return out;
}

const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const isHeaderName = (s: string): boolean => HEADER_NAME.test(s);
