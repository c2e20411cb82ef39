// The message-based job on the stream tier: send a random 1 MiB message, read the digest, check.
//   node demo/streaming/stream-tier-message-client.mjs [ws://127.0.0.1:9000] [--size MiB | --count n]
import { connect } from 'websocket-streams/node';
import { digestLine, isMain, MiB, randomBytes, runClientMain, sha256 } from './shared.mjs';

export async function run(url, { count, onDigest = () => {} }) {
  const conn = await connect(url);
  let matched = 0;
  for (let n = 1; n <= count; n++) {
    const data = randomBytes(MiB);
    const mine = sha256(data);
    await conn.send(data);
    const theirs = await (await conn.nextMessage()).text();
    if (theirs === mine) matched++;
    onDigest(digestLine('message', n, theirs, mine), n);
  }
  return { matched, total: count, bytes: count * MiB, close: await conn.close(1000) };
}

if (isMain(import.meta)) await runClientMain(run);
