import { request as httpRequest, type ClientRequest as NodeClientRequest, type IncomingMessage } from 'node:http';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import { generateKey } from '../handshake/accept-key';
import { buildClientRequest, validateServerResponse, type ClientRequest } from '../handshake/client-handshake';
import { HandshakeError } from '../handshake/errors';
import type { ExtensionFactory } from '../protocol/extension';
import { extensionFactories, type PerMessageDeflateSetting } from './deflate-option';
import { systemClock, type Clock } from '../streams/clock';
import { resolveOptions } from '../streams/connection-options';
import { Connection } from '../streams/connection';
import type { ConnectionOptions, HandshakeInfo } from '../streams/connection-init';
import { collectBody, computeAcceptSync, MAX_REFUSAL_BODY } from './http-util';
import { http2Settings, openOverHttp2, type Http2ConnectOptions } from './http2-client';
import { nodeRuntime } from './runtime';
import { SocketTransport } from './socket-transport';
import { openTunnel, resolveProxy, type ProxySetting } from './proxy';
import { DEFAULT_MAX_REDIRECTS, RedirectFollower, isRedirect, redirectError } from './redirects';
import { parseUnixUrl } from './unix-socket';

/** Options of `connect`: the handshake, TLS, and the connection's own options. */
export interface ClientOptions extends ConnectionOptions {
  /** Subprotocols to offer, most preferred first. */
  protocols?: readonly string[];
  /** Extra request headers (not the handshake's own). */
  headers?: Readonly<Record<string, string>>;
  /** `Origin` header. */
  origin?: string;
  /** Extensions to offer, in order of preference. */
  extensions?: readonly ExtensionFactory[];
  /**
   * Offer permessage-deflate (RFC 7692) on node:zlib: `true` with the defaults, or its
   * parameters. Default off.
   */
  perMessageDeflate?: PerMessageDeflateSetting;
  /** Ms for TCP, TLS (and a proxy's tunnel) and the handshake together, per redirect hop, timed on `clock`; then the socket is dropped (`TIMEOUT`). Default 10 000. */
  handshakeTimeout?: number;
  /** Aborts the attempt (`ABORTED`) until the connection is open; no effect after. */
  signal?: AbortSignal;
  /** For `wss:`: passed to `tls.connect` (`ca`, `rejectUnauthorized`, `servername`, `cert`, ...). */
  tls?: TlsConnectionOptions;
  /** Largest response head node's parser accepts. Default 16 KiB, node's own. */
  maxHeaderSize?: number;
  /**
   * Follow 301, 302, 303, 307 and 308 answers to the handshake. `Authorization`, `Cookie`, a
   * given `Host` and the URL's credentials are dropped once a redirect leaves the first
   * origin. Default `false`: a redirect rejects with a `HandshakeError` of kind `REDIRECT`.
   */
  followRedirects?: boolean;
  /** Most redirects followed before `TOO_MANY_REDIRECTS`. Default 10. */
  maxRedirects?: number;
  /**
   * Tunnel through an HTTP proxy with CONNECT: its `http://[user:password@]host:port` URL
   * (credentials go as `Proxy-Authorization: Basic`), or `'env'` for `HTTPS_PROXY` (`wss:`) /
   * `HTTP_PROXY` (`ws:`) and `NO_PROXY`, lower-case names first. For `wss:` TLS runs inside the
   * tunnel, with the target's name for SNI. Default: no proxy, whatever the environment says.
   */
  proxy?: ProxySetting;
  /**
   * Connect to this Unix domain socket instead of the URL's host and port, and of any proxy (the URL still gives
   * `Host` and the path). `ws+unix:///path/to/socket:/request/path` URLs set it too.
   */
  socketPath?: string;
  /**
   * Open the WebSocket over HTTP/2 (RFC 8441): an extended CONNECT on the origin's HTTP/2
   * session, shared by every WebSocket to that origin (one stream each). `wss:` negotiates
   * `h2` by ALPN; `ws:` uses cleartext HTTP/2 with prior knowledge (h2c). `true`, or options:
   * `fallbackToHttp1` (default `false`: a server that cannot fails with `HTTP2_UNSUPPORTED`)
   * and `sessionIdleTimeout` (default 5 000 ms). Not with `proxy` or `socketPath`. Default
   * `false`: HTTP/1.1.
   */
  http2?: boolean | Http2ConnectOptions;
}

const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;

/**
 * Opens a WebSocket connection to a `ws:` or `wss:` URL (`http:`/`https:` are taken as
 * `ws:`/`wss:`). Resolves once the server's 101 has been checked; rejects with a
 * `HandshakeError` (a refusal carries `status`, `headers` and the first 4 KiB of `body`).
 * A malformed URL throws a `SyntaxError` and bad options a `TypeError`, at once.
 *
 * @example
 * ```ts
 * const conn = await connect('ws://127.0.0.1:8080/chat', { protocols: ['chat'] });
 * await conn.send('hello');
 * for await (const msg of conn.readable) console.log(await msg.text());
 * ```
 */
