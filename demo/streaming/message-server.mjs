// Autobahn's streaming demo, message-based server: each (binary) message arrives whole in
// onMessage; the answer is its SHA-256 as lowercase hex, a text message.
//   node demo/streaming/message-server.mjs [--port 9000]
import { createHash } from 'node:crypto';
import { WebSocketServerFactory, WebSocketServerProtocol, listenWS } from 'websocket-streams/node';
import { announce, parseArgs } from './shared.mjs';

class MessageHashServer extends WebSocketServerProtocol {
  onMessage(payload) {
    return this.sendMessage(createHash('sha256').update(payload).digest('hex'));
  }
}

const factory = new WebSocketServerFactory(`ws://127.0.0.1:${parseArgs().port}`); // 1 MiB messages: the default 64 MiB limit will do
factory.protocol = MessageHashServer;
announce(await listenWS(factory));
