// The streaming job on the stream tier: the message's byte stream goes through a digest tap
// that sends the running SHA-256 at every 1 MiB boundary, however TCP cut the chunks.
// maxFrameSize: Infinity is the opt-in to the client's frame of 2^63 − 1 bytes.
//   node demo/streaming/stream-tier-streaming-server.mjs [--port 9000]
import { serve } from 'websocket-streams/node';
import { announce, DigestTap, endedByConnection, MiB, parseArgs } from './shared.mjs';

const limits = { maxFrameSize: Infinity, maxMessageSize: Infinity };
announce(await serve({ host: '127.0.0.1', port: parseArgs().port, ...limits }, async (conn) => {
  for await (const msg of conn) {
    // An endless frame ends when the client drops TCP: the stream errors, and that is the end.
    await msg.stream().pipeTo(new DigestTap(MiB, (hex) => conn.send(hex)).writable).catch(endedByConnection);
  }
}));
