// A server reads ahead of its consumer (README "Receive rules") and keeps the data it queues
// still masked: each piece is unmasked when the consumer takes it, into the message buffer in
// the same pass when the message is collected whole, in place otherwise. These check that
// every way of consuming a message gets the bytes the peer meant, whatever the keys, the
// fragmentation, the way TCP cut the bytes and the mix of consumers, with and without
// permessage-deflate (whose decoder must be fed unmasked bytes).
import { deflateRawSync, constants as zc } from 'node:zlib';
import fc from 'fast-check';
import { PerMessageDeflate } from '../../lib/extensions/permessage-deflate/permessage-deflate';
import { zlibEngine } from '../../lib/node/zlib-engine';
import type { Connection } from '../../lib/streams/connection';
import type { IncomingMessage } from '../../lib/streams/incoming-message';
import { concat, readAll } from '../helpers/connection-pair';
import { frame } from '../codec/helpers';
import { cutAt as cut } from '../helpers/masked-frames';
import { rawPeer, type RawPeer } from '../helpers/raw-peer';

const TEXT = 0x1;
const BINARY = 0x2;
const CONT = 0x0;
const RSV1 = 0b100;

type Consumer = 'bytes' | 'text' | 'stream' | 'frames';

interface Spec {
  readonly text: boolean;
  readonly payload: Uint8Array;
  /** Where the (possibly compressed) payload is cut into frames. */
  readonly fragmentCuts: number[];
  /** One masking key per frame, used in turn. */
  readonly keys: Uint8Array[];
  readonly consumer: Consumer;
}

/** The message's frames on the wire; compressed (RSV1 on the first frame) with `deflate`. */
function wireOf(m: Spec, deflate: boolean): Uint8Array {
  let body = m.payload;
  if (deflate) {
    const z = deflateRawSync(m.payload, { finishFlush: zc.Z_SYNC_FLUSH });
    body = z.subarray(0, z.length - 4); // RFC 7692 §7.2.1: the tail 00 00 ff ff is not sent
  }
  const fragments = cut(body, m.fragmentCuts);
  return concat(fragments.map((f, i) => frame(
    i === 0 ? (m.text ? TEXT : BINARY) : CONT, f, { fin: i === fragments.length - 1, key: m.keys[i % m.keys.length]!, rsv: deflate && i === 0 ? RSV1 : 0 },
  )));
}

async function consume(msg: IncomingMessage, how: Consumer): Promise<Uint8Array> {
  switch (how) {
    case 'bytes':
      return msg.bytes();
    case 'text':
      return new TextEncoder().encode(await msg.text());
    case 'stream':
      return readAll(msg.stream());
    case 'frames': {
      const parts: Uint8Array[] = [];
      const reader = msg.frames.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        parts.push(await value.bytes());
      }
      return concat(parts);
    }
  }
}

function deflateServer(): RawPeer {
  const ext = new PerMessageDeflate(zlibEngine()).accept([{
    name: 'permessage-deflate', params: [['server_no_context_takeover', true], ['client_no_context_takeover', true]],
  }])!.extension;
  return rawPeer('server', { extensions: [ext] });
}

/** Lets the connection parse everything it was given, with nobody reading. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

const ascii = (n: number, seed: number) => new Uint8Array(n).map((_, i) => 0x20 + ((i * 31 + seed) % 0x5f));
const binary = (n: number, seed: number) => new Uint8Array(n).map((_, i) => (i * 131 + seed) & 0xff);

const message = fc.record({
  text: fc.boolean(),
  size: fc.integer({ min: 0, max: 90_000 }),
  seed: fc.nat(255),
  fragmentCuts: fc.array(fc.nat(), { maxLength: 4 }),
  keys: fc.array(fc.uint8Array({ minLength: 4, maxLength: 4 }), { minLength: 1, maxLength: 3 }),
  consumer: fc.constantFrom<Consumer>('bytes', 'text', 'stream', 'frames'),
}).map(({ text, size, seed, fragmentCuts, keys, consumer }): Spec => ({
  text, payload: text ? ascii(size, seed) : binary(size, seed), fragmentCuts, keys,
  // text() only for text: a binary payload is not UTF-8.
  consumer: consumer === 'text' && !text ? 'bytes' : consumer,
}));

async function check(conn: Connection, messages: Spec[]): Promise<void> {
  for (const m of messages) {
    const msg = await conn.nextMessage();
    expect(msg).toBeDefined();
    const got = await consume(msg!, m.consumer);
    expect(Buffer.from(got).equals(Buffer.from(m.payload))).toBe(true);
  }
}

describe('data a server read ahead while still masked', () => {
  for (const deflate of [false, true]) {
    it(`reaches every consumer unmasked, whatever the keys, fragments, cuts and consumers (${deflate ? 'permessage-deflate' : 'uncompressed'}, property)`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 12 }), async (messages, wireCuts) => {
          const rp = deflate ? deflateServer() : rawPeer('server');
          try {
            // All of it arrives before anyone reads (below the 1 MiB receive mark: all read ahead).
            rp.peer.write(cut(concat(messages.map((m) => wireOf(m, deflate))), wireCuts));
            await settle();
            await check(rp.conn, messages);
          } finally {
            rp.peer.destroy();
          }
        }),
        { numRuns: deflate ? 25 : 60 },
      );
    });
  }

  it('a message collected whole after others were read ahead of it, in pieces whose key phase is not 0, is byte-exact', async () => {
    const rp = rawPeer('server');
    const key = new Uint8Array([0x9c, 0x01, 0xfe, 0x42]);
    const first: Spec = { text: false, payload: binary(5, 1), fragmentCuts: [], keys: [key], consumer: 'stream' };
    const second: Spec = { text: false, payload: binary(150_001, 2), fragmentCuts: [70_001], keys: [key, key.slice().reverse()], consumer: 'bytes' };
    // Reads that end inside each frame at every key phase (1, 2, 3).
    rp.peer.write(cut(concat([wireOf(first, false), wireOf(second, false)]), [3, 12, 9_001, 65_538, 70_030, 100_003]));
    await settle();
    await check(rp.conn, [first, second]);
    rp.peer.destroy();
  });
});
