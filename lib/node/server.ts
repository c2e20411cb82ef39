import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import type { SecureContextOptions, TLSSocket, TlsOptions } from 'node:tls';
import { validateUpgradeRequest } from '../handshake/server-handshake';
import { broadcast, type BroadcastOptions, type BroadcastResult } from '../streams/broadcast';
import type { Connection } from '../streams/connection';
import type { BinaryData } from '../streams/outgoing';
import { reportError } from './http-util';
import { DEFAULT_HANDSHAKE_TIMEOUT } from './server-decision';
import { attach, type AcceptedConnection, type PathMatcher, type ServerOptions, type UpgradeContext, type UpgradeDecision } from './upgrade';
import { listenUnix } from './unix-socket';

/** Options of `serve`: where to listen, and how to handshake and run connections. */
export interface ServeOptions<D extends UpgradeDecision = UpgradeDecision> extends ServerOptions<D> {
  /** Interface to listen on. Default: node's (every interface); tests and tools pass `'127.0.0.1'`. */
  host?: string;
  /** Port; 0 (the default) picks a free one, see `handle.port`. */
  port?: number;
  /** Serve `wss:` with these TLS options (`key`, `cert`, `ca`, ...). */
  tls?: SecureContextOptions & TlsOptions;
  /** Pathname to accept (query ignored); other paths get 404. Default: every path. */
  path?: PathMatcher;
  /**
   * Listen on this Unix domain socket instead of `host`/`port` (`url` is then
   * `ws+unix://<absolute path>`). A socket file nobody accepts on (left by a process that
   * died) is replaced; a live one, or another kind of file, fails with `EADDRINUSE`.
   */
  socketPath?: string;
  /** Largest request head, in bytes, node's HTTP parser accepts (431 past it). Default 16 KiB, node's own. */
  maxHeaderSize?: number;
  /**
   * Serve WebSockets over HTTP/2 as well (RFC 8441): an `http2.createSecureServer` that
   * offers `h2` and `http/1.1` by ALPN (`allowHTTP1`), advertises
   * SETTINGS_ENABLE_CONNECT_PROTOCOL and runs each extended CONNECT as a stream of its
   * session, while HTTP/1.1 upgrades keep working on the same port. Needs `tls` (for
   * cleartext h2c, `attach` to an `http2.createServer`). Default `false`.
   */
  http2?: boolean;
}

/** The node server `serve` makes for options `O`: an `Http2SecureServer` when they say `http2: true`. */
export type ServerOf<O> = O extends {
  /** Serving WebSockets over HTTP/2 too. */
  readonly http2: true;
} ? Http2SecureServer : HttpServer | HttpsServer;

/** A running WebSocket server; `S` is the node server under it (an `Http2SecureServer` with `http2: true`). */
export interface WebSocketServerHandle<S extends HttpServer | HttpsServer | Http2SecureServer = HttpServer | HttpsServer> {
  /** Where it listens (a Unix socket: its absolute path as `host`, port 0). */
  readonly address: {
    /** The IP address listened on, or the Unix socket's absolute path. */
    readonly host: string;
    /** The TCP port listened on (0 for a Unix socket). */
    readonly port: number;
  };
  /** The TCP port listened on (the one chosen when asked for port 0). */
  readonly port: number;
  /** `ws://host:port` (or `wss://`), an IPv6 host in brackets. */
  readonly url: string;
  /** Open connections. */
  readonly connections: ReadonlySet<Connection>;
  /** The underlying node server (for `'clientError'`, metrics, ...). */
  readonly server: S;
  /**
   * Sends one message to every open connection, encoded once, skipping connections with more
   * than `maxBuffered` bytes queued: `broadcast(handle.connections, data, options)` (see
   * `broadcast()` for the rules). Returns at once with the counts.
   */
  broadcast(data: string | BinaryData, options?: BroadcastOptions): BroadcastResult;
  /**
   * Stops listening, drops handshakes in progress, closes every connection with 1001
   * (going away) and resolves once all of them and the server are closed.
   */
  close(): Promise<void>;
}

/**
 * The handshake deadline applied before the upgrade too: `handshakeTimeout` runs from the
 * `'upgrade'` event, which fires only once the whole request head is in, so a client that
 * trickles its request (slowloris) or sends none would otherwise be dropped only by node's
 * own defaults (60 s for the head, checked every 30 s: 90 s measured). Node answers such a
 * socket 408 and closes it; the check runs every tenth of the deadline (at least 100 ms).
 */
function requestHeadDeadline(handshakeTimeout: number | undefined): { headersTimeout?: number; requestTimeout?: number; connectionsCheckingInterval?: number } {
  const ms = handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
  if (ms === 0) return {};
  return { headersTimeout: ms, requestTimeout: ms, connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.ceil(ms / 10))) };
}

/**
 * Starts a standalone WebSocket server (`ws:`, or `wss:` with `tls`) and calls `handler`
 * with each connection. Plain HTTP requests are answered `426 Upgrade Required`. A handler
 * that throws or rejects is reported to `onError` (default `console.error`) and its
 * connection is closed with 1011; it never becomes an uncaught exception.
 *
 * @example
 * ```ts
 * const server = await serve({ host: '127.0.0.1', port: 8080 }, (conn) => conn.readable.pipeTo(conn.writable));
 * console.log(`echo server on ${server.url}`);
 * ```
 */