export function connect(url: string | URL, options: ClientOptions = {}): Promise<Connection> {
  resolveOptions(options); // bad limits throw now rather than after the handshake
  const timeout = options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
  if (!(timeout >= 0)) throw new RangeError(`handshakeTimeout must be ≥ 0, got ${timeout}`);
  const maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  if (!(Number.isInteger(maxRedirects) && maxRedirects >= 0)) throw new RangeError(`maxRedirects must be an integer ≥ 0, got ${maxRedirects}`);
  const unix = parseUnixUrl(url);
  const request = requestFor(unix?.url ?? url, options, options.headers);
  const socketPath = unix?.socketPath ?? options.socketPath;
  // An explicit proxy URL is checked now, like the rest of the options.
  resolveProxy(options.proxy === 'env' ? undefined : options.proxy, request.url);
  const h2 = http2Settings(options.http2);
  if (h2 !== undefined && (options.proxy !== undefined || socketPath !== undefined)) {
    throw new TypeError(`http2 cannot be combined with ${options.proxy !== undefined ? 'proxy' : 'a Unix socket'}: WebSockets over HTTP/2 dial the origin directly`);
  }
  return followRedirects(request, socketPath, options, timeout, maxRedirects);
}

const requestFor = (url: string | URL, options: ClientOptions, headers: Readonly<Record<string, string>> | undefined): ClientRequest =>
  buildClientRequest(url, {
    key: generateKey(),
    protocols: options.protocols,
    origin: options.origin,
    headers,
    extensions: extensionFactories(options),
  });

/** Handshakes, and while the answer is a redirect to follow, handshakes again where it points (at most `maxRedirects` times). */
async function followRedirects(
  first: ClientRequest,
  firstSocketPath: string | undefined,
  options: ClientOptions,
  timeout: number,
  maxRedirects: number,
): Promise<Connection> {
  const follower = new RedirectFollower(first.url, maxRedirects);
  let request = first;
  let socketPath = firstSocketPath;
  for (;;) {
    try {
      const current = request;
      const path = socketPath;
      const overHttp1 = (socket?: Socket): Promise<Connection> => new Promise<Connection>((resolve, reject) =>
        new ClientHandshake(current, options, timeout, (signal) => socket ?? dial(current.url, path, options, signal), resolve, reject).start(),
      );
      const h2 = http2Settings(options.http2);
      return await (h2 === undefined ? overHttp1() : openOverHttp2(current, options, h2, timeout, overHttp1));
    } catch (err) {
      if (!(err instanceof HandshakeError) || err.kind !== 'REDIRECT' || options.followRedirects !== true) throw err;
      const hop = follower.follow(request.url, err);
      // A socket path stands for the origin it was given with.
      if (!hop.sameOriginAsCurrent) socketPath = undefined;
      request = requestFor(hop.url, options, follower.headersFor(options.headers));
    }
  }
}

/** The socket one handshake runs on: a Unix socket, a CONNECT tunnel, or TCP; TLS on top for `wss:`. */
function dial(url: URL, socketPath: string | undefined, options: ClientOptions, signal: AbortSignal): Socket | Promise<Socket> {
  const secure = url.protocol === 'wss:';
  // WHATWG URL keeps IPv6 literals in brackets; sockets want them bare.
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
  const overTls = (base: { socket: Socket } | { path: string } | { host: string; port: number }): Socket =>
    tlsConnect({
      servername: isIP(host) === 0 ? host : undefined,
      ...options.tls,
      ...base,
      ALPNProtocols: ['http/1.1'],
    });
  if (socketPath !== undefined) return secure ? overTls({ path: socketPath }) : netConnect({ path: socketPath, allowHalfOpen: true });
  const proxy = resolveProxy(options.proxy, url);
  if (proxy !== undefined) return openTunnel(proxy, host, port, signal).then((tunnel) => (secure ? overTls({ socket: tunnel }) : tunnel));
  return secure ? overTls({ host, port }) : netConnect({ host, port, allowHalfOpen: true });
}

/** One client handshake in flight: node's HTTP client does the parsing, we do RFC 6455. */
class ClientHandshake {
  readonly #request: ClientRequest;
  readonly #options: ClientOptions;
  readonly #timeout: number;
  readonly #dial: (signal: AbortSignal) => Socket | Promise<Socket>;
  /** Drops a dial in progress (a proxy tunnel) when the handshake fails first. */
  readonly #dialing = new AbortController();
  readonly #resolve: (conn: Connection) => void;
  readonly #reject: (err: unknown) => void;
  #req: NodeClientRequest | undefined;
  #timer: unknown;
  /** The connection's clock also times the handshake, so specs drive `handshakeTimeout` too. */
  readonly #clock: Clock;
  #settled = false;

