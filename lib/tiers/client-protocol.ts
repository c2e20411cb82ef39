import type { ConnectionResponse } from './types';
import { WebSocketProtocol } from './websocket-protocol';

/** The client side of Autobahn's API. `onConnect(response)` sees the server's 101 before `onOpen`. */
export class WebSocketClientProtocol extends WebSocketProtocol {
  /** The server's answer, once `onConnect` has seen it. */
  response: ConnectionResponse | undefined;

  /** The server's 101 arrived, before `onOpen`. Default: nothing. */
  onConnect(_response: ConnectionResponse): void | Promise<void> {}
}
