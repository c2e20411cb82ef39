// What an extension decoded (inflated) ahead of the consumer of the message, in order.

/**
 * Decoded bytes a message may hold ahead of its consumer: enough that the next message (up to
 * 1 MiB, the default receiveHighWaterMark), or the next 256 KiB frame a decoded message is
 * forwarded in plus the chunk after it (which tells forward-decoded.ts that the frame is not
 * the last), is ready when the consumer comes back for it.
 */
export const DECODED_BACKLOG_BYTES = 1024 * 1024;

/** A decoded piece, the end of a frame, or a decoder failure, as it happened. */
export type BacklogEntry =
  | { readonly kind: 'data'; readonly chunk: Uint8Array }
  | { readonly kind: 'end'; readonly fin: boolean }
  | { readonly kind: 'failed'; readonly err: unknown };

/**
 * A FIFO of decoded events of the current message, bounded by the bytes it holds: the decoder
 * stops producing once `full`. It lets a compressed message be inflated while its consumer is
 * still busy (sending the previous message or frame, compressed meanwhile on the thread pool),
 * so that inflating and deflating overlap instead of taking turns.
 */
export class DecodedBacklog {
  readonly #entries: BacklogEntry[] = [];
  #head = 0;
  #bytes = 0;
  /** A failure waits in the backlog: nothing more may be decoded. */
  #failed = false;

  get isEmpty(): boolean {
    return this.#head === this.#entries.length;
  }

  get full(): boolean {
    return this.#bytes >= DECODED_BACKLOG_BYTES;
  }

  get failed(): boolean {
    return this.#failed;
  }

  push(entry: BacklogEntry): void {
    if (entry.kind === 'data') this.#bytes += entry.chunk.length;
    else if (entry.kind === 'failed') this.#failed = true;
    this.#entries.push(entry);
  }

  /** The oldest entry; the backlog must not be empty. */
  shift(): BacklogEntry {
    const e = this.#entries[this.#head++]!;
    if (e.kind === 'data') this.#bytes -= e.chunk.length;
    else if (e.kind === 'failed') this.#failed = false;
    if (this.#head === this.#entries.length) {
      this.#entries.length = 0;
      this.#head = 0;
    }
    return e;
  }

  clear(): void {
    this.#entries.length = 0;
    this.#head = 0;
    this.#bytes = 0;
    this.#failed = false;
  }
}
