import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ByteTransport, TransportSink } from '../streams/byte-transport';

// Bits of the `#flags` field (see the class).
const PAUSED = 1 << 0;
const WAITING_DRAIN = 1 << 1;
const CLOSED = 1 << 2;
/** This socket wrote during the current event-loop turn (see `write`). */
const IN_TURN = 1 << 3;
/** Later writes of this turn are corked, to leave together at its end. */
const CORKED = 1 << 4;
/** A batched write reached the mark: the batch's write reports when it is flushed. */
const BATCH_REACHES = 1 << 5;

/** Options of a `SocketTransport`. */
export interface SocketTransportOptions {
  /**
   * Bytes queued in the socket at which `write` returns false. Default 1 MiB. The socket's
   * own `writableHighWaterMark` (16 KiB in Node 20) only decides when node reports a drain.
   */
  highWaterMark?: number;
}

const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;

/**
 * A write of several chunks up to this size is copied into one buffer: one `write` instead of
 * a corked `writev` of a small header and a small payload, which costs node more (a request
 * object per chunk, an array of buffers, a writev wrap) than copying a few KiB.
 */
const COALESCE_LIMIT = 4096;

/**
 * A single chunk that is not a Buffer and at most this size is copied into a Buffer from
 * node's pool rather than handed to the socket as it is. V8 keeps typed arrays this small
 * inside its heap (`--typed-array-max-size-in-heap`, 64 by default), and node's conversion of
 * a Uint8Array to a Buffer reads its `.buffer`, which moves the bytes out to a new backing
 * store: the Autobahn tier's 32-byte echo (one `new Uint8Array` frame per message) spent more
 * on that than on this copy.
 */
const IN_HEAP_LIMIT = 64;

/**
 * Small writes after the first of an event-loop turn are copied into a batch of this size,
 * written once at the turn's end (or when it is full): one `socket.write` for the 256 echoes
 * of one read, where node's corked writes cost a request entry each and a 256-buffer writev.
 */
const BATCH_SIZE = 16 * 1024;

/**
 * Batch buffers not in use, shared by every transport of the process (batches fill and flush
 * within one turn). A batch filled less than half is copied out at its exact size and its
 * buffer comes back here: a socket never holds a mostly empty 16 KiB buffer for a few bytes (a
 * peer that stops reading would otherwise make each counted byte hold hundreds), and a
 * connection keeps no batch buffer between turns.
 */
const spareBatches: Buffer[] = [];
const MAX_SPARE_BATCHES = 8;

/**
 * Transports that wrote during this event-loop turn, ended together by one check-phase
 * callback (see `SocketTransport.write`): one `setImmediate` per turn for every socket of the
 * process, not one per socket.
 */
let turnEnders: SocketTransport[] = [];
let turnEndScheduled = false;

function endTurn(): void {
  turnEndScheduled = false;
  const list = turnEnders;
  turnEnders = [];
  for (let i = 0; i < list.length; i++) list[i]._endTurn();
}

function atEndOfTurn(t: SocketTransport): void {
  turnEnders.push(t);
  if (!turnEndScheduled) {
    turnEndScheduled = true;
    setImmediate(endTurn);
  }
}

/** The chunks of one write as one buffer (`total` bytes, at most `COALESCE_LIMIT`). */
function coalesce(chunks: readonly Uint8Array[], total: number): Buffer {
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (let i = 0; i < chunks.length; i++) {
    out.set(chunks[i], at);
    at += chunks[i].length;
  }
  return out;
}

/** The transport a socket reports to: the socket's listeners are shared by every socket. */
const kTransport = Symbol('websocket-streams transport');

interface OwnedSocket extends Duplex {
  [kTransport]?: SocketTransport;
}

// Node calls a listener with the socket as `this`: one function each for every socket of the
// process, instead of five bound closures per socket that an idle connection would keep.
function onSocketData(this: OwnedSocket, chunk: Buffer): void {
  this[kTransport]?._onData(chunk);
}
function onSocketEnd(this: OwnedSocket): void {
  this[kTransport]?._onEnd();
}
function onSocketError(this: OwnedSocket, err: Error): void {
  this[kTransport]?._onError(err);
}
function onSocketDrain(this: OwnedSocket): void {
  this[kTransport]?._onDrain();
}
function onSocketClose(this: OwnedSocket): void {
  this[kTransport]?._onClose();
}

/**
 * A `ByteTransport` over a `net.Socket` or `tls.TLSSocket`: pause and resume are the
 * socket's, writes go out corked (one `writev` for a frame header and its payload, no
 * copy), and half-close is ours to decide (`allowHalfOpen`). The socket's listeners are
 * shared by every socket (the socket points to its transport): nothing is allocated per
 * chunk, and an idle connection keeps no closure of its own here.
 *
 * @example
 * ```ts
 * const socket = net.connect({ host: '127.0.0.1', port: 8080, allowHalfOpen: true });
 * const transport = new SocketTransport(socket, { highWaterMark: 256 * 1024 });
 * ```
 */
