import type { Connection } from '../streams/connection';
import type { WebSocketClientProtocol } from '../tiers/client-protocol';
import type { WebSocketServerProtocol } from '../tiers/server-protocol';
import { ConnectionDeny, type ConnectionAccept } from '../tiers/types';
import { overridesOnPing } from '../tiers/websocket-protocol';
import { connect, type ClientOptions } from './client';
import { serve, type ServeOptions, type WebSocketServerHandle } from './server';
import type { UpgradeRequestInfo } from './upgrade';

/**
 * Autobahn's `WebSocketServerFactory`: where to listen, and which protocol class serves each
 * connection (one instance per connection).
 *
 * @example
 * ```ts
 * const factory = new WebSocketServerFactory('ws://127.0.0.1:9000');
 * factory.protocol = EchoProtocol;
 * const server = await listenWS(factory);
 * ```
 */
export class WebSocketServerFactory<P extends WebSocketServerProtocol = WebSocketServerProtocol> {
  /** The protocol class; each connection gets a new instance of it. */
  protocol: (new () => P) | undefined;
  /** Where to listen: host and port of a `ws:` or `wss:` URL (port 0: any free port), and the path if not `/`. */
  readonly url: URL;
  /** Server options (limits, TLS, permessage-deflate, …); host and port come from `url`. */
  readonly options: Omit<ServeOptions, 'host' | 'port' | 'onRequest' | 'protocols'>;

  constructor(url = 'ws://127.0.0.1:0', options: Omit<ServeOptions, 'host' | 'port' | 'onRequest' | 'protocols'> = {}, protocol?: new () => P) {
    this.url = new URL(url);
    if (this.url.protocol !== 'ws:' && this.url.protocol !== 'wss:') throw new SyntaxError(`A server URL must be ws: or wss:, got ${url}`);
    this.options = options;
    this.protocol = protocol;
  }
}

/** Autobahn's `WebSocketClientFactory`: the URL to connect to and the protocol class. */
export class WebSocketClientFactory<P extends WebSocketClientProtocol = WebSocketClientProtocol> {
  /** The protocol class `connectWS` instantiates for the connection. */
  protocol: (new () => P) | undefined;
  /** The `ws:` or `wss:` URL to connect to. */
  readonly url: string;
  /** Client options (subprotocols, headers, TLS, limits, …). */
  readonly options: ClientOptions;

  constructor(url: string, options: ClientOptions = {}, protocol?: new () => P) {
    this.url = url;
    this.options = options;
    this.protocol = protocol;
  }
}

/**
 * Listens as the factory says (Autobahn's `listenWS`). Each connection gets a new instance
 * of `factory.protocol`: `onConnect(request)` during the handshake, then `run()`.
 */
export async function listenWS<P extends WebSocketServerProtocol>(factory: WebSocketServerFactory<P>): Promise<WebSocketServerHandle> {
  const Protocol = factory.protocol;
  if (!Protocol) throw new TypeError('listenWS(): set factory.protocol to a WebSocketServerProtocol subclass first');
  const autoPong = !overridesOnPing(new Protocol());
  // Handshakes in flight, by their unique Sec-WebSocket-Key: the instance onConnect ran on
  // is the one that serves the connection.
  const pending = new Map<string, { instance: P; subprotocol: string | undefined }>();
  const byInfo = new WeakMap<UpgradeRequestInfo, string | undefined>();
  const url = factory.url;
  return serve(
    {
      ...factory.options,
      autoPong,
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: Number(url.port || 0),
      path: factory.options.path ?? (url.pathname === '/' ? undefined : url.pathname),
      onRequest: async (info) => {
        const instance = new Protocol();
        instance.request = info;
        let subprotocol: string | undefined;
        let headers: ConnectionAccept['headers'];
        try {
          const answer = await instance.onConnect(info);
          if (typeof answer === 'string') subprotocol = answer;
          else if (answer) ({ subprotocol, headers } = answer);
        } catch (err) {
          if (err instanceof ConnectionDeny) return { status: err.code, body: err.reason };
          throw err;
        }
        pending.set(info.headers['sec-websocket-key']!, { instance, subprotocol });
        byInfo.set(info, subprotocol);
        return headers ? { headers } : true;
      },
      protocols: (offered, info) => {
        const chosen = byInfo.get(info);
        return chosen !== undefined && offered.includes(chosen) ? chosen : undefined;
      },
    },
    (conn: Connection) => {
      const key = conn.handshake.requestHeaders['sec-websocket-key']!;
      const entry = pending.get(key);
      pending.delete(key);
      return (entry?.instance ?? new Protocol()).run(conn);
    },
  );
}

/**
 * Connects as the factory says (Autobahn's `connectWS`) and runs a new instance of
 * `factory.protocol` on the connection. Resolves with the instance once it is open.
 */
export async function connectWS<P extends WebSocketClientProtocol>(factory: WebSocketClientFactory<P>): Promise<P> {
  const Protocol = factory.protocol;
  if (!Protocol) throw new TypeError('connectWS(): set factory.protocol to a WebSocketClientProtocol subclass first');
  const instance = new Protocol();
  const conn = await connect(factory.url, { autoPong: !overridesOnPing(instance), ...factory.options });
  const h = conn.handshake;
  instance.response = { url: h.url, headers: h.responseHeaders, protocol: h.protocol, extensions: h.extensions, remoteAddress: h.remoteAddress, remotePort: h.remotePort };
  await instance.onConnect(instance.response);
  void instance.run(conn);
  return instance;
}
