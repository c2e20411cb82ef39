import type { ConnectionAccept, ConnectionRequest } from './types';
import { WebSocketProtocol } from './websocket-protocol';

/**
 * The server side of Autobahn's API. `onConnect(request)` runs during the opening handshake:
 * return a subprotocol (or a `ConnectionAccept` with headers) to accept, throw a
 * `ConnectionDeny` to refuse with an HTTP status.
 */
export class WebSocketServerProtocol extends WebSocketProtocol {
  /** The opening request, once `onConnect` has seen it. */
  request: ConnectionRequest | undefined;

  /** During the opening handshake: return the subprotocol (or a `ConnectionAccept`) to accept, throw a `ConnectionDeny` to refuse. Default: accept, no subprotocol. */
  onConnect(_request: ConnectionRequest): string | undefined | ConnectionAccept | Promise<string | undefined | ConnectionAccept> {
    return undefined;
  }
}
