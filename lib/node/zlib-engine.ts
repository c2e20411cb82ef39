// permessage-deflate's DeflateEngine on node:zlib (raw DEFLATE, Z_SYNC_FLUSH), with a bound on
// how many connections run zlib work at once: zlib work goes to libuv's small thread pool,
// and unbounded concurrent inflate/deflate is a known cause of memory blow-up in Node servers.
import { constants, createDeflateRaw, createInflateRaw, type DeflateRaw, type InflateRaw } from 'node:zlib';
import type { CodecSink, DeflateEngine, DeflaterOptions, RawCodec } from '../extensions/permessage-deflate/deflate-engine';
import { unzeroedBytes } from './unzeroed';

/**
 * zlib's output chunk (node's default is 16 KiB). Every chunk is a round trip between the
 * thread pool and the main thread; 64 KiB makes a 64 KiB message inflate in one instead of
 * four, and a 1 MiB one in 16 instead of 64 (bench deflate-64k, deflate-1m).
 */
const CHUNK_BYTES = 64 * 1024;

/** Options of `zlibEngine()`. */
export interface ZlibEngineOptions {
  /** Codecs that may have zlib work in flight at once, across all connections. Default 10. */
  concurrency?: number;
}

/**
 * A `DeflateEngine` on node:zlib. Engines share nothing; use one per server (or process) so
 * its concurrency bound covers all the connections.
 */
export function zlibEngine(options: ZlibEngineOptions = {}): DeflateEngine {
  const concurrency = options.concurrency ?? 10;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  const limiter = new Limiter(concurrency);
  // Reset codecs of connections without context takeover, by parameters, for any connection to
  // take. At most `concurrency` of each kind: more could not be busy at once anyway.
  const pool = new Map<string, ZlibCodec[]>();
  const take = (key: string, make: () => DeflateRaw | InflateRaw, handsOutOutput: boolean): ZlibCodec =>
    pool.get(key)?.pop() ?? new ZlibCodec(key, make, limiter, handsOutOutput);
  return {
    // zlib has no 256-byte window for raw deflate; with 512 it never reaches back more than
    // 512 − 262 = 250 bytes (its MAX_DIST), so its output fits an agreed window of 8 bits.
    createDeflater: (o: DeflaterOptions) => take(`d${o.windowBits}.${o.level}.${o.memLevel}`,
      () => createDeflateRaw({ windowBits: Math.max(9, o.windowBits), level: o.level, memLevel: o.memLevel, flush: constants.Z_SYNC_FLUSH, chunkSize: CHUNK_BYTES }), false),
    createInflater: (windowBits: number) => take(`i${windowBits}`,
      // A larger window decodes anything a smaller one made; 8 is zlib's smallest for inflate.
      () => createInflateRaw({ windowBits: Math.max(8, windowBits), flush: constants.Z_SYNC_FLUSH, chunkSize: CHUNK_BYTES }), true),
    recycle: (codec: RawCodec) => {
      if (!(codec instanceof ZlibCodec) || !codec.reset()) {
        codec.close();
        return;
      }
      let idle = pool.get(codec.key);
      if (idle === undefined) pool.set(codec.key, (idle = []));
      if (idle.length < concurrency) idle.push(codec);
      else codec.close();
    },
  };
}

/**
 * A chunk in memory of its own. Node's zlib writes its output chunks one after another into a
 * larger buffer it does not zero (Buffer.allocUnsafe), and one codec serves many connections
 * in turn: through a view's `.buffer` a user could read uninitialised heap memory, or another
 * connection's messages. One copy is small next to inflating.
 */
function ownedCopy(chunk: Buffer): Uint8Array {
  if (chunk.byteOffset === 0 && chunk.length === chunk.buffer.byteLength) return new Uint8Array(chunk.buffer, 0, chunk.length);
  const out = unzeroedBytes(chunk.length);
  out.set(chunk);
  return out;
}

/** The engine of every `perMessageDeflate` setting that names no `concurrency`: its bound is per process. */
let shared: DeflateEngine | undefined;
export function defaultZlibEngine(): DeflateEngine {
  return (shared ??= zlibEngine());
}

