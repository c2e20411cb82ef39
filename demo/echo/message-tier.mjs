// Echo on Autobahn's basic tier: onMessage gets the whole message.
import { WebSocketServerFactory, WebSocketServerProtocol, listenWS } from '../../dist/node.mjs';

class Echo extends WebSocketServerProtocol {
  onMessage(payload, isBinary) {
    return this.sendMessage(payload, isBinary);
  }
}
const factory = new WebSocketServerFactory(`ws://127.0.0.1:${process.env.PORT ?? 8080}`);
factory.protocol = Echo;
const server = await listenWS(factory);
console.log(`listening on ${server.url}`);
