import type { Clock } from './clock';

/**
 * Bytes held back from one forwarded frame: at most this many leave together. Big enough that
 * a frame trickling in 64-byte reads goes out in about 1/250 of the writes, small enough that a
 * connection forwarding a frame holds little more than one socket read.
 */
export const HOLD_LIMIT = 16 * 1024;

/** Who flushes held pieces when their timer fires (a `Forwarding`). */
export interface HeldPiecesOwner {
  flushHeld(): void;
}

/**
 * The small pieces of a forwarded frame that arrived since the last write, to leave in one
 * write (copied together then, unless there is only one). Reading a frame that trickles in (a slow link, small
 * TCP segments) gives one piece per socket read; writing each on would cost a syscall per read
 * on this side and a read per piece on the peer's. Pieces are held until `HOLD_LIMIT` bytes,
 * the frame's end, or one timer tick of the connection's clock (`setTimeout(0)`: about a
 * millisecond), whichever comes first: a frame's end is never held, and nothing is held longer
 * than a tick. Made only when a frame's piece is held, and dropped once written.
 */
export class HeldPieces {
  // Views, as the read-ahead queue keeps them: a transport's chunks are never reused.
  readonly #pieces: Uint8Array[] = [];
  #length = 0;
  readonly #clock: Clock;
  readonly #timer: unknown;

  constructor(owner: HeldPiecesOwner, clock: Clock) {
    this.#clock = clock;
    this.#timer = clock.setTimeout(() => owner.flushHeld(), 0);
  }

  /** Whether `n` more bytes fit. */
  fits(n: number): boolean {
    return this.#length + n <= HOLD_LIMIT;
  }

  add(chunk: Uint8Array): void {
    this.#pieces.push(chunk);
    this.#length += chunk.length;
  }

  /** The bytes held, as one chunk for one write; the timer is cancelled (a flush before it fired). */
  take(): Uint8Array {
    this.#clock.clearTimeout(this.#timer);
    const pieces = this.#pieces;
    if (pieces.length === 1) return pieces[0]!;
    const out = new Uint8Array(this.#length);
    let at = 0;
    for (let i = 0; i < pieces.length; i++) {
      out.set(pieces[i]!, at);
      at += pieces[i]!.length;
    }
    return out;
  }
}
