// Autobahn's streaming demo, producer-paced client (for streaming-server.mjs): one frame of
// 2^63 − 1 bytes written in 1 KiB chunks as fast as backpressure allows (each send's promise is
// awaited, nothing else). The server's digests at every 1 MiB boundary arrive meanwhile and are
// checked against the running digests we noted while producing.
//   node demo/streaming/producer-client.mjs [ws://127.0.0.1:9000] [--size MiB | --count n]
import { createHash } from 'node:crypto';
import { WebSocketClientFactory, WebSocketClientProtocol, connectWS } from 'websocket-streams/node';
import { digestLine, ENDLESS, isMain, KiB, MiB, randomBytes, runClientMain } from './shared.mjs';

const text = new TextDecoder();

export async function run(url, { count, onDigest = () => {} }) {
  const hash = createHash('sha256');
  const expected = []; // digests we produced and the server has not answered yet
  let matched = 0;
  let received = 0;
  let finished;
  const done = new Promise((resolve) => (finished = resolve));

  class ProducerPacedClient extends WebSocketClientProtocol {
    onOpen() {
      this.beginMessage(true);
      this.beginMessageFrame(ENDLESS);
      if (count === 0) void this.sendClose(1000);
      else this.#produce().catch(() => undefined); // not awaited: digests must be read meanwhile; onClose tells the end
    }
    onMessage(payload) {
      const theirs = text.decode(payload);
      const mine = expected.shift();
      received++;
      if (theirs === mine) matched++;
      onDigest(digestLine('batch', received, theirs, mine), received);
      if (received === count) void this.sendClose(1000);
    }
    onClose(wasClean, code, reason) {
      finished({ wasClean, code, reason });
    }
    async #produce() {
      for (let i = 0; i < count; i++) {
        const batch = randomBytes(MiB);
        hash.update(batch);
        expected.push(hash.copy().digest('hex'));
        for (let at = 0; at < MiB; at += KiB) await this.sendMessageFrameData(batch.subarray(at, at + KiB));
      }
    }
  }

  const factory = new WebSocketClientFactory(url);
  factory.protocol = ProducerPacedClient;
  await connectWS(factory);
  const close = await done;
  return { matched, total: count, bytes: received * MiB, close };
}

if (isMain(import.meta)) await runClientMain(run);
