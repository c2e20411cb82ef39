// Sends a received message on, frame for frame, as its bytes arrive: the hot path of an echo
// server piping one connection into another (or into itself).
import { Opcode } from '../codec/constants';
import { subtractLength, type FrameHeader, type FrameLength } from '../codec/frame-header';
import { incompleteUtf8Tail, utf8TailCopy } from '../codec/utf8-tail';
import type { WebSocketError } from './errors';
import type { FrameSink, IncomingMessage } from './incoming-message';

const EMPTY = new Uint8Array(0);

/** What `Forwarding` needs from the connection that sends (implemented privately by `Connection`). */
export interface ForwardHost {
  /** Encodes a frame header; a frame with payload to come is open until `frameDone`/`abandon`. */
  beginFrame(opcode: number, length: FrameLength, fin: boolean, rsv: number): { header: Uint8Array; mask(chunk: Uint8Array): Uint8Array };
  write(chunks: Uint8Array[]): Promise<void> | undefined;
  /** The open frame's payload is all written: control frames may go again. */
  frameDone(): void;
  /**
   * The forwarding ended. A frame it left open (its source failed mid-frame) can never be
   * completed, and nothing may go inside it, a close frame neither (RFC 6455 §5.2, §5.4): the
   * host fails the connection and ends TCP, the one clean way out (the peer sees 1006).
   */
  abandon(): void;
}

/**
 * One received message sent on, frame for frame, as its bytes arrive, with no stream objects
 * (`Connection.#forward`): each frame's header goes out with its first payload piece, pieces
 * are passed on as views (masked copies on a client), and reading waits while the sending
 * transport is above its mark. One object per message, its methods on the prototype: a
 * 32-byte echo used to allocate a closure per callback (a third of its garbage).
 *
 * Text is re-framed, so that only validated text leaves (RFC 6455 §8.1) and a failure always
 * ends between frames. The protocol validates text as it arrives and hands on no piece that
 * is invalid, but a piece valid so far may end inside a code point, and only the message's
 * end shows whether that code point completes. So each piece of a text message goes out as a
 * whole frame of its own with only complete code points; an incomplete sequence at its end
 * (at most 3 bytes) is held back for the next piece. The final frame goes with the piece that
 * ends the message on a complete code point (the end check cannot fail then), or at the
 * message's end. A text frame that arrives whole in one read goes out as one frame, as it
 * came. No text frame is ever left open, so a failure's close frame goes between frames.
 *
 * Binary frames keep the frames they came in, the length announced with the first piece; one
 * left open when the source fails is ended by the host's `abandon` (TCP ends, no close frame).
 */
export class Forwarding implements FrameSink {
  readonly #host: ForwardHost;
  readonly #msg: IncomingMessage;
  /** A text message: re-framed on code point boundaries. */
  readonly #text: boolean;
  #first = true;
  #mask: ((chunk: Uint8Array) => Uint8Array) | undefined;
  #header: Uint8Array | undefined;
  #remaining: FrameLength = 0;
  // Text: the incoming frame's FIN and RSV, the final frame already sent, the bytes held back.
  #fin = false;
  #rsv = 0;
  #finSent = false;
  #carry: Uint8Array | undefined;
  #draining: Promise<void> | undefined;
  #settled = false;
  /** Settled before anyone asked for `outcome()`: 1 done, 2 failed (with `#error`). */
  #early = 0;
  #error: unknown;
  #later: { resolve(): void; reject(err: unknown): void } | undefined;

  constructor(host: ForwardHost, msg: IncomingMessage) {
    this.#host = host;
    this.#msg = msg;
    this.#text = msg.opcode === Opcode.Text;
  }

