import { STATUS_CODES, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Http2SecureServer, Http2Server, ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import { flattenHeaders } from '../handshake/header-values';
import { buildAcceptResponse, buildRejectionResponse, validateUpgradeRequest, type ResponseHeaders } from '../handshake/server-handshake';
import type { Extension, ExtensionFactory, ExtensionOffer } from '../protocol/extension';
import type { PerMessageDeflateSetting } from './deflate-option';
import { resolveOptions } from '../streams/connection-options';
import { Connection } from '../streams/connection';
import type { ConnectionOptions, HandshakeInfo } from '../streams/connection-init';
import { computeAcceptSync, reportError } from './http-util';
import { decide, DEFAULT_HANDSHAKE_TIMEOUT, startServerConnection } from './server-decision';
import { handleExtendedConnect, listenForExtendedConnect, refuseStream } from './http2-upgrade';
import { SocketTransport } from './socket-transport';

/** What the accept/reject hook and the subprotocol callback see of an upgrade request. */
export interface UpgradeRequestInfo {
  /** The HTTP method: `GET` for an HTTP/1.1 upgrade, `CONNECT` for an HTTP/2 extended CONNECT (RFC 8441). */
  readonly method: string;
  /** Request target as sent (`/chat?room=1`). */
  readonly path: string;
  /** `ws://` or `wss://` + Host + path. */
  readonly url: string;
  /** `Origin` header, if any (RFC 6455 §10.2: check it to refuse cross-site browser pages). */
  readonly origin: string | undefined;
  /** Request headers, lower-case names, repeated lines joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  /** Subprotocols the client offers, in its order. */
  readonly protocols: readonly string[];
  /** Extension offers of the client, in header order. */
  readonly extensions: readonly ExtensionOffer[];
  /** The client's IP address. */
  readonly remoteAddress: string | undefined;
  /** The client's TCP port. */
  readonly remotePort: number | undefined;
  /**
   * node's request, for what the fields above do not carry (TLS peer certificate, ...): the
   * `IncomingMessage` of an HTTP/1.1 upgrade, the `ServerHttp2Stream` of an HTTP/2 extended
   * CONNECT (its `session.socket` is the TLS socket).
   */
  readonly raw: IncomingMessage | ServerHttp2Stream;
}

/**
 * What the accept/reject hook answers: `true` or nothing accepts, `false` refuses with 403,
 * `{ headers?, context? }` accepts, adds response headers and hands `context` to the
 * connection (`conn.handshake.context`), `{ status, headers?, body? }` refuses with that
 * status (200–599).
 */
export type UpgradeDecision =
  | boolean
  | undefined
  | void
  | {
      /** No status: the upgrade is accepted. */
      readonly status?: undefined;
      /** Headers to add to the 101. */
      readonly headers?: ResponseHeaders;
      /** Handed to the connection as `handshake.context`, the very object (what the hook learnt: the user of a token, say). */
      readonly context?: unknown;
    }
  | {
      /** The HTTP status to refuse with (200–599). */
      readonly status: number;
      /** Headers of the refusal. */
      readonly headers?: ResponseHeaders;
      /** Body of the refusal (text is sent as UTF-8). */
      readonly body?: string | Uint8Array;
    };

/**
 * The `handshake.context` a connection gets from an `onRequest` that answers `D`: the
 * `context` of each accepting answer, `undefined` for an accepting answer without one, and
 * nothing from refusals (a refused request never reaches the handler).
 *
 * @example
 * ```ts
 * type C = UpgradeContext<{ context: { user: string } } | { status: 401 }>; // { user: string }
 * ```
 */
export type UpgradeContext<D> = D extends false
  ? never
  : D extends {
      /** A refusal's status: such an answer reaches no handler. */
      readonly status: number;
    }
    ? never
    : D extends {
        /** What an accepting answer hands to the connection. */
        readonly context: infer C;
      }
      ? C
      : undefined;

/**
 * A connection as the handler of `serve`, `attach` or `handleUpgrade` receives it: its
 * `handshake.context` typed as what `onRequest` hands over. The same `Connection` object;
 * only its type says more (`Connection` itself is not generic, so every other API keeps
 * taking a plain `Connection`).
 */
export type AcceptedConnection<C = unknown> = Connection & {
  /** What the opening handshake settled, and the context `onRequest` handed over. */
  readonly handshake: HandshakeInfo & {
    /** The `context` of `onRequest`'s answer (`undefined` when it gave none). */
    readonly context: C;
  };
};

/**
 * How a server conducts the opening handshake, and the options of the connections it makes.
 * `D` is what `onRequest` answers, inferred from it: the handler's `conn.handshake.context`
 * is typed from it (see `UpgradeContext`).
 */
export interface ServerOptions<D extends UpgradeDecision = UpgradeDecision> extends ConnectionOptions {
  /**
   * Subprotocol selection: the server's supported protocols in its order of preference (the
   * first the client offers wins), or a callback given the client's offers that returns one
   * of them or `undefined` for none. Default: no subprotocol.
   */
  protocols?: readonly string[] | ((offered: readonly string[], request: UpgradeRequestInfo) => string | undefined);
  /**
   * Accept/reject hook, run after the request passed RFC 6455 validation. An accepting answer
   * may carry a `context` (what was learnt from the request), which the handler finds as
   * `conn.handshake.context`, typed: no second check of the request there.
   */
  onRequest?: (request: UpgradeRequestInfo) => D | Promise<D>;
  /** Headers added to every 101 response. */
  headers?: ResponseHeaders;
  /** Extensions the server supports, in its order of preference. */
  extensions?: readonly ExtensionFactory[];
  /**
   * Accept permessage-deflate (RFC 7692) on node:zlib: `true` with the defaults, or its
   * parameters (`serverNoContextTakeover`, `clientMaxWindowBits`, `level`, `threshold`, …).
   * Default off: the extension is declined.
   */
  perMessageDeflate?: PerMessageDeflateSetting;
  /** Ms from the upgrade request to our 101, the hook included; then the socket is dropped. Default 10 000; 0 disables. */
  handshakeTimeout?: number;
  /** Where errors of hooks and handlers go. Default `console.error`. */
  onError?: (error: unknown) => void;
}

const noop = (): void => undefined;
/** A peer that half-closes before our answer has given up on the handshake (bound by node as `this`). */
function destroyOnEnd(this: Duplex): void {
  this.destroy();
}

/**
 * Performs the server side of the opening handshake on a socket node's HTTP server handed
 * to its `'upgrade'` event, then calls `onConnection` with the open `Connection` (an async
 * handler's rejection, like a throw, goes to `onError` and closes that connection with 1011). Refusals
 * (RFC 6455 §4.2.1 violations, the `onRequest` hook) are answered here and the socket is
 * closed; nothing throws.
 *
 * @example
 * ```ts
 * server.on('upgrade', (req, socket, head) =>
 *   handleUpgrade(req, socket, head, {}, (conn) => conn.readable.pipeTo(conn.writable)));
 * ```
 */
export function handleUpgrade<D extends UpgradeDecision = UpgradeDecision>(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  options: ServerOptions<D>,
  onConnection: (conn: AcceptedConnection<UpgradeContext<D>>) => void,
): void {
  // The context handed over is the one onRequest returned: the cast only restores that type.
  void runHandshake(req, socket as Socket, head, options as ServerOptions, onConnection as (conn: Connection) => unknown);
}

async function runHandshake(
  req: IncomingMessage,
  socket: Socket,
  head: Buffer,
  options: ServerOptions,
  onConnection: (conn: Connection) => unknown,
): Promise<void> {
  const onError = options.onError ?? reportError;
  // Until a transport owns the socket, a reset must not become an uncaught 'error'.
  socket.on('error', noop);
  socket.on('end', destroyOnEnd);
  const timeout = options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
  const timer = timeout > 0 ? setTimeout(() => socket.destroy(), timeout) : undefined;
  let extensions: Extension[] = [];
  let switched = false;
  try {
    const earlier = (socket as { _httpMessage?: ServerResponse | null })._httpMessage;
    if (earlier != null && !(await pipelinedTurn(earlier, socket))) return;
    const checked = validateUpgradeRequest(req.method ?? '', req.httpVersion, req.headers);
    if (!checked.ok) {
      refuse(socket, checked.status, checked.headers, checked.reason);
      return;
    }
    const headers = flattenHeaders(req.headers);
    const secure = (socket as Partial<TLSSocket>).encrypted === true;
    const path = req.url ?? '/';
    const info: UpgradeRequestInfo = {
      method: 'GET',
      path,
      url: `${secure ? 'wss' : 'ws'}://${headers.host}${path}`,
      origin: headers.origin,
      headers,
      protocols: checked.protocols,
      extensions: checked.extensions,
      remoteAddress: socket.remoteAddress,
      remotePort: socket.remotePort,
      raw: req,
    };

    const verdict = await decide(info, checked, options, onError, () => socket.destroyed);
    if (verdict === undefined) return;
    if (!verdict.accept) {
      refuse(socket, verdict.status, verdict.headers, verdict.body, onError);
      return;
    }
    extensions = verdict.negotiation.extensions;
    const negotiated = verdict.negotiation.header;
    const accept = computeAcceptSync(checked.key);
    const response = buildAcceptResponse({ accept, protocol: verdict.protocol, extensions: negotiated, headers: verdict.headers });
    if (socket.destroyed) {
      for (const ext of extensions) ext.close();
      return;
    }
    clearTimeout(timer);
    socket.write(response);
    switched = true;
    // The request info reached user code (a hook kept it, maybe): the handshake shares its
    // headers object, as it always did. Otherwise nobody can see that object, and the
    // connection keeps the headers as one string until its handshake is asked for.
    const escaped = options.onRequest !== undefined || typeof options.protocols === 'function';
    const handshake = lazyHandshake(
      path, flatString(info.url), verdict.protocol, negotiated, escaped ? headers : flatString(JSON.stringify(headers)), response,
      info.remoteAddress, info.remotePort, verdict.context,
    );
    const transport = new SocketTransport(socket, { highWaterMark: options.sendHighWaterMark });
    socket.off('error', noop);
    socket.off('end', destroyOnEnd);
    startServerConnection(transport, handshake, verdict, options, head.length > 0 ? head : undefined, onConnection, onError);
    extensions = [];
  } catch (err) {
    for (const ext of extensions) ext.close();
    onError(err);
    // After the 101 the bytes on this socket are WebSocket frames: no HTTP answer fits.
    if (switched) socket.destroy();
    else refuse(socket, 500, undefined, 'Internal Server Error');
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits for `earlier`, the response to a request pipelined before this upgrade on the same
 * socket; false when the upgrade must then go unanswered. RFC 9112 §9.3.2: responses go "in
 * the same order that the requests were received", so no 101 before it; §9.6: after a
 * response that said "close" the server "MUST NOT process any further requests received on
 * that connection" (a 101 there would switch a socket node is about to tear down). node keeps
 * that response, unfinished, as the socket's `_httpMessage` (no public API tells it) and ends
 * the socket on its 'finish' when it said close.
 */
async function pipelinedTurn(earlier: ServerResponse, socket: Socket): Promise<boolean> {
  await new Promise((resolve) => {
    earlier.once('finish', resolve);
    earlier.once('close', resolve);
  });
  return !socket.writableEnded && !socket.destroyed;
}

/**
 * The `HandshakeInfo` of a server connection, built when first asked for: until then only
 * these values are kept (the response as it was sent), not two objects of small strings.
 * The closure's context holds nothing but its parameters.
 */
function lazyHandshake(
  path: string, url: string, protocol: string, extensions: string, requestHeaders: Record<string, string> | string,
  response: string, remoteAddress: string | undefined, remotePort: number | undefined, context: unknown,
): () => HandshakeInfo {
  return () => ({
    context,
    path,
    url,
    protocol,
    extensions,
    requestHeaders: typeof requestHeaders === 'string' ? JSON.parse(requestHeaders) as Record<string, string> : requestHeaders,
    responseHeaders: responseHeaderRecord(response),
    remoteAddress,
    remotePort,
  });
}

/**
 * `s` as one flat string: a string built by concatenation is a tree of pieces in V8, which
 * a long-lived copy should not keep. Reading a character flattens it in place.
 */
function flatString(s: string): string {
  void s.charCodeAt(0);
  return s;
}

/** The 101's headers as `HandshakeInfo.responseHeaders` wants them: lower-case names. */
function responseHeaderRecord(head: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = head.split('\r\n');
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    out[name] = out[name] === undefined ? value : `${out[name]}, ${value}`;
  }
  return out;
}

/**
 * Answers a refused handshake and closes the socket once the answer is flushed. A string
 * body goes as UTF-8 plain text. Bad user headers or status turn into a 500.
 */
function refuse(
  socket: Duplex,
  status: number,
  headers: ResponseHeaders | undefined,
  body: string | Uint8Array,
  onError: (error: unknown) => void = reportError,
): void {
  if (socket.destroyed) return;
  let bytes = typeof body === 'string' ? Buffer.from(body) : body;
  let head: string;
  try {
    let all = headers;
    if (typeof body === 'string' && bytes.length > 0 && !hasHeader(headers, 'content-type')) {
      all = { ...headers, 'Content-Type': 'text/plain; charset=utf-8' };
    }
    head = buildRejectionResponse(status, all, bytes.length, STATUS_CODES[status]);
  } catch (err) {
    onError(err);
    bytes = Buffer.from('Internal Server Error');
    head = buildRejectionResponse(500, { 'Content-Type': 'text/plain; charset=utf-8' }, bytes.length);
  }
  socket.once('finish', () => socket.destroy());
  socket.write(head);
  socket.end(bytes);
}

const hasHeader = (headers: ResponseHeaders | undefined, name: string): boolean =>
  headers !== undefined && Object.keys(headers).some((k) => k.toLowerCase() === name);

/** Matches a request's pathname (query ignored): exactly a string, or by a predicate. */
export type PathMatcher = string | ((pathname: string) => boolean);

/** Options of `attach`: those of the handshake and connections, and the path to serve. */
export interface AttachOptions<D extends UpgradeDecision = UpgradeDecision> extends ServerOptions<D> {
  /** Pathname to answer (query ignored). Default: every path. */
  path?: PathMatcher;
}

/** WebSocket routes attached to one HTTP server. */
export interface WebSocketAttachment {
  /** Open connections made through this attachment. */
  readonly connections: ReadonlySet<Connection>;
  /** Stops taking upgrades on this route; open connections stay open. */
  detach(): void;
  /**
   * Stops taking upgrades, drops handshakes in progress, closes every open connection with
   * `code` (default 1001, going away) and resolves once they are closed.
   */
  close(code?: number, reason?: string): Promise<void>;
}

interface Route {
  readonly path: PathMatcher | undefined;
  readonly options: ServerOptions;
  readonly onConnection: (conn: Connection) => unknown;
  readonly connections: Set<Connection>;
  readonly pending: Set<Duplex>;
}

interface Router {
  readonly routes: Route[];
  readonly listener: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** On an HTTP/2 server: stops taking extended CONNECTs. */
  readonly stopHttp2: (() => void) | undefined;
}

/** A server `attach` can serve: HTTP/1.1 upgrades on the first two, HTTP/2 extended CONNECTs (and HTTP/1.1 upgrades with `allowHTTP1`) on the others. */
export type AttachableServer = HttpServer | HttpsServer | Http2SecureServer | Http2Server;

const routers = new WeakMap<AttachableServer, Router>();

/** Node's HTTP/2 servers are the ones with `updateSettings()`; `http.Server` has none. */
const isHttp2Server = (server: AttachableServer): server is Http2SecureServer | Http2Server => 'updateSettings' in server;

/** Counts `duplex` as a handshake of `route` until its connection is made; returns the route's connection handler. */
function enter(route: Route, duplex: Duplex): (conn: Connection) => unknown {
  route.pending.add(duplex);
  const leavePending = (): void => {
    route.pending.delete(duplex);
  };
  duplex.once('close', leavePending);
  return (conn) => {
    // Not kept for the connection's lifetime: an idle connection holds nothing of its handshake.
    duplex.off('close', leavePending);
    leavePending();
    conn._trackIn(route.connections);
    return route.onConnection(conn);
  };
}

/**
 * Serves WebSocket upgrades on an existing `http.Server` or `https.Server`: upgrade
 * requests whose pathname matches `options.path` are handshaken and handed to
 * `onConnection`; ordinary requests are left to the server's `'request'` listeners. An
 * upgrade that matches no route is left to other `'upgrade'` listeners if there are any,
 * else answered with 404. Several routes may share one server.
 *
 * On an HTTP/2 server (`http2.createSecureServer`, or `http2.createServer` for cleartext h2c)
 * the routes also take WebSockets over HTTP/2 (RFC 8441): `SETTINGS_ENABLE_CONNECT_PROTOCOL`
 * is turned on for new sessions, and each extended CONNECT with `:protocol` `websocket` is
 * handshaken with the same options and runs as an HTTP/2 stream (one whose path matches no
 * route is answered 404, unless another `'stream'` listener answered it in the same turn).
 * With `allowHTTP1: true` HTTP/1.1 upgrades keep working on the same port.
 *
 * @example
 * ```ts
 * const server = http.createServer((req, res) => res.end('hello'));
 * attach(server, { path: '/ws' }, (conn) => conn.readable.pipeTo(conn.writable));
 * server.listen(8080);
 * ```
 */
export function attach<D extends UpgradeDecision = UpgradeDecision>(
  server: AttachableServer,
  options: AttachOptions<D>,
  onConnection: (conn: AcceptedConnection<UpgradeContext<D>>) => void,
): WebSocketAttachment {
  // Misuse throws now, not at every handshake (STYLE.md: caller misuse is a RangeError at once).
  resolveOptions(options);
  const timeout = options.handshakeTimeout;
  if (timeout !== undefined && !(timeout >= 0)) throw new RangeError(`handshakeTimeout must be ≥ 0, got ${timeout}`);
  let router = routers.get(server);
  if (router === undefined) {
    const routes: Route[] = [];
    const findRoute = (target: string | undefined): Route | undefined => {
      const pathname = pathnameOf(target);
      return routes.find((r) => matches(r.path, pathname));
    };
    const listener = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
      const route = findRoute(req.url);
      if (route === undefined) {
        if (server.listenerCount('upgrade') <= 1) refuse(socket, 404, undefined, 'Not Found');
        return;
      }
      handleUpgrade(req, socket, head, route.options, enter(route, socket));
    };
    const stopHttp2 = isHttp2Server(server)
      ? listenForExtendedConnect(server, (stream, headers) => {
          const route = findRoute(headers[':path']);
          if (route === undefined) {
            // Another 'stream' listener may take it: 404 only if none answered within the turn.
            setImmediate(() => refuseStream(stream, 404, undefined, 'Not Found'));
            return;
          }
          handleExtendedConnect(stream, headers, route.options, enter(route, stream));
        })
      : undefined;
    router = { routes, listener, stopHttp2 };
    routers.set(server, router);
    server.on('upgrade', listener);
  }
  const route: Route = {
    path: options.path, options: options as ServerOptions, onConnection: onConnection as (conn: Connection) => unknown, connections: new Set(), pending: new Set(),
  };
  router.routes.push(route);
  const detach = (): void => {
    const r = routers.get(server);
    if (r === undefined) return;
    const i = r.routes.indexOf(route);
    if (i >= 0) r.routes.splice(i, 1);
    if (r.routes.length === 0) {
      server.off('upgrade', r.listener);
      r.stopHttp2?.();
      routers.delete(server);
    }
  };
  return {
    connections: route.connections,
    detach,
    async close(code = 1001, reason = ''): Promise<void> {
      detach();
      for (const socket of route.pending) socket.destroy();
      route.pending.clear();
      await Promise.all([...route.connections].map((conn) => conn.close(code, reason)));
    },
  };
}

function pathnameOf(target: string | undefined): string {
  if (target === undefined) return '/';
  const q = target.indexOf('?');
  return q < 0 ? target : target.slice(0, q);
}

const matches = (path: PathMatcher | undefined, pathname: string): boolean =>
  path === undefined || (typeof path === 'string' ? path === pathname : path(pathname));
