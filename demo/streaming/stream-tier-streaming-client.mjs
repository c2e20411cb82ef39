// The streaming job on the stream tier: one frame declared as 2^63 − 1 bytes, written 1 MiB at
// a time; after each MiB the server's running digest is read and checked. Closing ends TCP,
// since the frame can never be finished (and a close frame cannot go inside it).
//   node demo/streaming/stream-tier-streaming-client.mjs [ws://127.0.0.1:9000] [--size MiB | --count n]
import { createHash } from 'node:crypto';
import { connect } from 'websocket-streams/node';
import { digestLine, ENDLESS, isMain, MiB, randomBytes, runClientMain } from './shared.mjs';

export async function run(url, { count, onDigest = () => {} }) {
  const conn = await connect(url);
  const hash = createHash('sha256');
  const frame = conn.beginMessage('binary').beginFrame(ENDLESS, { fin: true }).getWriter();
  let matched = 0;
  for (let n = 1; n <= count; n++) {
    const data = randomBytes(MiB);
    await frame.write(data);
    const mine = hash.update(data).copy().digest('hex');
    const theirs = await (await conn.nextMessage()).text();
    if (theirs === mine) matched++;
    onDigest(digestLine('batch', n, theirs, mine), n);
  }
  return { matched, total: count, bytes: count * MiB, close: await conn.close(1000) };
}

if (isMain(import.meta)) await runClientMain(run);
