// The message-based job on the stream tier: each message's bytes are piped through SHA-256 as
// they arrive (msg.stream() → hashing sink: constant memory, any size); the digest goes back.
//   node demo/streaming/stream-tier-message-server.mjs [--port 9000]
import { createHash } from 'node:crypto';
import { serve } from 'websocket-streams/node';
import { announce, parseArgs, sha256Sink } from './shared.mjs';

announce(await serve({ host: '127.0.0.1', port: parseArgs().port }, async (conn) => {
  for await (const msg of conn) {
    const hash = createHash('sha256');
    await msg.stream().pipeTo(sha256Sink(hash));
    await conn.send(hash.digest('hex'));
  }
}));
