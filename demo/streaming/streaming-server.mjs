// Autobahn's streaming demo, streaming server: the bytes of a message are hashed in
// onMessageFrameData as TCP delivers them, and at every 1 MiB boundary of the stream (a chunk
// across one is split there) the running SHA-256 goes back as a text message. Nothing is
// buffered, so a frame of 2^63 − 1 bytes is fine: it streams until the client goes away.
//   node demo/streaming/streaming-server.mjs [--port 9000]
import { WebSocketServerFactory, WebSocketServerProtocol, listenWS } from 'websocket-streams/node';
import { announce, DigestTap, MiB, parseArgs } from './shared.mjs';

class StreamingHashServer extends WebSocketServerProtocol {
  #tap;
  onMessageBegin() {
    this.#tap = new DigestTap(MiB, (hex) => this.sendMessage(hex));
  }
  onMessageFrameBegin() {}
  onMessageFrameData(chunk) {
    return this.#tap.update(chunk); // its promise holds the next chunk back while a digest is sent
  }
  onMessageFrameEnd() {}
  onMessageEnd() {
    this.#tap = undefined;
  }
  // A frame of 2^63 − 1 bytes never ends: when the client is done it can only end TCP (a
  // close frame cannot go inside a frame), so onClose sees wasClean false and 1006.
}

// The explicit opt-in to frames declared longer than 2^53 − 1 bytes (up to 2^63 − 1).
const factory = new WebSocketServerFactory(`ws://127.0.0.1:${parseArgs().port}`, { maxFrameSize: Infinity, maxMessageSize: Infinity });
factory.protocol = StreamingHashServer;
announce(await listenWS(factory));
