// SHA-256 on a worker thread, fed through a ring of blocks in shared memory. One thread cannot
// both take bytes off a socket at ~2 GB/s and hash them at ~1.45 GB/s (node:crypto on this
// machine): hashing on the main thread caps even a raw TCP receiver at ~700 MB/s.
//
// The main thread copies each chunk into the current block; a full block is published by bumping
// a shared counter and waking the worker with Atomics.notify (a postMessage per block cost ~70 µs,
// transferring an ArrayBuffer per block ~0.5 ms). The worker hashes blocks in order and bumps its
// own counter; the main thread reads it synchronously and only waits (Atomics.waitAsync) when the
// ring is full, which is the backpressure that stops the socket. The ring is small (2 MiB) so the
// blocks stay in cache between the copy and the hash, and memory stays bounded.
import { Worker } from 'node:worker_threads';

const BLOCK = 256 * 1024;
const BLOCKS = 8;
// Control words: [0] blocks published, [1] blocks hashed; then per block: [2 + 2b] hash id,
// [3 + 2b] length, or -1 for "digest this id now"; last, SLEEPING.
const PUBLISHED = 0;
const HASHED = 1;
// Set by the worker while it sleeps in Atomics.wait: a notify (a futex wake) only then. The worker
// sets it before waiting and the writer reads it after publishing (both sequentially consistent),
// so one of them always sees the other: Atomics.wait returns at once if a block came meanwhile.
const SLEEPING = 2 + 2 * BLOCKS;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { ring, ctrl: ctrlBuffer, BLOCK, BLOCKS } = workerData;
const ctrl = new Int32Array(ctrlBuffer);
const hashes = new Map();
let next = 0;
for (;;) {
  while (Atomics.load(ctrl, ${PUBLISHED}) === next) {
    Atomics.store(ctrl, ${SLEEPING}, 1);
    Atomics.wait(ctrl, ${PUBLISHED}, next);
    Atomics.store(ctrl, ${SLEEPING}, 0);
  }
  const b = next % BLOCKS;
  const id = ctrl[2 + 2 * b];
  const len = ctrl[3 + 2 * b];
  let h = hashes.get(id);
  if (!h) hashes.set(id, (h = createHash('sha256')));
  if (len >= 0) {
    h.update(new Uint8Array(ring, b * BLOCK, len));
  } else {
    hashes.delete(id);
    parentPort.postMessage({ id, digest: h.digest('hex') });
  }
  next++;
  Atomics.store(ctrl, ${HASHED}, next);
  Atomics.notify(ctrl, ${HASHED});
}`;

/**
 * A hashing thread with its ring. The ring has one writer: hashes made by one HashWorker must run
 * one after another (a connection's messages do), so the server makes one per connection.
 */
export class HashWorker {
  #ring = new SharedArrayBuffer(BLOCK * BLOCKS);
  #ctrl = new Int32Array(new SharedArrayBuffer(4 * (3 + 2 * BLOCKS)));
  #worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ring: this.#ring, ctrl: this.#ctrl.buffer, BLOCK, BLOCKS } });
  #published = 0;
  #digests = new Map();
  #nextId = 1;
  #writing = false;

  constructor() {
    this.#worker.unref();
    this.#worker.on('message', (m) => {
      this.#digests.get(m.id)?.(m.digest);
      this.#digests.delete(m.id);
    });
  }

  /** A new SHA-256 computation: the previous one must have been digested. */
  sha256() {
    if (this.#digests.size > 0 || this.#writing) throw new Error('HashWorker: one hash at a time');
    this.#writing = true;
    return new WorkerSha256(this, this.#nextId++);
  }

  /** Ends the thread. */
  close() {
    return this.#worker.terminate();
  }

  /** The bytes of the next block to fill, or null when the ring is full (then `waitForBlock()`). */
  nextBlock() {
    if (this.#published - Atomics.load(this.#ctrl, HASHED) >= BLOCKS) return null;
    return new Uint8Array(this.#ring, (this.#published % BLOCKS) * BLOCK, BLOCK);
  }

  /** Resolves once the worker has taken a block off a full ring. */
  async waitForBlock() {
    for (;;) {
      const hashed = Atomics.load(this.#ctrl, HASHED);
      if (this.#published - hashed < BLOCKS) return;
      await Atomics.waitAsync(this.#ctrl, HASHED, hashed).value;
    }
  }

  /** Publishes the block `nextBlock()` gave: `len` bytes for hash `id`, or -1 to finish `id`. */
  publish(id, len) {
    const b = this.#published % BLOCKS;
    this.#ctrl[2 + 2 * b] = id;
    this.#ctrl[3 + 2 * b] = len;
    Atomics.store(this.#ctrl, PUBLISHED, ++this.#published);
    if (Atomics.load(this.#ctrl, SLEEPING) === 1) Atomics.notify(this.#ctrl, PUBLISHED);
  }

  /** Publishes a "digest now" for `id`, resolving with its hex digest. */
  async finish(id) {
    if (this.nextBlock() === null) await this.waitForBlock();
    const digest = new Promise((resolve) => this.#digests.set(id, resolve));
    this.#writing = false;
    this.publish(id, -1);
    return digest;
  }
}

/**
 * One SHA-256 fed through a HashWorker. `update()` returns a promise only when it must wait.
 */
export class WorkerSha256 {
  #pool;
  #id;
  #block = null;
  #fill = 0;

  constructor(pool, id) {
    this.#pool = pool;
    this.#id = id;
  }

  /** Takes a copy of `chunk`; undefined, or a promise to await before the next call. */
  update(chunk) {
    let at = 0;
    while (at < chunk.length) {
      if (this.#block === null) {
        this.#block = this.#pool.nextBlock();
        if (this.#block === null) return this.#pool.waitForBlock().then(() => this.update(chunk.subarray(at)));
      }
      const n = Math.min(chunk.length - at, BLOCK - this.#fill);
      this.#block.set(n === chunk.length ? chunk : chunk.subarray(at, at + n), this.#fill);
      this.#fill += n;
      at += n;
      if (this.#fill === BLOCK) this.#publish();
    }
    return undefined;
  }

  /** The hex digest of everything updated so far. */
  digest() {
    if (this.#fill > 0) this.#publish();
    this.#block = null;
    return this.#pool.finish(this.#id);
  }

  #publish() {
    this.#pool.publish(this.#id, this.#fill);
    this.#block = null;
    this.#fill = 0;
  }
}
