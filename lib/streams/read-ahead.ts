// What the connection parsed ahead of its consumer: data of messages nobody has read yet, in
// wire order, so that control frames behind them can be acted on at once. A server's data is
// queued still masked (`maskKey`, `maskPhase`) and unmasked when the inbound routes it: into
// the buffer of a message collected whole in the same pass, instead of unmasked here and
// copied there (in bench/inbound.mjs, the Autobahn tier's 1 MiB echo spent about a fifth of its
// JavaScript time on that copy).
import type { ProtocolEvent } from '../protocol/events';
import type { WebSocketError } from './errors';

/** A data event parsed ahead, a failure found behind them, or where the input ended. */
export type ReadAheadEntry =
  | Extract<ProtocolEvent, { readonly type: 'frame-start' | 'frame-data' | 'frame-end' | 'failed' }>
  /** No more events: a message still open when this is reached fails with `error`. */
  | { readonly type: 'end'; readonly error: WebSocketError };

/**
 * Entries the queue may hold per byte of `receiveHighWaterMark`, however small their payloads:
 * an entry costs its event object (about 130 bytes of heap), so a peer sending empty messages
 * or one-byte frames must be bounded by their number too (200,000 unread empty messages held
 * 80 MiB while counting 0 payload bytes). At the default 1 MiB mark: 16,384 entries.
 */
const ENTRIES_PER_MARK_BYTE = 1 / 64;
const MIN_ENTRIES = 64;

/** Most entries held for a connection whose receive mark is `mark` bytes (see `ENTRIES_PER_MARK_BYTE`). */
export function maxReadAheadEntries(mark: number): number {
  return Math.max(MIN_ENTRIES, Math.floor(mark * ENTRIES_PER_MARK_BYTE));
}

/**
 * A FIFO of read-ahead entries that counts the payload bytes it holds (counted against the
 * connection's `receiveHighWaterMark`, with what the parser holds) and its entries (bounded by
 * `maxReadAheadEntries`). Made on first use, or taken from the spare (`takeQueue`).
 *
 * An emptied queue keeps its array's capacity (`#tail` marks the end, not the array's length):
 * one read brings up to hundreds of small messages, three entries each, and growing a fresh
 * array to hold them on every read cost about 80 bytes of garbage per message.
 */
export class ReadAheadQueue {
  #entries: (ReadAheadEntry | undefined)[] = [];
  #head = 0;
  #tail = 0;
  /** Payload bytes held. */
  bytes = 0;

  get isEmpty(): boolean {
    return this.#head === this.#tail;
  }

  /** Entries held. */
  get length(): number {
    return this.#tail - this.#head;
  }

  /** Slots the queue's array has (what an empty queue still holds). */
  get capacity(): number {
    return this.#entries.length;
  }

  push(e: ReadAheadEntry): void {
    if (e.type === 'frame-data') this.bytes += e.data.length;
    this.#entries[this.#tail++] = e;
  }

  /** The oldest entry, left in place; the queue must not be empty. */
  peek(): ReadAheadEntry {
    return this.#entries[this.#head]!;
  }

  /** The oldest entry; the queue must not be empty. */
  shift(): ReadAheadEntry {
    const e = this.#entries[this.#head]!;
    this.#entries[this.#head++] = undefined;
    if (e.type === 'frame-data') this.bytes -= e.data.length;
    if (this.#head === this.#tail) {
      this.#head = this.#tail = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#tail) {
      this.#entries = this.#entries.slice(this.#head, this.#tail);
      this.#tail -= this.#head;
      this.#head = 0;
    }
    return e;
  }

  /** Keeps the first `n` entries and drops the rest. */
  truncate(n: number): void {
    const kept = this.#entries.slice(this.#head, Math.min(this.#tail, this.#head + n)) as ReadAheadEntry[];
    this.#entries = kept;
    this.#head = 0;
    this.#tail = kept.length;
    this.bytes = 0;
    for (const e of kept) if (e.type === 'frame-data') this.bytes += e.data.length;
  }

  /** How many entries come before the final frame-end of the message being read, plus one; 0 if it is not here. */
  lengthThroughFin(): number {
    for (let i = this.#head; i < this.#tail; i++) {
      const e = this.#entries[i]!;
      if (e.type === 'frame-end' && e.fin) return i - this.#head + 1;
      if (e.type !== 'frame-data' && e.type !== 'frame-end' && e.type !== 'frame-start') return 0;
    }
    return 0;
  }

  clear(): void {
    this.#entries = [];
    this.#head = this.#tail = 0;
    this.bytes = 0;
  }
}

/**
 * One emptied queue kept for the next connection (or the same one) that reads ahead: JavaScript
 * runs one connection's pump at a time, so one spare serves a busy server's bursts, while an
 * idle connection holds no queue at all. A queue whose array grew past this many slots is
 * let go instead (a burst of 16,384 entries would otherwise pin 128 KiB).
 */
const SPARE_MAX_CAPACITY = 1024;
let spare: ReadAheadQueue | undefined;

/** An empty queue: the spare, or a new one. */
export function takeQueue(): ReadAheadQueue {
  const q = spare ?? new ReadAheadQueue();
  spare = undefined;
  return q;
}

/** `q`, emptied and no longer referenced by its connection, may serve as the spare. */
export function releaseQueue(q: ReadAheadQueue): void {
  if (q.isEmpty && q.capacity <= SPARE_MAX_CAPACITY) spare = q;
}