  /** Undefined when the message was sent whole already; else a promise for the rest. */
  outcome(): Promise<void> | undefined {
    if (this.#early === 1) return undefined;
    if (this.#early === 2) return Promise.reject(this.#error);
    return new Promise((resolve, reject) => {
      this.#later = { resolve, reject };
    });
  }

  frameStart(h: FrameHeader): void {
    if (this.#settled) return;
    this.#remaining = h.length;
    if (this.#text) {
      this.#fin = h.fin;
      this.#rsv = h.rsv;
      // An empty fragment goes on as it came (an empty final frame waits for the end check).
      if (h.length === 0 && !h.fin) this.#sendText(false, undefined, EMPTY);
      return;
    }
    try {
      const f = this.#host.beginFrame(this.#first ? this.#msg.opcode : Opcode.Continuation, h.length, h.fin, h.rsv);
      this.#first = false;
      this.#mask = f.mask;
      if (h.length === 0) {
        this.#write([f.header]);
        return;
      }
      this.#header = f.header;
    } catch (err) {
      this.#finish(err);
    }
  }

  data(chunk: Uint8Array): void {
    if (this.#settled) return;
    this.#remaining = subtractLength(this.#remaining, chunk.length);
    if (this.#text) {
      this.#textData(chunk);
      return;
    }
    const bytes = this.#mask!(chunk);
    const header = this.#header;
    if (header !== undefined) {
      this.#header = undefined;
      this.#write([header, bytes]);
    } else {
      this.#write([bytes]);
    }
    if (this.#remaining === 0) this.#host.frameDone();
  }

  frameEnd(fin: boolean): void {
    if (!fin) return;
    // The protocol's end check passed: what is held back (nothing, as it passed) goes final.
    if (this.#text && !this.#finSent && !this.#settled) this.#sendText(true, undefined, this.#carry ?? EMPTY);
    this.#finish();
  }

  error(err: WebSocketError): void {
    this.#finish(err);
  }

  wantsData(): boolean {
    return this.#draining === undefined;
  }

  /** A piece of a text message: its complete code points go as a frame, the rest is held back. */
  #textData(chunk: Uint8Array): void {
    const carry = this.#carry;
    const tail = incompleteUtf8Tail(chunk, carry);
    if (tail === 0) {
      this.#carry = undefined;
      // Complete code points up to the frame's end: if it is the last frame, the message is valid.
      this.#sendText(this.#fin && this.#remaining === 0, carry, chunk);
      return;
    }
    const n = chunk.length;
    this.#carry = utf8TailCopy(chunk, carry, tail);
    // A tail longer than the chunk took in all of what was held back: nothing to send yet.
    if (tail < n) this.#sendText(false, carry, chunk.subarray(0, n - tail));
  }

  /** Sends `before` (held back, or undefined) and `bytes` as one whole frame. */
  #sendText(fin: boolean, before: Uint8Array | undefined, bytes: Uint8Array): void {
    let f: { header: Uint8Array; mask(chunk: Uint8Array): Uint8Array };
    try {
      f = this.#host.beginFrame(this.#first ? this.#msg.opcode : Opcode.Continuation,
        before === undefined ? bytes.length : before.length + bytes.length, fin, this.#rsv);
    } catch (err) {
      this.#finish(err);
      return;
    }
    this.#first = false;
    if (fin) this.#finSent = true;
    this.#write(before === undefined ? [f.header, f.mask(bytes)] : [f.header, f.mask(before), f.mask(bytes)]);
    this.#host.frameDone();
  }

  #write(chunks: Uint8Array[]): void {
    const p = this.#host.write(chunks);
    if (p === undefined) return;
    const mine: Promise<void> = p.then(() => {
      if (this.#draining === mine) this.#draining = undefined;
      this.#msg._demand();
    });
    this.#draining = mine;
    mine.catch((err: unknown) => this.#finish(err));
  }

  #finish(err?: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#carry = undefined;
    this.#host.abandon();
    if (err !== undefined) this.#reject(err);
    else if (this.#draining) this.#draining.then(() => this.#resolve(), (e: unknown) => this.#reject(e));
    else this.#resolve();
  }

  #resolve(): void {
    if (this.#later) this.#later.resolve();
    else this.#early = 1;
  }

  #reject(err: unknown): void {
    if (this.#later) {
      this.#later.reject(err);
    } else {
      this.#early = 2;
      this.#error = err;
    }
  }
}