  constructor(
    request: ClientRequest,
    options: ClientOptions,
    timeout: number,
    dial: (signal: AbortSignal) => Socket | Promise<Socket>,
    resolve: (c: Connection) => void,
    reject: (e: unknown) => void,
  ) {
    this.#request = request;
    this.#options = options;
    this.#timeout = timeout;
    this.#dial = dial;
    this.#clock = options.clock ?? systemClock;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  start(): void {
    const signal = this.#options.signal;
    if (signal?.aborted) {
      this.#fail(new HandshakeError('ABORTED', 'The WebSocket handshake was aborted', { cause: signal.reason }));
      return;
    }
    const req = httpRequest({
      method: 'GET',
      path: this.#request.path,
      headers: this.#request.headers,
      setHost: false,
      maxHeaderSize: this.#options.maxHeaderSize,
      // Our own socket, no agent: never pooled, and half-open (SocketTransport sets it for
      // TLS too) so the close handshake decides when our side ends (RFC 6455 §7.1.1). Node
      // waits for the callback when this returns nothing (a proxy tunnel being opened).
      createConnection: (_opts, ready) => {
        const socket = this.#dial(this.#dialing.signal);
        if (!(socket instanceof Promise)) return socket;
        // Node's callback takes no socket with an error; its type says otherwise.
        socket.then((s) => ready(null, s), (err: Error) => ready(err, undefined as unknown as Socket));
        return undefined;
      },
    });
    this.#req = req;
    req.on('upgrade', this.#onUpgrade);
    req.on('response', this.#onResponse);
    req.on('error', this.#onError);
    if (this.#timeout > 0) this.#timer = this.#clock.setTimeout(this.#onTimeout, this.#timeout);
    signal?.addEventListener('abort', this.#onAbort, { once: true });
    req.end();
  }

  readonly #onUpgrade = (res: IncomingMessage, socket: Socket, head: Buffer): void => {
    if (this.#settled) {
      socket.destroy();
      return;
    }
    let result;
    try {
      const expected = computeAcceptSync(this.#request.key);
      result = validateServerResponse(this.#request, expected, res.statusCode ?? 0, res.headers);
    } catch (err) {
      socket.destroy();
      this.#fail(err);
      return;
    }
    const requestHeaders: Record<string, string> = {};
    for (const [name, value] of Object.entries(this.#request.headers)) requestHeaders[name.toLowerCase()] = value;
    const handshake: HandshakeInfo = {
      path: this.#request.path,
      url: this.#request.url.href,
      protocol: result.protocol,
      extensions: result.extensionsHeader,
      requestHeaders,
      responseHeaders: result.headers,
      remoteAddress: socket.remoteAddress,
      remotePort: socket.remotePort,
    };
    let conn: Connection;
    try {
      const transport = new SocketTransport(socket, { highWaterMark: this.#options.sendHighWaterMark });
      conn = new Connection(transport, {
        role: 'client',
        handshake,
        activeExtensions: result.extensions,
        options: this.#options,
        head: head.length > 0 ? head : undefined,
        runtime: nodeRuntime,
      });
    } catch (err) {
      for (const ext of result.extensions) ext.close();
      socket.destroy();
      this.#fail(err);
      return;
    }
    this.#settle();
    this.#resolve(conn);
  };

  /** A response other than an upgrade: a refusal. Keep a bounded part of its body. */
  readonly #onResponse = (res: IncomingMessage): void => {
    const status = res.statusCode ?? 0;
    if (status === 101) {
      // A 101 node did not take as an upgrade lacks Upgrade or Connection: say which.
      try {
        validateServerResponse(this.#request, computeAcceptSync(this.#request.key), status, res.headers);
      } catch (err) {
        this.#req?.destroy();
        this.#fail(err);
        return;
      }
    }
    collectBody(res, MAX_REFUSAL_BODY, (body) => {
      this.#req?.destroy();
      try {
        validateServerResponse(this.#request, '', status, res.headers);
      } catch (err) {
        const e = err as HandshakeError;
        if (isRedirect(status)) {
          this.#fail(redirectError(status, e.headers as Record<string, string>, body, this.#request.url));
          return;
        }
        this.#fail(new HandshakeError(e.kind, e.message, { status: e.status, headers: e.headers as Record<string, string>, body }));
      }
    });
  };

  readonly #onError = (err: Error): void => {
    if (this.#settled) return;
    if (err instanceof HandshakeError) {
      // The proxy's refusal, already said in full.
      this.#fail(err);
      return;
    }
    const where = this.#request.url.href;
    this.#fail(new HandshakeError('CONNECTION_FAILED', `Could not open a WebSocket connection to ${where}: ${err.message}`, { cause: err }));
  };

  readonly #onTimeout = (): void => {
    this.#timer = undefined;
    this.#req?.destroy();
    this.#fail(new HandshakeError('TIMEOUT', `The WebSocket handshake with ${this.#request.url.href} did not finish within ${this.#timeout} ms`));
  };

  readonly #onAbort = (): void => {
    this.#req?.destroy();
    this.#fail(new HandshakeError('ABORTED', 'The WebSocket handshake was aborted', { cause: this.#options.signal?.reason }));
  };

  #fail(err: unknown): void {
    if (this.#settled) return;
    this.#settle();
    this.#reject(err);
  }

  #settle(): void {
    this.#settled = true;
    this.#dialing.abort();
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#options.signal?.removeEventListener('abort', this.#onAbort);
  }
}
