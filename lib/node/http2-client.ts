// The client side of RFC 8441: a WebSocket opened as an extended CONNECT on a pooled HTTP/2
// session, with HTTP/1.1 as the fallback the caller allows (or not).
import { constants, type ClientHttp2Stream, type IncomingHttpHeaders, type IncomingHttpStatusHeader } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { ClientRequest } from '../handshake/client-handshake';
import { HandshakeError } from '../handshake/errors';
import { buildExtendedConnectHeaders, validateExtendedConnectResponse } from '../handshake/extended-connect';
import { systemClock } from '../streams/clock';
import { Connection } from '../streams/connection';
import type { HandshakeInfo } from '../streams/connection-init';
import type { ClientOptions } from './client';
import { collectBody, MAX_REFUSAL_BODY } from './http-util';
import { Http2StreamTransport } from './http2-stream-transport';
import { sharedHttp2Pool, type Acquired, type NoHttp2Reason } from './http2-session-pool';
import { isRedirect, redirectError } from './redirects';
import { nodeRuntime } from './runtime';

/** Options of `connect(url, { http2: { … } })`: WebSockets over HTTP/2 (RFC 8441). */
export interface Http2ConnectOptions {
  /**
   * What to do when the server cannot take a WebSocket over HTTP/2: TLS ALPN does not choose
   * `h2`, cleartext prior knowledge (h2c) finds no HTTP/2, or its SETTINGS lack
   * SETTINGS_ENABLE_CONNECT_PROTOCOL. `true` opens the WebSocket over HTTP/1.1 instead (on the
   * TLS connection ALPN already made, when there is one); `false`, the default, fails with a
   * `HandshakeError` of kind `HTTP2_UNSUPPORTED`.
   */
  fallbackToHttp1?: boolean;
  /**
   * Ms a session whose last WebSocket ended stays open for the next one to its origin, timed
   * on the connection's `clock`; 0 closes it as soon as its last WebSocket ends. An idle
   * session never keeps the process alive. Default 5 000.
   */
  sessionIdleTimeout?: number;
}

const DEFAULT_SESSION_IDLE_TIMEOUT = 5000;

const WHY: Readonly<Record<NoHttp2Reason, string>> = {
  alpn: 'TLS ALPN did not choose h2',
  'no-h2c': 'it does not speak cleartext HTTP/2 (h2c) with prior knowledge',
  'no-connect-protocol': 'its HTTP/2 SETTINGS do not enable the extended CONNECT protocol (RFC 8441 §3)',
};

/** @internal The `http2` option as its parts, with the defaults; bad values throw now. */
export function http2Settings(option: ClientOptions['http2']): Required<Http2ConnectOptions> | undefined {
  if (option === undefined || option === false) return undefined;
  const given = option === true ? {} : option;
  const sessionIdleTimeout = given.sessionIdleTimeout ?? DEFAULT_SESSION_IDLE_TIMEOUT;
  if (!(sessionIdleTimeout >= 0)) throw new RangeError(`http2.sessionIdleTimeout must be ≥ 0, got ${sessionIdleTimeout}`);
  return { fallbackToHttp1: given.fallbackToHttp1 === true, sessionIdleTimeout };
}

/**
 * @internal Opens the WebSocket of `request` as a stream of the origin's HTTP/2 session.
 * When the server cannot, `http1(socket)` opens it over HTTP/1.1 if the caller allows it
 * (`socket`: the TLS connection ALPN made, to reuse), else it fails with `HTTP2_UNSUPPORTED`.
 */
