// Autobahn's streaming demo, frame-based server: each frame of a message arrives whole in
// onMessageFrame; the answer, after every frame that carried data, is the running SHA-256 of
// the message so far (a text message). The empty final frame endMessage() sends gets none.
//   node demo/streaming/frame-server.mjs [--port 9000]
import { createHash } from 'node:crypto';
import { WebSocketServerFactory, WebSocketServerProtocol, listenWS } from 'websocket-streams/node';
import { announce, parseArgs } from './shared.mjs';

class FrameHashServer extends WebSocketServerProtocol {
  #hash;
  onMessageBegin() {
    this.#hash = createHash('sha256');
  }
  onMessageFrame(payload) {
    if (payload.length === 0) return undefined;
    this.#hash.update(payload);
    return this.sendMessage(this.#hash.copy().digest('hex'));
  }
  onMessageEnd() {
    this.#hash = undefined;
  }
}

// One message of many 1 MiB frames: only the frame size stays bounded.
const factory = new WebSocketServerFactory(`ws://127.0.0.1:${parseArgs().port}`, { maxMessageSize: Infinity });
factory.protocol = FrameHashServer;
announce(await listenWS(factory));