/** A counting semaphore, first come first served. */
class Limiter {
  #free: number;
  readonly #waiting: Array<() => void> = [];

  constructor(slots: number) {
    this.#free = slots;
  }

  /** Takes a free slot, if there is one. */
  tryTake(): boolean {
    if (this.#free === 0) return false;
    this.#free--;
    return true;
  }

  /** Calls `granted`, holding a slot, when one is given back. */
  wait(granted: () => void): void {
    this.#waiting.push(granted);
  }

  give(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#free++;
  }

  forget(granted: () => void): void {
    const i = this.#waiting.indexOf(granted);
    if (i >= 0) this.#waiting.splice(i, 1);
  }
}

const noSink: CodecSink = () => undefined;
const noop = (): void => undefined;

/**
 * One zlib stream, created on first use, whose every write is sync-flushed (`flush:
 * Z_SYNC_FLUSH`): a write's output is complete when its callback runs, so `flush()` only waits
 * for the writes in flight and costs no extra trip to the thread pool. Output goes to the sink
 * of the latest call; when the sink asks to wait, the stream is paused, and zlib stops at its
 * next output chunk (node's zlib resumes only when its output is read), so a small compressed
 * message cannot make it produce unbounded output nobody reads.
 */
class ZlibCodec implements RawCodec {
  /** Which pool the codec goes back to. */
  readonly key: string;
  readonly #make: () => DeflateRaw | InflateRaw;
  readonly #limiter: Limiter;
  readonly #handsOutOutput: boolean;
  #z: DeflateRaw | InflateRaw | undefined;
  #sink: CodecSink = noSink;
  #error: unknown;
  #closed = false;
  /** Writes handed to zlib whose callback has not run. */
  #inFlight = 0;
  /** Paused because the sink asked to wait. */
  #paused = false;
  #holdsSlot = false;
  #acquiring: Promise<void> | undefined;
  #slotWaiter: (() => void) | undefined;
  #slotReject: ((err: unknown) => void) | undefined;
  /** Callers of `flush()` and of a full write, waiting for the writes in flight / a drain. */
  #idleWaiters: Array<{ resolve(): void; reject(err: unknown): void }> = [];
  #drainWaiter: { resolve(): void; reject(err: unknown): void } | undefined;

  /**
   * An inflater's output is what the user receives; a deflater's only goes to the wire.
   * @param handsOutOutput the output reaches the user: give each chunk memory of its own
   */
  constructor(key: string, make: () => DeflateRaw | InflateRaw, limiter: Limiter, handsOutOutput: boolean) {
    this.key = key;
    this.#make = make;
    this.#limiter = limiter;
    this.#handsOutOutput = handsOutOutput;
  }

  write(input: Uint8Array, sink: CodecSink): void | Promise<void> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.#closed) return Promise.reject(new Error('The codec is closed'));
    this.#sink = sink;
    if (input.length === 0) return undefined;
    if (!this.#trySlot()) return this.#acquire().then(() => this.#write(input));
    return this.#write(input);
  }

  flush(sink: CodecSink): Promise<void> {
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.#closed) return Promise.reject(new Error('The codec is closed'));
    this.#sink = sink;
    if (this.#isIdle()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => this.#idleWaiters.push({ resolve, reject }));
  }

  /** Nothing in flight and no output held back (a paused stream can hold some). */
  #isIdle(): boolean {
    return this.#inFlight === 0 && !this.#paused && this.#acquiring === undefined && (this.#z?.readableLength ?? 0) === 0;
  }

  #checkIdle(): void {
    if (this.#error === undefined && this.#idleWaiters.length > 0 && this.#isIdle()) this.#settle(undefined);
  }