export function openOverHttp2(
  request: ClientRequest,
  options: ClientOptions,
  settings: Required<Http2ConnectOptions>,
  timeout: number,
  http1: (socket: TLSSocket | undefined) => Promise<Connection>,
): Promise<Connection> {
  return new Promise<Connection>((resolve, reject) => {
    const clock = options.clock ?? systemClock;
    const signal = options.signal;
    let settled = false;
    let timer: unknown;
    let stream: ClientHttp2Stream | undefined;
    let release: (() => void) | undefined;
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      return true;
    };
    const gaveUp = new AbortController();
    const fail = (err: unknown): void => {
      if (!settle()) return;
      gaveUp.abort();
      if (stream !== undefined && !stream.closed) stream.close(constants.NGHTTP2_CANCEL);
      reject(err);
    };
    const onAbort = (): void => fail(new HandshakeError('ABORTED', 'The WebSocket handshake was aborted', { cause: signal?.reason }));
    if (signal?.aborted) {
      onAbort();
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    if (timeout > 0) {
      timer = clock.setTimeout(() => fail(new HandshakeError('TIMEOUT', `The WebSocket handshake over HTTP/2 with ${request.url.href} did not finish within ${timeout} ms`)), timeout);
    }

    const onSession = (acquired: Acquired): void => {
      if (!acquired.ok) {
        if (settled) {
          acquired.socket?.destroy();
          return;
        }
        if (settings.fallbackToHttp1) {
          settle();
          http1(acquired.socket).then(resolve, reject);
          return;
        }
        acquired.socket?.destroy();
        fail(new HandshakeError('HTTP2_UNSUPPORTED', `Could not open a WebSocket over HTTP/2 to ${request.url.origin}: ${WHY[acquired.reason]}; pass http2: { fallbackToHttp1: true } to use HTTP/1.1 then`));
        return;
      }
      release = acquired.release;
      if (settled) {
        release();
        return;
      }
      let s: ClientHttp2Stream;
      try {
        s = acquired.session.request(buildExtendedConnectHeaders(request), { endStream: false });
      } catch (err) {
        release();
        fail(err);
        return;
      }
      stream = s;
      // The session is this WebSocket's until its stream closes, whichever way.
      s.once('close', release);
      s.on('error', (err: Error) => fail(new HandshakeError('CONNECTION_FAILED', `The WebSocket stream to ${request.url.href} failed: ${err.message}`, { cause: err })));
      s.once('close', () => fail(new HandshakeError('CONNECTION_FAILED', `The server closed the WebSocket stream to ${request.url.href} (HTTP/2 error code ${s.rstCode ?? 0}) before answering`)));
      s.once('response', (headers: IncomingHttpHeaders & IncomingHttpStatusHeader) => onResponse(s, acquired.session.socket as TLSSocket | undefined, headers));
    };

    const onResponse = (s: ClientHttp2Stream, socket: TLSSocket | undefined, headers: IncomingHttpHeaders & IncomingHttpStatusHeader): void => {
      if (settled) return;
      const status = headers[':status'] ?? 0;
      if (!(status >= 200 && status <= 299)) {
        collectBody(s, MAX_REFUSAL_BODY, (body) => {
          try {
            validateExtendedConnectResponse(request, status, headers);
          } catch (err) {
            const e = err as HandshakeError;
            const flat = e.headers as Record<string, string>;
            fail(isRedirect(status) ? redirectError(status, flat, body, request.url) : new HandshakeError(e.kind, e.message, { status, headers: flat, body }));
          }
        });
        return;
      }
      let conn: Connection;
      let active: ReturnType<typeof validateExtendedConnectResponse>['extensions'] = [];
      try {
        const result = validateExtendedConnectResponse(request, status, headers);
        active = result.extensions;
        const connectHeaders = buildExtendedConnectHeaders(request);
        const requestHeaders: Record<string, string> = {};
        for (const name of Object.keys(connectHeaders)) if (!name.startsWith(':')) requestHeaders[name] = connectHeaders[name];
        const handshake: HandshakeInfo = {
          path: request.path,
          url: request.url.href,
          protocol: result.protocol,
          extensions: result.extensionsHeader,
          requestHeaders,
          responseHeaders: result.headers,
          remoteAddress: socket?.remoteAddress,
          remotePort: socket?.remotePort,
        };
        conn = new Connection(new Http2StreamTransport(s, { highWaterMark: options.sendHighWaterMark }), {
          role: 'client',
          handshake,
          activeExtensions: result.extensions,
          options,
          runtime: nodeRuntime,
        });
      } catch (err) {
        for (const ext of active) ext.close();
        fail(err);
        return;
      }
      if (settle()) resolve(conn);
    };

    sharedHttp2Pool.acquire(request.url, { tls: options.tls, clock, idleTimeout: settings.sessionIdleTimeout }, gaveUp.signal).then(onSession, (err: Error) =>
      fail(new HandshakeError('CONNECTION_FAILED', `Could not open an HTTP/2 session to ${request.url.origin}: ${err.message}`, { cause: err })));
  });
}