export class SocketTransport implements ByteTransport {
  readonly #socket: OwnedSocket;
  readonly #highWaterMark: number;
  #sink: TransportSink | undefined;
  /** The boolean states (the bits above; `#is`, `#set`), one bit each: one field instead of 6, for idle connections are many. */
  #flags = 0;
  #is(bit: number): boolean {
    return (this.#flags & bit) !== 0;
  }
  #set(bit: number, on: boolean): void {
    this.#flags = on ? this.#flags | bit : this.#flags & ~bit;
  }
  /** Small writes of this turn after the first, copied together (see `BATCH_SIZE`), and how many bytes. */
  #batch: Buffer | undefined;
  #batched = 0;

  /**
   * `socket` is a `net.Socket`, a `tls.TLSSocket`, or another duplex with their semantics
   * (`Http2StreamTransport` passes an HTTP/2 stream).
   */
  constructor(socket: Socket | Duplex, options: SocketTransportOptions = {}) {
    const hwm = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    if (!(hwm >= 1)) throw new RangeError(`highWaterMark must be at least 1, got ${hwm}`);
    this.#socket = socket;
    this.#highWaterMark = hwm;
    // RFC 6455 §7.1.1: after the close handshake the server ends TCP first and the client
    // waits for it, so a FIN from the peer must not end our side by itself.
    socket.allowHalfOpen = true;
    // Frames are written whole (corked); Nagle would only delay small messages and pongs.
    // (An HTTP/2 stream has no Nagle of its own: its session's socket is set up by node.)
    if ('setNoDelay' in socket) socket.setNoDelay(true);
    if (socket.destroyed) this.#set(CLOSED, true);
  }

  attach(sink: TransportSink): void {
    if (this.#sink !== undefined) throw new Error('SocketTransport.attach() was already called');
    this.#sink = sink;
    const s = this.#socket;
    s[kTransport] = this;
    s.on('data', onSocketData);
    s.on('end', onSocketEnd);
    s.on('error', onSocketError);
    s.on('drain', onSocketDrain);
    s.on('close', onSocketClose);
    if (this.#is(CLOSED)) {
      // Already gone (the peer left during the handshake): report it the usual way.
      queueMicrotask(() => this._onClose());
      return;
    }
    if (this.#is(PAUSED)) s.pause();
    else s.resume();
  }

  /** Pauses the socket: the kernel's buffer fills, and TCP then stops the peer. */
  pause(): void {
    this.#set(PAUSED, true);
    this.#socket.pause();
  }

  /** Resumes reading the socket. */
  resume(): void {
    this.#set(PAUSED, false);
    if (this.#sink !== undefined) this.#socket.resume();
  }

  get bufferedAmount(): number {
    return this.#socket.writableLength + this.#batched;
  }

  write(chunks: readonly Uint8Array[]): boolean {
    const s = this.#socket;
    if (this.#is(CLOSED) || s.destroyed || s.writableEnded) return false;
    const n = chunks.length;
    let total = 0;
    for (let i = 0; i < n; i++) total += chunks[i].length;
    // When this write reaches our mark but stays under the socket's own, node will not emit
    // 'drain'; the callback of the last chunk (run once it is flushed) stands in for it.
    const reaches = s.writableLength + this.#batched + total >= this.#highWaterMark;
    // The first write of an event-loop turn goes out at once: a request answered by one
    // message (1000 clients each waiting for their echo) costs one syscall and no wait. Every
    // later write of the same turn waits for the turn's end (the check phase), so that an echo
    // server answering 500 pipelined messages read in one chunk sends them in one write
    // instead of one syscall per frame (profiling the 16-byte echo showed writev at 47 % of
    // CPU time): small ones are copied into one batch, large ones corked.
    if (!this.#is(IN_TURN)) {
      this.#set(IN_TURN, true);
      atEndOfTurn(this);
      this.#writeNow(chunks, n, total, reaches);
    } else if (total <= COALESCE_LIMIT) {
      this.#addToBatch(chunks, n, total, reaches);
    } else {
      this.#flushBatch();
      if (!this.#is(CORKED)) {
        this.#set(CORKED, true);
        s.cork();
      }
      this.#writeNow(chunks, n, total, reaches);
    }
    if (s.writableLength + this.#batched < this.#highWaterMark) return true;
    this.#set(WAITING_DRAIN, true);
    return false;
  }

  #writeNow(chunks: readonly Uint8Array[], n: number, total: number, reaches: boolean): void {
    const s = this.#socket;
    const cb = reaches ? this.#flushCallback() : undefined;
    if (n === 1 && (total > IN_HEAP_LIMIT || Buffer.isBuffer(chunks[0]))) {
      s.write(chunks[0], cb);
    } else if (total <= COALESCE_LIMIT) {
      s.write(coalesce(chunks, total), cb);
    } else {
      // Large: header and payload stay separate buffers, and leave as one writev.
      s.cork();
      let last = n - 1;
      while (last > 0 && chunks[last].length === 0) last--;
      for (let i = 0; i < last; i++) if (chunks[i].length > 0) s.write(chunks[i]);
      s.write(chunks[last], cb);
      s.uncork();
    }
  }

  #addToBatch(chunks: readonly Uint8Array[], n: number, total: number, reaches: boolean): void {
    if (this.#batch !== undefined && this.#batched + total > BATCH_SIZE) {
      // A full batch waits for the turn's end too, corked with the rest: one writev for the
      // turn, not a syscall per 16 KiB (1 KiB echoes cost 25 % more CPU per message that way).
      if (!this.#is(CORKED)) {
        this.#set(CORKED, true);
        this.#socket.cork();
      }
      this.#flushBatch();
    }
    const batch = (this.#batch ??= spareBatches.pop() ?? Buffer.allocUnsafe(BATCH_SIZE));
    let at = this.#batched;
    for (let i = 0; i < n; i++) {
      batch.set(chunks[i], at);
      at += chunks[i].length;
    }
    this.#batched = at;
    if (reaches) this.#set(BATCH_REACHES, true);
  }

  /** What was batched goes to the socket (behind what went before it, in order). */
  #flushBatch(): void {
    const batch = this.#batch;
    if (batch === undefined) return;
    const n = this.#batched;
    const cb = this.#is(BATCH_REACHES) ? this.#flushCallback() : undefined;
    this.#batch = undefined;
    this.#batched = 0;
    this.#set(BATCH_REACHES, false);
    let out: Buffer;
    if (n * 2 >= BATCH_SIZE) {
      out = batch.subarray(0, n);
    } else {
      out = Buffer.allocUnsafe(n); // from node's pool, as any small write's buffer
      batch.copy(out, 0, 0, n);
      if (spareBatches.length < MAX_SPARE_BATCHES) spareBatches.push(batch);
    }
    if (!this.#socket.destroyed) this.#socket.write(out, cb);
  }

  #flushCallback(): (err?: Error | null) => void {
    return (this.#onFlushed ??= (err?: Error | null) => this.#flushed(err));
  }

  /** @internal The turn is over: what was batched or corked leaves now (the delay is at most one loop turn). */
  _endTurn(): void {
    this.#set(IN_TURN, false);
    this.#flushBatch();
    this.#uncork();
  }

  #uncork(): void {
    if (!this.#is(CORKED)) return;
    this.#set(CORKED, false);
    if (!this.#socket.destroyed) this.#socket.uncork();
  }

  end(): void {
    this.#flushBatch();
    this.#uncork();
    const s = this.#socket;
    if (!this.#is(CLOSED) && !s.destroyed && !s.writableEnded) s.end();
  }

  destroy(): void {
    // No error is passed on: the connection chose to drop the socket and knows why.
    if (!this.#socket.destroyed) this.#socket.destroy();
  }

  /** @internal */
  _onData(chunk: Buffer): void {
    // The connection never throws for peer input; should a bug make it, this socket is
    // dropped and the error reported to it, rather than thrown out of node's 'data' event
    // (an uncaught exception would take every other connection of the process down).
    try {
      this.#sink!.onData(chunk);
    } catch (err) {
      this.#sink?.onError(err instanceof Error ? err : new Error(String(err)));
      this.#socket.destroy();
    }
  }

  /** @internal */
  _onEnd(): void {
    this.#sink!.onEnd();
  }

  /** @internal */
  _onError(err: Error): void {
    this.#sink?.onError(err);
  }

  /** @internal */
  _onDrain(): void {
    if (!this.#is(WAITING_DRAIN)) return;
    this.#set(WAITING_DRAIN, false);
    this.#sink!.onDrain();
  }

  /** Made on the first write that reaches the mark: the socket's stand-in for 'drain'. */
  #onFlushed: ((err?: Error | null) => void) | undefined;

  #flushed(err?: Error | null): void {
    if (err || !this.#is(WAITING_DRAIN) || this.#is(CLOSED)) return;
    if (this.#socket.writableLength + this.#batched < this.#highWaterMark) this._onDrain();
  }

  /** @internal */
  _onClose(): void {
    if (this.#is(CLOSED) && this.#sink === undefined) return;
    const sink = this.#sink!;
    const s = this.#socket;
    s.off('data', onSocketData);
    s.off('end', onSocketEnd);
    s.off('drain', onSocketDrain);
    s.off('close', onSocketClose);
    // A late 'error' after 'close' must still have a listener, or node would throw it.
    this.#set(CLOSED, true);
    this.#sink = undefined;
    sink.onClose();
  }
}
