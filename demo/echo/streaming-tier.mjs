// Echo on Autobahn's streaming tier: bytes go back as they arrive, in frames of the same length.
import { WebSocketServerFactory, WebSocketServerProtocol, listenWS } from '../../dist/node.mjs';

class Echo extends WebSocketServerProtocol {
  onMessageBegin(isBinary) {
    this.beginMessage(isBinary);
  }
  onMessageFrameBegin(length) {
    this.beginMessageFrame(length);
  }
  onMessageFrameData(chunk) {
    return this.sendMessageFrameData(chunk);
  }
  onMessageFrameEnd() {}
  onMessageEnd() {
    return this.endMessage();
  }
}
const factory = new WebSocketServerFactory(`ws://127.0.0.1:${process.env.PORT ?? 8080}`, { maxMessageSize: Number.MAX_SAFE_INTEGER, maxFrameSize: Number.MAX_SAFE_INTEGER });
factory.protocol = Echo;
const server = await listenWS(factory);
console.log(`listening on ${server.url}`);
