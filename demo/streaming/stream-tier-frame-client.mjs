// The frame-based job on the stream tier: one message, a random 1 MiB frame at a time, each
// answered by the server's running digest, checked against ours; then end() and close.
//   node demo/streaming/stream-tier-frame-client.mjs [ws://127.0.0.1:9000] [--size MiB | --count n]
import { createHash } from 'node:crypto';
import { connect } from 'websocket-streams/node';
import { digestLine, isMain, MiB, randomBytes, runClientMain } from './shared.mjs';

export async function run(url, { count, onDigest = () => {} }) {
  const conn = await connect(url);
  const hash = createHash('sha256');
  const message = conn.beginMessage('binary');
  let matched = 0;
  for (let n = 1; n <= count; n++) {
    const data = randomBytes(MiB);
    await message.sendFrame(data);
    const mine = hash.update(data).copy().digest('hex');
    const theirs = await (await conn.nextMessage()).text();
    if (theirs === mine) matched++;
    onDigest(digestLine('frame', n, theirs, mine), n);
  }
  await message.end();
  return { matched, total: count, bytes: count * MiB, close: await conn.close(1000) };
}

if (isMain(import.meta)) await runClientMain(run);