  /**
   * Forgets the history so another message (of any connection) can start afresh. False when
   * the codec cannot be reused: failed, closed, busy, or holding output.
   */
  reset(): boolean {
    if (this.#error !== undefined || this.#closed || this.#inFlight > 0 || this.#paused || this.#acquiring !== undefined) return false;
    const z = this.#z;
    if (z !== undefined) {
      if (z.readableLength > 0 || z.writableLength > 0) return false;
      z.reset();
    }
    this.#sink = noSink;
    this.#releaseSlot();
    return true;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const err = this.#error ?? new Error('The codec was closed');
    if (this.#slotWaiter) {
      this.#limiter.forget(this.#slotWaiter);
      const reject = this.#slotReject!;
      this.#slotWaiter = this.#slotReject = this.#acquiring = undefined;
      reject(err);
    }
    this.#releaseSlot();
    const z = this.#z;
    this.#z = undefined;
    if (z) {
      z.removeAllListeners('data');
      z.on('error', noop);
      z.destroy();
    }
    this.#settle(err);
  }

  #write(input: Uint8Array): void | Promise<void> {
    this.#inFlight++;
    const z = this.#stream();
    if (z.write(input, this.#onWritten)) return undefined;
    // zlib holds more than its high-water mark of input: wait until it has taken it.
    return new Promise<void>((resolve, reject) => {
      this.#drainWaiter = { resolve, reject };
      z.once('drain', () => {
        const w = this.#drainWaiter;
        this.#drainWaiter = undefined;
        w?.resolve();
      });
    });
  }

  readonly #onWritten = (): void => {
    this.#inFlight--;
    if (this.#inFlight > 0) return;
    if (!this.#paused) this.#releaseSlot();
    this.#checkIdle();
  };

  /** Resolves the `flush()` callers, or rejects them and a drain waiter with `err`. */
  #settle(err: unknown): void {
    const idle = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of idle) err === undefined ? w.resolve() : w.reject(err);
    if (err === undefined) return;
    const drain = this.#drainWaiter;
    this.#drainWaiter = undefined;
    drain?.reject(err);
  }

  #stream(): DeflateRaw | InflateRaw {
    if (this.#z) return this.#z;
    const z = this.#make();
    z.on('data', this.#onData);
    z.on('error', (err: Error) => this.#fail(err));
    this.#z = z;
    return z;
  }

  readonly #onData = (chunk: Buffer): void => {
    if (this.#error !== undefined) return;
    let wait: void | Promise<void>;
    try {
      wait = this.#sink(this.#handsOutOutput ? ownedCopy(chunk) : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    } catch (err) {
      this.#fail(err);
      return;
    }
    if (wait === undefined) {
      this.#checkIdle();
      return;
    }
    const z = this.#z!;
    z.pause();
    this.#paused = true;
    // Waiting on a consumer must not keep other connections from zlib.
    this.#releaseSlot();
    wait.then(
      () => {
        if (this.#closed || this.#error !== undefined) return;
        this.#acquire().then(() => {
          this.#paused = false;
          if (this.#inFlight === 0) this.#releaseSlot();
          z.resume();
          this.#checkIdle();
        }, noop);
      },
      (err: unknown) => this.#fail(err),
    );
  };

  /** Holds the slot now, if it can without waiting. */
  #trySlot(): boolean {
    if (!this.#holdsSlot && this.#acquiring === undefined && this.#limiter.tryTake()) this.#holdsSlot = true;
    return this.#holdsSlot;
  }

  /** Resolves holding the slot; concurrent callers share one request. */
  #acquire(): Promise<void> {
    if (this.#trySlot()) return Promise.resolve();
    if (this.#acquiring) return this.#acquiring;
    return (this.#acquiring = new Promise<void>((resolve, reject) => {
      const granted = (): void => {
        this.#slotWaiter = undefined;
        this.#slotReject = undefined;
        this.#acquiring = undefined;
        if (this.#closed) {
          this.#limiter.give();
          reject(this.#error ?? new Error('The codec was closed'));
          return;
        }
        this.#holdsSlot = true;
        resolve();
      };
      this.#slotWaiter = granted;
      this.#slotReject = reject;
      this.#limiter.wait(granted);
    }));
  }

  #releaseSlot(): void {
    if (!this.#holdsSlot) return;
    this.#holdsSlot = false;
    this.#limiter.give();
  }

  #fail(err: unknown): void {
    if (this.#error !== undefined) return;
    this.#error = err;
    this.close();
  }
}
