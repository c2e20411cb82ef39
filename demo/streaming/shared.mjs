// What every file of the streaming demo shares: arguments, random data, SHA-256 helpers, and
// the server side of `npm run demo` (listening line, memory sampling over an IPC channel).
import { createHash, randomFillSync } from 'node:crypto';
import { pathToFileURL } from 'node:url';

export const MiB = 1024 * 1024;
export const KiB = 1024;
/** The largest frame RFC 6455 allows (§5.2: a 64-bit length whose most significant bit is 0). */
export const ENDLESS = 0x7fff_ffff_ffff_ffffn;

/**
 * `[url] [--size MiB] [--count n] [--port n]`. `--size` is the amount of data (default 10 MiB);
 * `--count` the number of 1 MiB units (messages, frames, batches) and wins over `--size`.
 */
export function parseArgs(argv = process.argv.slice(2)) {
  const out = { url: 'ws://127.0.0.1:9000', count: 10, port: Number(process.env.PORT ?? 9000) };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new RangeError(`${a} takes a whole number, got ${argv[i]}`);
      return v;
    };
    if (a === '--size' || a === '--count') out.count = num();
    else if (a === '--port') out.port = num();
    else if (/^wss?:\/\//.test(a)) out.url = a;
    else throw new RangeError(`Unknown argument ${a}; usage: [ws://host:port] [--size MiB | --count n] [--port n]`);
  }
  return out;
}

/** A fresh buffer of `n` random bytes. */
export const randomBytes = (n) => randomFillSync(Buffer.allocUnsafe(n));

export const sha256 = (data) => createHash('sha256').update(data).digest('hex');

/** A WritableStream that feeds every chunk into `hash`. */
export const sha256Sink = (hash) => new WritableStream({ write: (chunk) => void hash.update(chunk) });

/**
 * Hashes a byte stream as it arrives and calls `onDigest(runningHex, n)` exactly at every
 * `every`-byte boundary, however the chunks are cut: a chunk across a boundary is split there.
 * `update()` returns the promise of the last `onDigest` it called (backpressure), if any.
 */
export class DigestTap {
  #hash = createHash('sha256');
  #seen = 0;
  #n = 0;
  constructor(every, onDigest) {
    this.every = every;
    this.onDigest = onDigest;
  }
  async update(chunk) {
    while (chunk.length > 0) {
      const part = chunk.subarray(0, this.every - (this.#seen % this.every));
      this.#hash.update(part);
      this.#seen += part.length;
      chunk = chunk.subarray(part.length);
      if (this.#seen % this.every === 0) await this.onDigest(this.#hash.copy().digest('hex'), ++this.#n);
    }
  }
  /** The same tap as a WritableStream sink. */
  get writable() {
    return new WritableStream({ write: (chunk) => this.update(chunk) });
  }
}

/**
 * For stream-tier handlers: a message or frame stream that errors because the connection
 * ended (a `WebSocketError`: the client dropped TCP inside its endless frame) is how a
 * connection ends here, not a failure of the handler.
 */
export function endedByConnection(err) {
  if (err?.name !== 'WebSocketError') throw err;
}

/** Runs `main()` when the file is the entry point (not when `npm run demo` imports it). */
export function isMain(meta) {
  return process.argv[1] !== undefined && meta.url === pathToFileURL(process.argv[1]).href;
}

/**
 * Prints `listening on ws://…`. When started by `npm run demo` (an IPC channel), also reports
 * the port, samples RSS every 20 ms and answers `reset`, `rss` and `exit`.
 */
export function announce(server) {
  console.log(`listening on ${server.url}`);
  if (!process.send) return;
  let baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  process.on('message', (m) => {
    if (m === 'reset') peak = baseline = process.memoryUsage().rss;
    if (m === 'rss') process.send({ type: 'rss', growth: Math.max(peak, process.memoryUsage().rss) - baseline });
    if (m === 'exit') {
      clearInterval(sampler);
      server.close().then(() => process.exit(0));
    }
  });
  process.send({ type: 'listening', port: server.address.port });
}

/** What a client prints for digest `n`, with the mismatch spelled out. */
export function digestLine(what, n, theirs, mine) {
  return `Digest for ${what} ${n} computed by server: ${theirs}${theirs === mine ? '' : ` MISMATCH (expected ${mine})`}`;
}

/** The CLI side of a client: prints each digest, then a summary; exit code 1 on any mismatch. */
export async function runClientMain(run) {
  const { url, count } = parseArgs();
  const t0 = performance.now();
  const r = await run(url, { count, onDigest: (line) => console.log(line) });
  const s = (performance.now() - t0) / 1000;
  const closed = r.close.code === 1006 ? 'closed 1006 (TCP ended: a close frame cannot go inside the endless frame)' : `closed ${r.close.code}`;
  console.log(`${r.matched}/${r.total} digests matched, ${(r.bytes / MiB).toFixed(0)} MiB in ${s.toFixed(2)} s (${(r.bytes / s / 1e6).toFixed(0)} MB/s); ${closed}`);
  process.exitCode = r.matched === r.total && r.total === count ? 0 : 1;
}
