// Our Autobahn tier: a WebSocketServerProtocol whose onMessage sends the payload back.
import { deflate, lifecycle, listening } from './common.mjs';
import { loadOurs, portOf } from './ours-lib.mjs';

lifecycle();
const { WebSocketServerFactory, listenWS, WebSocketServerProtocol } = await loadOurs('WebSocketServerFactory', 'listenWS', 'WebSocketServerProtocol');

class EchoProtocol extends WebSocketServerProtocol {
  onMessage(payload, isBinary) {
    // Returning the promise applies backpressure: the next message waits for this send.
    return this.sendMessage(payload, isBinary);
  }
}

const factory = new WebSocketServerFactory('ws://127.0.0.1:0', deflate ? { perMessageDeflate: true } : {});
factory.protocol = EchoProtocol;
const server = await listenWS(factory);
listening(portOf(server));
