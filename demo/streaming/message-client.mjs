// Autobahn's streaming demo, message-based client: sends random 1 MiB binary messages, one at a
// time; each answer is the server's SHA-256 of it, checked against our own before the next.
//   node demo/streaming/message-client.mjs [ws://127.0.0.1:9000] [--size MiB | --count n]
import { WebSocketClientFactory, WebSocketClientProtocol, connectWS } from 'websocket-streams/node';
import { digestLine, isMain, MiB, randomBytes, runClientMain, sha256 } from './shared.mjs';

const text = new TextDecoder();

/** Runs the client against `url`; resolves when the connection is closed. */
export async function run(url, { count, onDigest = () => {} }) {
  let matched = 0;
  let received = 0;
  let expected;
  let finished;
  const done = new Promise((resolve) => (finished = resolve));

  class MessageHashClient extends WebSocketClientProtocol {
    onOpen() {
      return this.#sendNext();
    }
    onMessage(payload) {
      const theirs = text.decode(payload);
      received++;
      if (theirs === expected) matched++;
      onDigest(digestLine('message', received, theirs, expected), received);
      return this.#sendNext();
    }
    onClose(wasClean, code, reason) {
      finished({ wasClean, code, reason });
    }
    #sendNext() {
      if (received === count) {
        void this.sendClose(1000); // not awaited: the tier must go on reading to see the close
        return undefined;
      }
      const data = randomBytes(MiB);
      expected = sha256(data);
      return this.sendMessage(data, true);
    }
  }

  const factory = new WebSocketClientFactory(url);
  factory.protocol = MessageHashClient;
  await connectWS(factory);
  const close = await done;
  return { matched, total: count, bytes: received * MiB, close };
}

if (isMain(import.meta)) await runClientMain(run);
