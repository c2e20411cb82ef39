import type { Extension, ExtensionFactory, ExtensionOffer } from '../protocol/extension';
import { toBase64 } from './accept-key';
import { HandshakeError, type HandshakeErrorKind } from './errors';
import { flattenHeaders, hasToken, isToken, joinHeader, parseExtensions, serializeExtensions, trimOws, type HeaderMap } from './header-values';

/**
 * Checks a WebSocket URL the way the WHATWG WebSocket constructor does: `http:` and `https:`
 * become `ws:` and `wss:`, any other scheme or a fragment throws a `SyntaxError`.
 *
 * @example
 * ```ts
 * parseWebSocketUrl('https://example.com/chat').href; // 'wss://example.com/chat'
 * ```
 */
export function parseWebSocketUrl(input: string | URL): URL {
  if (typeof input !== 'string' && !(input instanceof URL)) {
    throw new TypeError(`A WebSocket URL must be a string or a URL, got ${typeof input}`);
  }
  let url: URL;
  try {
    url = new URL(String(input));
  } catch {
    throw new SyntaxError(`Invalid WebSocket URL ${JSON.stringify(String(input))}`);
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
    throw new SyntaxError(`A WebSocket URL must use ws: or wss:, got ${url.protocol} in ${JSON.stringify(url.href)}`);
  }
  // RFC 6455 §3: "Fragment identifiers are meaningless in the context of WebSocket URIs and
  // MUST NOT be used on these URIs."
  if (url.hash !== '' || url.href.endsWith('#')) {
    throw new SyntaxError(`A WebSocket URL may not have a fragment: ${JSON.stringify(url.href)}`);
  }
  return url;
}

/** What a client puts in its opening handshake. */
export interface ClientRequestOptions {
  /** `Sec-WebSocket-Key` (from `generateKey()`). */
  key: string;
  /** Subprotocols to offer, most preferred first; tokens, no duplicates. */
  protocols?: readonly string[];
  /** `Origin` header (RFC 6455 §4.1 item 8; browsers always send it, other clients may). */
  origin?: string;
  /** More request headers. The handshake's own headers cannot be replaced. */
  headers?: Readonly<Record<string, string>>;
  /** Extensions to offer, in order of preference. */
  extensions?: readonly ExtensionFactory[];
}

/** An opening-handshake request, ready to send, and what is needed to check the answer. */
export interface ClientRequest {
  /** The URL to connect to, parsed (`ws:` or `wss:`). */
  readonly url: URL;
  /** Request target: path and query (`/chat?room=1`). */
  readonly path: string;
  /** Request headers in their conventional casing. */
  readonly headers: Record<string, string>;
  /** The `Sec-WebSocket-Key` sent, to check the server's `Sec-WebSocket-Accept` against. */
  readonly key: string;
  /** The subprotocols offered, to check the server's choice against. */
  readonly protocols: readonly string[];
  /** The `Sec-WebSocket-Extensions` entries offered. */
  readonly offers: readonly ExtensionOffer[];
  /** The extension factories whose offers were sent, to complete the negotiation with the response. */
  readonly factories: readonly ExtensionFactory[];
}

