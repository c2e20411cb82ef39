// Autobahn's streaming demo, frame-based client: one binary message of random 1 MiB frames.
// After each frame the server answers with its running SHA-256 of the message; we compare it
// with our own running digest, then send the next frame. After the last: endMessage(), close.
//   node demo/streaming/frame-client.mjs [ws://127.0.0.1:9000] [--size MiB | --count n]
import { createHash } from 'node:crypto';
import { WebSocketClientFactory, WebSocketClientProtocol, connectWS } from 'websocket-streams/node';
import { digestLine, isMain, MiB, randomBytes, runClientMain } from './shared.mjs';

const text = new TextDecoder();

export async function run(url, { count, onDigest = () => {} }) {
  const hash = createHash('sha256');
  let matched = 0;
  let received = 0;
  let expected;
  let finished;
  const done = new Promise((resolve) => (finished = resolve));

  class FrameHashClient extends WebSocketClientProtocol {
    onOpen() {
      this.beginMessage(true);
      return this.#sendNext();
    }
    onMessage(payload) {
      const theirs = text.decode(payload);
      received++;
      if (theirs === expected) matched++;
      onDigest(digestLine('frame', received, theirs, expected), received);
      return this.#sendNext();
    }
    onClose(wasClean, code, reason) {
      finished({ wasClean, code, reason });
    }
    async #sendNext() {
      if (received === count) {
        await this.endMessage(); // an empty final frame: the server answers no digest for it
        void this.sendClose(1000);
        return;
      }
      const data = randomBytes(MiB);
      hash.update(data);
      expected = hash.copy().digest('hex');
      await this.sendMessageFrame(data);
    }
  }

  const factory = new WebSocketClientFactory(url);
  factory.protocol = FrameHashClient;
  await connectWS(factory);
  const close = await done;
  return { matched, total: count, bytes: received * MiB, close };
}

if (isMain(import.meta)) await runClientMain(run);
