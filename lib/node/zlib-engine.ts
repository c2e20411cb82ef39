// permessage-deflate's DeflateEngine on node:zlib (raw DEFLATE, Z_SYNC_FLUSH), with a bound on
// how many connections run zlib work at once: zlib work goes to libuv's small thread pool,
// and unbounded concurrent inflate/deflate is a known cause of memory blow-up in Node servers.
import { constants, createDeflateRaw, createInflateRaw, type DeflateRaw, type InflateRaw } from 'node:zlib';
import type { CodecSink, DeflateEngine, DeflaterOptions, RawCodec } from '../extensions/permessage-deflate/deflate-engine';

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
  return {
    createDeflater: (o: DeflaterOptions) => new ZlibCodec(
      () => createDeflateRaw({ windowBits: o.windowBits, level: o.level, memLevel: o.memLevel }), limiter),
    createInflater: (windowBits: number) => new ZlibCodec(
      // A larger window decodes anything a smaller one made; 8 is zlib's smallest for inflate.
      () => createInflateRaw({ windowBits: Math.max(8, windowBits) }), limiter),
  };
}

/** Shared by every engine made without options: the default bound is per process. */
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

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * One zlib stream, created on first use. Output goes to the sink of the latest call; when the
 * sink asks to wait, the stream is paused, and zlib stops at its next output chunk (node's zlib
 * resumes processing only when its output is read), so a small compressed message cannot make
 * it produce unbounded output nobody reads.
 */
class ZlibCodec implements RawCodec {
  readonly #make: () => DeflateRaw | InflateRaw;
  readonly #limiter: Limiter;
  #z: DeflateRaw | InflateRaw | undefined;
  #sink: CodecSink = () => undefined;
  #error: unknown;
  #closed = false;
  /** Writes handed to zlib whose callback has not run. */
  #inFlight = 0;
  #holdsSlot = false;
  #slotWaiter: (() => void) | undefined;
  #slotReject: ((err: unknown) => void) | undefined;
  #acquiring: Promise<void> | undefined;
  /** Paused because the sink asked to wait. */
  #paused = false;
  /** The caller waits on this: a slot, a drain, or a flush. */
  #waiter: Waiter | undefined;

  constructor(make: () => DeflateRaw | InflateRaw, limiter: Limiter) {
    this.#make = make;
    this.#limiter = limiter;
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
    const go = (): Promise<void> => new Promise<void>((resolve, reject) => {
      this.#waiter = { resolve, reject };
      this.#inFlight++;
      this.#stream().flush(constants.Z_SYNC_FLUSH, () => {
        this.#afterWrite();
        const w = this.#waiter;
        this.#waiter = undefined;
        if (this.#error !== undefined) w?.reject(this.#error);
        else w?.resolve();
      });
    });
    return this.#trySlot() ? go() : this.#acquire().then(go);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#slotWaiter) {
      this.#limiter.forget(this.#slotWaiter);
      const reject = this.#slotReject!;
      this.#slotWaiter = this.#slotReject = this.#acquiring = undefined;
      reject(this.#error ?? new Error('The codec was closed'));
    }
    this.#releaseSlot();
    const z = this.#z;
    this.#z = undefined;
    if (z) {
      z.removeAllListeners('data');
      z.on('error', () => undefined);
      z.destroy();
    }
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.reject(this.#error ?? new Error('The codec was closed'));
  }

  #write(input: Uint8Array): void | Promise<void> {
    this.#inFlight++;
    const z = this.#stream();
    if (z.write(input, this.#onWritten)) return undefined;
    // zlib holds more than its high-water mark of input: wait until it has taken it.
    return new Promise<void>((resolve, reject) => {
      this.#waiter = { resolve, reject };
      z.once('drain', () => {
        const w = this.#waiter;
        this.#waiter = undefined;
        w?.resolve();
      });
    });
  }

  readonly #onWritten = (): void => this.#afterWrite();

  #afterWrite(): void {
    this.#inFlight--;
    if (this.#inFlight === 0 && !this.#paused) this.#releaseSlot();
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
      wait = this.#sink(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    } catch (err) {
      this.#fail(err);
      return;
    }
    if (wait === undefined) return;
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
        }, () => undefined);
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
    const w = this.#waiter;
    this.#waiter = undefined;
    this.close();
    w?.reject(err);
  }
}
