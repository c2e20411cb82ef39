// The server side of RFC 8441 (WebSockets over HTTP/2) on node's http2 module: the extended
// CONNECT is checked and answered here, then the stream carries the same Connection as a socket.
import type { Http2SecureServer, Http2Server, IncomingHttpHeaders, OutgoingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { constants } from 'node:http2';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { validateExtendedConnect } from '../handshake/extended-connect';
import { flattenHeaders } from '../handshake/header-values';
import type { ResponseHeaders } from '../handshake/server-handshake';
import type { Extension } from '../protocol/extension';
import type { Connection } from '../streams/connection';
import type { HandshakeInfo } from '../streams/connection-init';
import { reportError } from './http-util';
import { Http2StreamTransport } from './http2-stream-transport';
import { decide, DEFAULT_HANDSHAKE_TIMEOUT, startServerConnection, type Verdict } from './server-decision';
import type { AcceptedConnection, ServerOptions, UpgradeContext, UpgradeDecision, UpgradeRequestInfo } from './upgrade';

const noop = (): void => undefined;

/** Response headers the handshake sets itself (RFC 6455 §4.2.2 as RFC 8441 §5 keeps them), or HTTP/2 forbids (RFC 9113 §8.2.2). */
const OWN_HEADERS = new Set(['sec-websocket-protocol', 'sec-websocket-extensions', 'sec-websocket-accept', 'upgrade', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding']);
/** Headers a refusal's body decides. */
const BODY_HEADERS = new Set(['content-length', 'transfer-encoding', 'upgrade', 'connection', 'keep-alive', 'proxy-connection']);

/** Resets a stream with CANCEL (RFC 8441 §5: how a WebSocket over HTTP/2 is aborted). */
function cancel(stream: ServerHttp2Stream): void {
  if (!stream.destroyed && !stream.closed) stream.close(constants.NGHTTP2_CANCEL);
}

/**
 * Performs the server side of a WebSocket opening handshake over HTTP/2 (RFC 8441) on a
 * stream whose request is an extended CONNECT, then calls `onConnection` with the open
 * `Connection` running on that stream. The checks, `onRequest`, subprotocol choice and
 * extension negotiation are those of `handleUpgrade`; the answer is `200` with the
 * negotiated `sec-websocket-protocol` and `sec-websocket-extensions` (no
 * `Sec-WebSocket-Accept`: RFC 8441 §5 does not use it), or a refusal with its status and a
 * plain-text body. Only statuses 300–599 can refuse over HTTP/2 (a 2xx would open the
 * tunnel): an `onRequest` answering another is reported to `onError` and refused with 500.
 * Nothing throws.
 *
 * @example
 * ```ts
 * h2server.on('stream', (stream, headers) => {
 *   if (headers[':method'] === 'CONNECT' && headers[':protocol'] === 'websocket')
 *     handleExtendedConnect(stream, headers, {}, (conn) => conn.readable.pipeTo(conn.writable));
 * });
 * ```
 */
export function handleExtendedConnect<D extends UpgradeDecision = UpgradeDecision>(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  options: ServerOptions<D>,
  onConnection: (conn: AcceptedConnection<UpgradeContext<D>>) => void,
): void {
  // The context handed over is the one onRequest returned: the cast only restores that type.
  void runExtendedConnect(stream, headers, options as ServerOptions, onConnection as (conn: Connection) => unknown);
}

async function runExtendedConnect(
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  options: ServerOptions,
  onConnection: (conn: Connection) => unknown,
): Promise<void> {
  const onError = options.onError ?? reportError;
  // Until a transport owns the stream, a reset must not become an uncaught 'error'.
  stream.on('error', noop);
  const timeout = options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
  const timer = timeout > 0 ? setTimeout(() => cancel(stream), timeout) : undefined;
  const gone = (): boolean => stream.destroyed || stream.closed;
  let extensions: Extension[] = [];
  let responded = false;
  try {
    const checked = validateExtendedConnect(headers);
    if (!checked.ok) {
      refuseStream(stream, checked.status, checked.headers, checked.reason);
      return;
    }
    const requestHeaders = plainHeaders(headers);
    const path = String(headers[':path']);
    const socket = stream.session?.socket;
    const info: UpgradeRequestInfo = {
      method: 'CONNECT',
      path,
      url: `${headers[':scheme'] === 'https' ? 'wss' : 'ws'}://${String(headers[':authority'])}${path}`,
      origin: requestHeaders.origin,
      headers: requestHeaders,
      protocols: checked.protocols,
      extensions: checked.extensions,
      remoteAddress: socket?.remoteAddress,
      remotePort: socket?.remotePort,
      raw: stream,
    };
    const verdict = await decide(info, checked, options, onError, gone);
    if (verdict === undefined) return;
    if (!verdict.accept) {
      refuseStream(stream, verdict.status, verdict.headers, verdict.body, onError);
      return;
    }
    extensions = verdict.negotiation.extensions;
    const response = acceptBlock(verdict);
    if (gone()) {
      for (const ext of extensions) ext.close();
      return;
    }
    clearTimeout(timer);
    stream.respond(response);
    responded = true;
    const responseHeaders: Record<string, string> = {};
    for (const name of Object.keys(response)) if (name !== ':status') responseHeaders[name] = String(response[name]);
    const handshake: HandshakeInfo = {
      context: verdict.context,
      path,
      url: info.url,
      protocol: verdict.protocol,
      extensions: verdict.negotiation.header,
      requestHeaders,
      responseHeaders,
      remoteAddress: info.remoteAddress,
      remotePort: info.remotePort,
    };
    const transport = new Http2StreamTransport(stream, { highWaterMark: options.sendHighWaterMark });
    stream.off('error', noop);
    startServerConnection(transport, handshake, verdict, options, undefined, onConnection, onError);
    extensions = [];
  } catch (err) {
    for (const ext of extensions) ext.close();
    onError(err);
    // After the 200 the stream carries WebSocket frames: no HTTP answer fits.
    if (responded) cancel(stream);
    else refuseStream(stream, 500, undefined, 'Internal Server Error');
  } finally {
    clearTimeout(timer);
  }
}

/** Request headers without the pseudo-headers, lower-case names, repeated ones joined with `, `. */
function plainHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const plain: IncomingHttpHeaders = {};
  for (const name of Object.keys(headers)) if (!name.startsWith(':')) plain[name] = headers[name];
  return flattenHeaders(plain);
}

/** The 200 that accepts (RFC 8441 §5), with what was agreed and the user's headers; a handshake header among those throws a `TypeError`. */
function acceptBlock(verdict: Verdict & { accept: true }): OutgoingHttpHeaders {
  const block = userBlock(200, verdict.headers, OWN_HEADERS, 'is set by the WebSocket handshake');
  if (verdict.protocol !== '') block['sec-websocket-protocol'] = verdict.protocol;
  if (verdict.negotiation.header !== '') block['sec-websocket-extensions'] = verdict.negotiation.header;
  return block;
}

function userBlock(status: number, headers: ResponseHeaders | undefined, forbidden: ReadonlySet<string>, why: string): OutgoingHttpHeaders {
  const block: OutgoingHttpHeaders = { ':status': status };
  for (const name of Object.keys(headers ?? {})) {
    const lower = name.toLowerCase();
    if (lower.startsWith(':') || forbidden.has(lower)) throw new TypeError(`Header ${name} ${why} and cannot be given`);
    const value = headers![name];
    // node checks names and values (no CR, LF or NUL: no header injection) when the block is sent.
    block[lower] = typeof value === 'object' ? value.map(String) : String(value);
  }
  return block;
}

/**
 * @internal Answers a refused extended CONNECT with `status` and a body, then ends the
 * stream. A string body goes as UTF-8 plain text. A status outside 300–599 or bad user
 * headers turn into a 500 (reported to `onError`).
 */
export function refuseStream(
  stream: ServerHttp2Stream,
  status: number,
  headers: ResponseHeaders | undefined,
  body: string | Uint8Array,
  onError: (error: unknown) => void = reportError,
): void {
  if (stream.destroyed || stream.closed || stream.headersSent) return;
  let bytes = typeof body === 'string' ? Buffer.from(body) : body;
  try {
    // RFC 9110 §9.3.6: "Any 2xx (Successful) response indicates that the sender ... will
    // switch to tunnel mode": a refusal has to be something else.
    if (!Number.isInteger(status) || status < 300 || status > 599) {
      throw new RangeError(`A handshake refusal over HTTP/2 needs a status from 300 to 599, got ${status}`);
    }
    const block = userBlock(status, headers, BODY_HEADERS, 'is computed from the body');
    if (typeof body === 'string' && bytes.length > 0 && block['content-type'] === undefined) block['content-type'] = 'text/plain; charset=utf-8';
    block['content-length'] = bytes.length;
    stream.respond(block);
  } catch (err) {
    onError(err);
    bytes = Buffer.from('Internal Server Error');
    stream.respond({ ':status': 500, 'content-type': 'text/plain; charset=utf-8', 'content-length': bytes.length });
  }
  stream.end(bytes);
}

/**
 * @internal Makes `server` advertise SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3) to new
 * sessions and calls `onWebSocket` with each extended CONNECT whose `:protocol` is
 * `websocket`; returns what undoes it (sessions already open keep the setting).
 *
 * node's compatibility layer (active once the server has a `'request'` listener) turns every
 * CONNECT into a `'connect'` event and answers 405 when nobody listens: the listener added
 * here claims the WebSocket ones, and does what node would for the others when it is alone
 * (405 on HTTP/2, the socket dropped on HTTP/1.1).
 */
export function listenForExtendedConnect(
  server: Http2SecureServer | Http2Server,
  onWebSocket: (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => void,
): () => void {
  server.updateSettings({ enableConnectProtocol: true });
  const onStream = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void => {
    if (headers[':method'] === 'CONNECT' && headers[':protocol'] === 'websocket') onWebSocket(stream, headers);
  };
  const onConnect = (req: IncomingMessage | { readonly stream: ServerHttp2Stream; readonly headers: IncomingHttpHeaders }, resOrSocket: ServerResponse | Duplex): void => {
    const h2 = 'stream' in req;
    if (h2 && req.headers[':protocol'] === 'websocket') return;
    if (server.listenerCount('connect') > 1) return;
    if (h2) refuseStream(req.stream, 405, undefined, '');
    else (resOrSocket as Duplex).destroy();
  };
  server.on('stream', onStream);
  server.on('connect', onConnect);
  return () => {
    server.off('stream', onStream);
    server.off('connect', onConnect);
    server.updateSettings({ enableConnectProtocol: false });
  };
}
