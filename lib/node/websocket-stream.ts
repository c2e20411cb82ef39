import { Connection } from '../streams/connection';
import {
  WebSocketStream as WebSocketStreamView, type WebSocketStreamOptions,
} from '../streams/websocket-stream';
import { connect, type ClientOptions } from './client';

/**
 * Options of the Node `WebSocketStream`: the standard's `protocols` and `signal`, and any of
 * `connect()`'s own (headers, TLS, permessage-deflate, limits, proxy, …).
 */
export interface NodeWebSocketStreamOptions extends Omit<ClientOptions, 'protocols' | 'signal'>, Omit<WebSocketStreamOptions, 'dial'> {}

/**
 * The WHATWG `WebSocketStream` for Node: `new WebSocketStream(url, { protocols, signal })`
 * opens a client connection with `connect()` (plus any of its options), and
 * `new WebSocketStream(conn)` is a view of a connection that is already open (a server's).
 * Everything else is the core `WebSocketStream` (see `websocket-streams/websocket-stream`).
 *
 * @example
 * ```ts
 * import { WebSocketStream, serve } from 'websocket-streams/node';
 * // A server whose handlers use the web API too:
 * await serve({ port: 8080 }, async (conn) => {
 *   const { readable, writable } = await new WebSocketStream(conn).opened;
 *   await readable.pipeTo(writable);               // echo
 * });
 * ```
 */
export class WebSocketStream extends WebSocketStreamView {
  /** Dials `url` with `connect()`, or wraps the open `Connection` given. */
  constructor(url: string | URL | Connection, options: NodeWebSocketStreamOptions = {}) {
    if (url instanceof Connection) {
      super(url);
      return;
    }
    super(url, {
      protocols: options.protocols,
      signal: options.signal,
      dial: (target, { protocols, signal }) => connect(target, { ...options, protocols, signal }),
    });
  }
}
