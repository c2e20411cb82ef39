// The frame-based job on the stream tier: every frame is a stream of its own; after each frame
// that carried data, the running SHA-256 of the message goes back.
//   node demo/streaming/stream-tier-frame-server.mjs [--port 9000]
import { createHash } from 'node:crypto';
import { serve } from 'websocket-streams/node';
import { announce, parseArgs, sha256Sink } from './shared.mjs';

announce(await serve({ host: '127.0.0.1', port: parseArgs().port, maxMessageSize: Infinity }, async (conn) => {
  for await (const msg of conn) {
    const hash = createHash('sha256');
    for await (const frame of msg.frames) {
      await frame.data.pipeTo(sha256Sink(hash));
      if (frame.length > 0) await conn.send(hash.copy().digest('hex'));
    }
  }
}));
