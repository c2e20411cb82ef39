// Each received message is piped through CompressionStream('gzip') into its own file, as it
// streams (never held whole); the reply says where it went and how big it came out.
// Usage: node demo/compress/gzip-to-file.mjs [--dir DIR]   (PORT=… to choose the port)
import { mkdirSync } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '../../dist/node.mjs';

const dirArg = process.argv.indexOf('--dir');
const dir = dirArg > 0 ? process.argv[dirArg + 1] : join(tmpdir(), 'websocket-streams-compress');
mkdirSync(dir, { recursive: true });
let n = 0;

const server = await serve(
  { host: '127.0.0.1', port: Number(process.env.PORT ?? 8080), maxMessageSize: Number.MAX_SAFE_INTEGER },
  async (conn) => {
    for await (const msg of conn) {
      const file = join(dir, `message-${++n}.gz`);
      await msg.stream().pipeThrough(new CompressionStream('gzip')).pipeTo(await fileSink(file));
      await conn.send(`saved ${file} ${(await stat(file)).size}`);
    }
  },
);
console.log(`listening on ${server.url}`);

/**
 * A new file as a WritableStream that takes the next chunk once the last is on disk. (Node 20's
 * `Writable.toWeb(createWriteStream())` counts its high-water mark in chunks, not bytes: it
 * would queue a large message in memory.)
 */
async function fileSink(path) {
  const fh = await open(path, 'w');
  return new WritableStream({ write: (chunk) => fh.appendFile(chunk), close: () => fh.close(), abort: () => fh.close() });
}