/** Request headers the handshake writes itself (options set them). */
const OWN_HEADERS = new Set(['upgrade', 'connection', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol', 'sec-websocket-extensions']);
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Builds the client's opening handshake (RFC 6455 §4.1): GET of the URL's path and query,
 * `Host` (with the port when it is not the scheme's default), `Upgrade`, `Connection`,
 * the key, version 13, then `Origin`, the subprotocols and extension offers, and the user's
 * headers. Misuse (a protocol that is not a token or is repeated, a header that would
 * inject a line or replace a handshake header) throws a `TypeError`.
 *
 * @example
 * ```ts
 * const req = buildClientRequest('ws://example.com:8080/chat', { key: generateKey(), protocols: ['chat'] });
 * req.headers.Host; // 'example.com:8080'
 * ```
 */
export function buildClientRequest(input: string | URL, options: ClientRequestOptions): ClientRequest {
  const url = parseWebSocketUrl(input);
  const protocols = [...(options.protocols ?? [])];
  const seen = new Set<string>();
  for (const p of protocols) {
    if (typeof p !== 'string' || !isToken(p)) throw new TypeError(`Subprotocol ${JSON.stringify(p)} is not a token`);
    if (seen.has(p)) throw new TypeError(`Subprotocol ${JSON.stringify(p)} is offered twice`);
    seen.add(p);
  }
  const factories = [...(options.extensions ?? [])];
  const offers: ExtensionOffer[] = [];
  for (const f of factories) offers.push(...f.offer());

  // WHATWG URL leaves the port out of `host` when it is the scheme's default (80, 443),
  // which is what RFC 6455 §4.1 item 4 asks of the Host header.
  const headers: Record<string, string> = {
    Host: url.host,
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': options.key,
    'Sec-WebSocket-Version': '13',
  };
  if (options.origin !== undefined) headers.Origin = options.origin;
  if (protocols.length > 0) headers['Sec-WebSocket-Protocol'] = protocols.join(', ');
  if (offers.length > 0) headers['Sec-WebSocket-Extensions'] = serializeExtensions(offers);
  if (url.username !== '' || url.password !== '') {
    const credentials = `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    headers.Authorization = `Basic ${toBase64(new TextEncoder().encode(credentials))}`;
  }
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (!HEADER_NAME.test(name)) throw new TypeError(`Header name ${JSON.stringify(name)} is not a token`);
    if (OWN_HEADERS.has(name.toLowerCase())) throw new TypeError(`Header ${name} is set by the WebSocket handshake and cannot be given`);
    if (/[\r\n\0]/.test(String(value))) throw new TypeError(`Header ${name} has a value with CR, LF or NUL`);
    // A user's Host or Origin replaces ours whatever its casing.
    for (const own of Object.keys(headers)) if (own.toLowerCase() === name.toLowerCase()) delete headers[own];
    headers[name] = String(value);
  }
  return { url, path: `${url.pathname}${url.search}`, headers, key: options.key, protocols, offers, factories };
}

/** What the server's 101 settled. */
export interface ClientHandshakeResult {
  /** The subprotocol the server chose, `''` when none. */
  readonly protocol: string;
  /** `Sec-WebSocket-Extensions` of the response, `''` when none. */
  readonly extensionsHeader: string;
  /** Active extensions in response order. */
  readonly extensions: Extension[];
  /** Response headers, lower-case names. */
  readonly headers: Record<string, string>;
}

/**
 * Checks the server's answer to `request` (RFC 6455 §4.1, "the client MUST validate the
 * server's response"): status 101, `Upgrade: websocket`, `Connection: upgrade`,
 * `Sec-WebSocket-Accept` equal to `expectedAccept`, a subprotocol only if one was offered
 * and then one of them, and extensions only as offered, each once and accepted by its
 * factory. Any failure throws a `HandshakeError` carrying the status and headers.
 *
 * @example
 * ```ts
 * const result = validateServerResponse(request, await computeAccept(request.key), 101, res.headers);
 * ```
 */
export function validateServerResponse(request: ClientRequest, expectedAccept: string, status: number, headers: HeaderMap): ClientHandshakeResult {
  const flat = flattenHeaders(headers);
  const fail = (code: HandshakeErrorKind, message: string, cause?: unknown): never => {
    throw new HandshakeError(code, message, { status, headers: flat, cause });
  };
  // §4.1: "If the status code received from the server is not 101, the client handles the
  // response per HTTP [RFC2616] procedures."
  if (status !== 101) fail('UNEXPECTED_STATUS', `The server refused the WebSocket handshake with status ${status}`);
  // §4.1 items 2–3 of the response checks: "the client MUST _Fail the WebSocket Connection_".
  const upgrade = flat.upgrade;
  if (upgrade === undefined || trimOws(upgrade).toLowerCase() !== 'websocket') {
    fail('INVALID_UPGRADE', `The 101 response's Upgrade header must be "websocket", got ${JSON.stringify(upgrade ?? '')}`);
  }
  if (!hasToken(flat.connection, 'upgrade')) {
    fail('INVALID_CONNECTION', `The 101 response's Connection header must contain "upgrade", got ${JSON.stringify(flat.connection ?? '')}`);
  }
  const accept = flat['sec-websocket-accept'];
  if (accept === undefined) fail('INVALID_ACCEPT', 'The 101 response has no Sec-WebSocket-Accept header');
  if (accept !== expectedAccept) {
    fail('INVALID_ACCEPT', `Sec-WebSocket-Accept ${JSON.stringify(accept)} does not match the key (expected ${JSON.stringify(expectedAccept)})`);
  }
  return completeNegotiation(request, headers, flat, fail);
}

/**
 * What the client checks of an accepting answer whatever carried it (a 101, or an HTTP/2
 * 2xx to an extended CONNECT: RFC 8441 §5 keeps "the same semantics" for the subprotocol and
 * extension headers): the subprotocol chosen and the extensions accepted.
 * @internal
 */
export function completeNegotiation(
  request: ClientRequest,
  headers: HeaderMap,
  flat: Record<string, string>,
  fail: (code: HandshakeErrorKind, message: string, cause?: unknown) => never,
): ClientHandshakeResult {
  // Item 6: a subprotocol "that was not present in the client's handshake" fails.
  // §4.2.2 item 5: the server answers with "a single value"; a list (`a, b`, `chat, chat`,
  // also two header lines) is no offered value and fails. An empty value names no
  // subprotocol: it is taken as none chosen, as the WHATWG WebSocket does.
  let protocol = '';
  const chosen = joinHeader(headers['sec-websocket-protocol']);
  if (chosen !== undefined && trimOws(chosen) !== '') {
    protocol = trimOws(chosen);
    if (request.protocols.length === 0) fail('INVALID_PROTOCOL', `The server chose subprotocol ${JSON.stringify(protocol)} but none was offered`);
    if (!request.protocols.includes(protocol)) {
      fail('INVALID_PROTOCOL', `The server chose subprotocol ${JSON.stringify(protocol)}, which is not one offered (${request.protocols.join(', ')})`);
    }
  }
  const extensionsHeader = joinHeader(headers['sec-websocket-extensions']) ?? '';
  const extensions = completeExtensions(request, extensionsHeader, fail);
  return { protocol, extensionsHeader, extensions, headers: flat };
}

function completeExtensions(
  request: ClientRequest,
  header: string,
  fail: (code: 'INVALID_EXTENSIONS' | 'EXTENSION_REJECTED', message: string, cause?: unknown) => never,
): Extension[] {
  let entries: ExtensionOffer[];
  try {
    entries = parseExtensions(header);
  } catch (err) {
    return fail('INVALID_EXTENSIONS', (err as Error).message, err);
  }
  const active: Extension[] = [];
  try {
    const offered = new Set(request.offers.map((o) => o.name));
    const used = new Set<string>();
    let rsvTaken = 0;
    for (const entry of entries) {
      // Item 5: "the use of an extension that was not present in the client's handshake
      // ... MUST _Fail the WebSocket Connection_."
      const factory = request.factories.find((f) => f.name === entry.name);
      if (!offered.has(entry.name) || factory === undefined) {
        fail('INVALID_EXTENSIONS', `The server accepted extension ${JSON.stringify(entry.name)}, which was not offered`);
      }
      if (used.has(entry.name)) fail('INVALID_EXTENSIONS', `The server accepted extension ${JSON.stringify(entry.name)} twice`);
      used.add(entry.name);
      let ext: Extension;
      try {
        ext = factory.complete(entry);
      } catch (err) {
        return fail('EXTENSION_REJECTED', `Extension ${entry.name} refused the server's response: ${(err as Error)?.message ?? String(err)}`, err);
      }
      active.push(ext);
      if ((ext.rsvBits & rsvTaken) !== 0) fail('INVALID_EXTENSIONS', `Extensions accepted by the server claim the same RSV bits (${ext.name})`);
      rsvTaken |= ext.rsvBits;
    }
    return active;
  } catch (err) {
    for (const ext of active) ext.close();
    throw err;
  }
}
