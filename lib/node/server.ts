import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { SecureContextOptions, TlsOptions } from 'node:tls';
import { validateUpgradeRequest } from '../handshake/server-handshake';
import type { Connection } from '../streams/connection';
import { reportError } from './http-util';
import { attach, type AcceptedConnection, type PathMatcher, type ServerOptions, type UpgradeContext, type UpgradeDecision } from './upgrade';

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
  /** Largest request head, in bytes, node's HTTP parser accepts (431 past it). Default 16 KiB, node's own. */
  maxHeaderSize?: number;
}

/** A running WebSocket server. */
export interface WebSocketServerHandle {
  /** Where it listens. */
  readonly address: { readonly host: string; readonly port: number };
  readonly port: number;
  /** `ws://host:port` (or `wss://`), an IPv6 host in brackets. */
  readonly url: string;
  /** Open connections. */
  readonly connections: ReadonlySet<Connection>;
  /** The underlying node server (for `'clientError'`, metrics, ...). */
  readonly server: HttpServer | HttpsServer;
  /**
   * Stops listening, drops handshakes in progress, closes every connection with 1001
   * (going away) and resolves once all of them and the server are closed.
   */
  close(): Promise<void>;
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
export async function serve<D extends UpgradeDecision = UpgradeDecision>(
  options: ServeOptions<D>,
  handler: (conn: AcceptedConnection<UpgradeContext<D>>) => void | Promise<void>,
): Promise<WebSocketServerHandle> {
  const onError = options.onError ?? reportError;
  const httpOptions = options.maxHeaderSize === undefined ? {} : { maxHeaderSize: options.maxHeaderSize };
  const server: HttpServer | HttpsServer = options.tls
    ? createHttpsServer({ ...options.tls, ...httpOptions }, answerPlainRequest)
    : createHttpServer(httpOptions, answerPlainRequest);

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

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const info = server.address() as AddressInfo;
  const scheme = options.tls ? 'wss' : 'ws';
  const host = info.address;
  const url = `${scheme}://${host.includes(':') ? `[${host}]` : host}:${info.port}`;
  let closing: Promise<void> | undefined;
  return {
    address: { host, port: info.port },
    port: info.port,
    url,
    connections: attachment.connections,
    server,
    close(): Promise<void> {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await attachment.close(1001, 'Server shutting down');
        server.closeAllConnections();
        await stopped;
      })();
      return closing;
    },
  };
}

/**
 * Ordinary HTTP requests to a WebSocket-only server. RFC 7231 §6.5.15: a 426 "MUST send an
 * Upgrade header field to indicate the required protocol(s)". A request that tried to
 * upgrade but is malformed (no `Connection: upgrade`, so node did not treat it as one) is
 * told what is wrong instead.
 */
function answerPlainRequest(req: IncomingMessage, res: ServerResponse): void {
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
