// Autobahn's streaming demo, streaming client: ONE binary message of ONE frame declared as
// 2^63 − 1 bytes (the most RFC 6455 allows), its data sent in random 1 MiB batches with
// sendMessageFrameData. After each batch the server's running SHA-256 comes back and is checked
// against ours. When the size is done we close (1000): as the frame can never be finished, the
// library ends TCP instead of sending a close frame (which cannot go inside a frame).
//   node demo/streaming/streaming-client.mjs [ws://127.0.0.1:9000] [--size MiB | --count n]
import { createHash } from 'node:crypto';
import { WebSocketClientFactory, WebSocketClientProtocol, connectWS } from 'websocket-streams/node';
import { digestLine, ENDLESS, isMain, MiB, randomBytes, runClientMain } from './shared.mjs';

const text = new TextDecoder();

export async function run(url, { count, onDigest = () => {} }) {
  const hash = createHash('sha256');
  let matched = 0;
  let received = 0;
  let expected;
  let finished;
  const done = new Promise((resolve) => (finished = resolve));

  class StreamingHashClient extends WebSocketClientProtocol {
    onOpen() {
      this.beginMessage(true);
      this.beginMessageFrame(ENDLESS); // 0x7fffffffffffffffn: a bigint, as it is beyond 2^53 − 1
      return this.#sendNext();
    }
    onMessage(payload) {
      const theirs = text.decode(payload);
      received++;
      if (theirs === expected) matched++;
      onDigest(digestLine('batch', received, theirs, expected), received);
      return this.#sendNext();
    }
    onClose(wasClean, code, reason) {
      finished({ wasClean, code, reason });
    }
    #sendNext() {
      if (received === count) {
        void this.sendClose(1000);
        return undefined;
      }
      const batch = randomBytes(MiB);
      hash.update(batch);
      expected = hash.copy().digest('hex');
      return this.sendMessageFrameData(batch);
    }
  }

  const factory = new WebSocketClientFactory(url);
  factory.protocol = StreamingHashClient;
  await connectWS(factory);
  const close = await done;
  return { matched, total: count, bytes: received * MiB, close };
}

if (isMain(import.meta)) await runClientMain(run);
