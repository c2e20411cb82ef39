// Uploads of any size, written to disk and hashed (SHA-256) as they stream in.
//
// The server pipes each binary message's bytes through a hashing TransformStream into a file
// sink that takes a chunk only once the last is on disk, so memory holds the connection's
// receive window (1 MiB by default) and a chunk on its way to disk, never the message; when
// the message ends it answers with the file, its size and its digest. The client uploads a
// generated payload as one message of 1 MiB frames and checks the server's digest against its
// own.
//
//   node examples/out/upload-hashed-to-disk.js                     server and client in one process
//   node examples/out/upload-hashed-to-disk.js server [port]       the server alone
//   node examples/out/upload-hashed-to-disk.js client <ws-url>     the client alone
//
// Environment: UPLOAD_MIB, the size of the upload (default 64); UPLOAD_DIR, where the server
// writes (default a fresh temporary folder, removed when the self-test ends).
import { createHash, randomFillSync, randomUUID } from 'node:crypto';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, serve, type Connection, type WebSocketServerHandle } from 'websocket-streams/node';

const MiB = 1024 * 1024;
const FRAME_BYTES = 1 * MiB;
// Nothing of a message is held in memory, so the cap is about disk space, not memory. The
// default (64 MiB) would refuse larger uploads with 1009 from the first frame over it.
const MAX_UPLOAD_BYTES = 16 * 1024 * MiB;

/** What the server answers to each upload, as a JSON text message. */
interface UploadReceipt {
  readonly file: string;
  readonly bytes: number;
  readonly sha256: string;
}

async function startServer(port: number, dir: string): Promise<WebSocketServerHandle> {
  return serve({ host: '127.0.0.1', port, maxMessageSize: MAX_UPLOAD_BYTES }, (conn) => receiveUploads(conn, dir));
}

async function receiveUploads(conn: Connection, dir: string): Promise<void> {
  for await (const msg of conn) {
    if (msg.type !== 'binary') {
      await conn.close(1003, 'Only binary uploads are accepted');
      return;
    }
    const file = join(dir, `${randomUUID()}.bin`);
    const hash = createHash('sha256');
    let bytes = 0;
    const hashing = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        hash.update(chunk);
        bytes += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    try {
      // pipeTo waits for each write to the file, and the connection stops reading the socket
      // while it waits: a slow disk slows the client down instead of filling memory.
      await msg.stream().pipeThrough(hashing).pipeTo(await newFileSink(file));
    } catch (err) {
      await rm(file, { force: true }); // a message cut short (the peer went away) is no upload
      throw err;
    }
    const receipt: UploadReceipt = { file, bytes, sha256: hash.digest('hex') };
    await conn.send(JSON.stringify(receipt));
  }
}

/**
 * A new file as a WritableStream that asks for the next chunk only once the last one is on
 * disk. Not `Writable.toWeb(createWriteStream(path))`: on Node 20 that stream counts the
 * file stream's 16 KiB high-water mark in chunks, not bytes, so it signals no backpressure
 * before 16 384 chunks are queued, and a large upload piped into it ends up in memory.
 */
async function newFileSink(path: string): Promise<WritableStream<Uint8Array>> {
  const file = await open(path, 'ax'); // a name of our own: fail rather than append to another upload
  return new WritableStream<Uint8Array>({
    write: (chunk) => file.appendFile(chunk), // all of the chunk, however many write(2) calls that takes
    close: () => file.close(),
    abort: () => file.close(),
  });
}

/**
 * `totalBytes` of random data, made a frame at a time as the connection asks for it (a pull
 * per frame, so the client never holds more than the frames in flight), hashed as it goes.
 */
function generatedUpload(totalBytes: number): { body: ReadableStream<Uint8Array>; sha256: () => string } {
  const hash = createHash('sha256');
  let left = totalBytes;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (left === 0) {
        controller.close();
        return;
      }
      // A fresh buffer per frame: the connection may still be writing the previous one.
      const chunk = randomFillSync(new Uint8Array(Math.min(FRAME_BYTES, left)));
      left -= chunk.byteLength;
      hash.update(chunk);
      controller.enqueue(chunk);
    },
  }, { highWaterMark: 0 });
  return { body, sha256: () => hash.digest('hex') };
}

async function upload(url: string, totalBytes: number): Promise<{ sent: string; receipt: UploadReceipt }> {
  const conn = await connect(url);
  try {
    const payload = generatedUpload(totalBytes);
    // One binary message: a frame per chunk, then an empty final frame, since a stream's end
    // is known only after its last chunk.
    await conn.send(payload.body);
    const reply = await conn.nextMessage();
    if (reply === undefined) throw new Error(`The server closed without a receipt: ${JSON.stringify(await conn.closed)}`);
    return { sent: payload.sha256(), receipt: JSON.parse(await reply.text()) as UploadReceipt };
  } finally {
    await conn.close(1000);
  }
}

/** The most memory this process has held so far, minus what it held at `baseline`. */
const peakRssGrowth = (baseline: number): number => process.resourceUsage().maxRSS * 1024 - baseline;

async function selfTest(totalBytes: number): Promise<boolean> {
  const baseline = process.memoryUsage.rss();
  const ownDir = process.env.UPLOAD_DIR === undefined;
  const dir = process.env.UPLOAD_DIR ?? await mkdtemp(join(tmpdir(), 'uploads-'));
  const server = await startServer(0, dir);
  try {
    const { sent, receipt } = await upload(`ws://127.0.0.1:${server.port}/`, totalBytes);
    const ok = receipt.sha256 === sent && receipt.bytes === totalBytes;
    // The result line (see examples/README.md): read by spec/examples/examples.spec.ts.
    console.log(`RESULT ${JSON.stringify({
      ok, bytes: receipt.bytes, sent, received: receipt.sha256, file: receipt.file,
      peakRssGrowthMiB: Number((peakRssGrowth(baseline) / MiB).toFixed(1)),
    })}`);
    return ok;
  } finally {
    await server.close();
    if (ownDir) await rm(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<boolean> {
  const [mode = 'self-test', arg] = process.argv.slice(2);
  const totalBytes = Number(process.env.UPLOAD_MIB ?? 64) * MiB;
  if (mode === 'server') {
    const dir = process.env.UPLOAD_DIR ?? await mkdtemp(join(tmpdir(), 'uploads-'));
    const server = await startServer(Number(arg ?? 8080), dir);
    console.log(`listening on ${server.url}, writing uploads to ${dir}`);
    return true;
  }
  if (mode === 'client') {
    const { sent, receipt } = await upload(arg ?? 'ws://127.0.0.1:8080/', totalBytes);
    console.log(`uploaded ${receipt.bytes} bytes to ${receipt.file}: sha256 ${receipt.sha256} (${receipt.sha256 === sent ? 'matches' : `expected ${sent}`})`);
    return receipt.sha256 === sent;
  }
  return selfTest(totalBytes);
}

main().then((ok) => {
  if (!ok) process.exitCode = 1;
}, (err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
