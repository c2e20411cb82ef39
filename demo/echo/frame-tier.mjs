// Echo on Autobahn's frame-based tier: each frame is sent back as it completes.
import { WebSocketServerFactory, WebSocketServerProtocol, listenWS } from '../../dist/node.mjs';

class Echo extends WebSocketServerProtocol {
  onMessageBegin(isBinary) {
    this.beginMessage(isBinary);
  }
  onMessageFrame(payload) {
    return this.sendMessageFrame(payload);
  }
  onMessageEnd() {
    return this.endMessage();
  }
}
const factory = new WebSocketServerFactory(`ws://127.0.0.1:${process.env.PORT ?? 8080}`);
factory.protocol = Echo;
const server = await listenWS(factory);
console.log(`listening on ${server.url}`);