export async function serve<D extends UpgradeDecision = UpgradeDecision, O extends ServeOptions<D> = ServeOptions<D>>(
  options: O & ServeOptions<D>,
  handler: (conn: AcceptedConnection<UpgradeContext<D>>) => void | Promise<void>,
): Promise<WebSocketServerHandle<ServerOf<O>>> {
  const onError = options.onError ?? reportError;
  const httpOptions = { ...(options.maxHeaderSize === undefined ? {} : { maxHeaderSize: options.maxHeaderSize }), ...requestHeadDeadline(options.handshakeTimeout) };
  if (options.http2 === true && options.tls === undefined) {
    throw new TypeError('serve({ http2: true }) needs tls: browsers speak HTTP/2 over TLS only (for cleartext h2c, attach to an http2.createServer)');
  }
  const h2 = options.http2 === true ? http2Server(options.tls!, httpOptions.maxHeaderSize) : undefined;
  const server: HttpServer | HttpsServer | Http2SecureServer = h2?.server ?? (options.tls
    ? createHttpsServer({ ...options.tls, ...httpOptions }, answerPlainRequest)
    : createHttpServer(httpOptions, answerPlainRequest));

  const failHandler = (conn: Connection, err: unknown): void => {
    onError(err);
    try {
      void conn.close(1011, 'Internal error');
    } catch {
      // Already closing: the close in progress stands.
    }
  };
  const attachment = attach(server, options, (conn) => {
    let result: void | Promise<void>;
    try {
      result = handler(conn);
    } catch (err) {
      failHandler(conn, err);
      return;
    }
    if (result !== undefined && typeof (result as Promise<void>).then === 'function') {
      (result as Promise<void>).then(undefined, (err: unknown) => failHandler(conn, err));
    }
  });

  const scheme = options.tls ? 'wss' : 'ws';
  let host: string;
  let port = 0;
  let url: string;
  if (options.socketPath !== undefined) {
    host = resolvePath(options.socketPath);
    await listenUnix(server, host);
    url = `${scheme}+unix://${host}`;
  } else {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const info = server.address() as AddressInfo;
    host = info.address;
    port = info.port;
    url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }
  let closing: Promise<void> | undefined;
  return {
    address: { host, port },
    port,
    url,
    connections: attachment.connections,
    // `server` is an Http2SecureServer exactly when `options.http2` is true, as ServerOf says.
    server: server as ServerOf<O>,
    broadcast: (data, broadcastOptions) => broadcast(attachment.connections, data, broadcastOptions),
    close(): Promise<void> {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        if (h2 !== undefined) {
          await attachment.close(1001, 'Server shutting down');
          h2.closeAll();
        } else {
          const http1 = server as HttpServer | HttpsServer;
          http1.closeIdleConnections();
          await attachment.close(1001, 'Server shutting down');
          http1.closeAllConnections();
        }
        await stopped;
      })();
      return closing;
    },
  };
}

/**
 * The server of `serve({ http2: true })`, and what closes every session and socket it has
 * (node's HTTP/2 server has no `closeAllConnections()`): each session gets a GOAWAY once its
 * WebSockets are closed, and HTTP/1.1 sockets (ALPN `http/1.1`) are dropped, as `serve` drops them.
 */
function http2Server(tls: SecureContextOptions & TlsOptions, maxHeaderSize: number | undefined): { server: Http2SecureServer; closeAll(): void } {
  const server = createSecureServer({
    ...tls,
    allowHTTP1: true,
    // HTTP/2's bound on a request's header block (RFC 9113 §6.5.2), advertised to clients.
    settings: { enableConnectProtocol: true, ...(maxHeaderSize === undefined ? {} : { maxHeaderListSize: maxHeaderSize }) },
  }, answerPlainRequest);
  const sessions = new Set<ServerHttp2Session>();
  const http1Sockets = new Set<TLSSocket>();
  server.on('session', (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    // WebSocket frames are written whole (one write per frame or batch); Nagle would only delay them.
    socket.setNoDelay(true);
    if (socket.alpnProtocol === 'h2') return;
    http1Sockets.add(socket);
    socket.once('close', () => http1Sockets.delete(socket));
  });
  return {
    server,
    closeAll(): void {
      for (const session of sessions) session.close();
      for (const socket of http1Sockets) socket.destroy();
    },
  };
}

/**
 * Ordinary HTTP requests to a WebSocket-only server. RFC 7231 §6.5.15: a 426 "MUST send an
 * Upgrade header field to indicate the required protocol(s)". A request that tried to
 * upgrade but is malformed (no `Connection: upgrade`, so node did not treat it as one) is
 * told what is wrong instead.
 */
function answerPlainRequest(req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse): void {
  if (req.httpVersionMajor >= 2) {
    // HTTP/2 has no Upgrade (RFC 9113 §8.6): a WebSocket comes as an extended CONNECT.
    const body = 'This is a WebSocket server: open a WebSocket with an extended CONNECT (RFC 8441)';
    res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  answerHttp1Request(req as IncomingMessage, res as ServerResponse);
}

function answerHttp1Request(req: IncomingMessage, res: ServerResponse): void {
  if (req.headers.upgrade !== undefined) {
    const checked = validateUpgradeRequest(req.method ?? '', req.httpVersion, req.headers);
    if (!checked.ok) {
      res.writeHead(checked.status, {
        ...checked.headers,
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Length': Buffer.byteLength(checked.reason),
        Connection: 'close',
      });
      res.end(checked.reason);
      return;
    }
  }
  const body = 'This is a WebSocket server: connect with a WebSocket client';
  res.writeHead(426, {
    Upgrade: 'websocket',
    // `Upgrade` is hop-by-hop, so it is listed; `close`: a WebSocket-only server has nothing
    // more to say on this HTTP connection.
    Connection: 'Upgrade, close',
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}
