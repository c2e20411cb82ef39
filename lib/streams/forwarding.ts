// Sends a received message on, frame for frame, as its bytes arrive: the hot path of an echo
// server piping one connection into another (or into itself).
import { Opcode } from '../codec/constants';
import { subtractLength, type FrameHeader, type FrameLength } from '../codec/frame-header';
import { incompleteUtf8Tail, utf8TailCopy } from '../codec/utf8-tail';
import type { Clock } from './clock';
import type { WebSocketError } from './errors';
import { HeldPieces, type HeldPiecesOwner } from './held-pieces';
import type { FrameSink, IncomingMessage } from './incoming-message';

const EMPTY = new Uint8Array(0);
/** A piece of a frame at least this long goes on at once; a shorter one may be held back. */
const HOLD_PIECE = 4096;
/** `Forwarding.#opcode` once a text message's final frame went. */
const FINAL_SENT = -1;

type Resolvers = { resolve(): void; reject(err: unknown): void };

/** What a `Forwarding` needs from the connection that sends (implemented privately by `Connection`). */
export interface ForwardHost {
  /** Encodes a frame header; a frame with payload to come is open until `frameDone`/`abandon`. */
  beginFrame(opcode: number, length: FrameLength, fin: boolean, rsv: number): { header: Uint8Array; mask(chunk: Uint8Array): Uint8Array };
  write(chunks: Uint8Array[]): Promise<void> | undefined;
  /** The connection's clock: small pieces of a frame are held back for at most one of its ticks. */
  readonly clock: Clock;
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
 * One received message sent on as its bytes arrive, with no stream objects
 * (`Connection.#forward`): pieces are passed on as views (masked copies on a client), and
 * reading waits while the sending transport is above its mark. One object per message, its
 * methods on the prototype: a 32-byte echo used to allocate a closure per callback (a third of
 * its garbage). Its size counts too (five more fields cost a 16-byte echo 2–3 % of its CPU):
 * the two kinds share fields where they can.
 *
 * Binary messages (and allowed reserved opcodes) go frame for frame as they came: each
 * frame's header goes out with its first payload piece, its length as received. A frame left
 * open when the source fails is ended by the host's `abandon` (TCP ends, no close frame).
 *
 * Text is re-framed, so that only validated text leaves (RFC 6455 §8.1) and a failure always
 * ends between frames. The protocol validates text as it arrives and hands on no piece that
 * is invalid, but a piece valid so far may end inside a code point, and only the message's
 * end shows whether that code point completes. So each piece goes out as a whole frame of its
 * own with only complete code points; an incomplete sequence at its end (at most 3 bytes) is
 * held back for the next piece. The final frame goes with the piece that ends the message on a
 * complete code point (the end check cannot fail then), or at the message's end. A frame that
 * arrives whole in one read goes out as one frame, as it came; no text frame is ever left
 * open, so a failure's close frame goes between frames.
 */
export class Forwarding implements FrameSink, HeldPiecesOwner {
  // As few fields as will do (this object is made per message, see above): 12, as before text
  // was re-framed, and one for the pieces of a trickling frame.
  readonly #host: ForwardHost;
  readonly #msg: IncomingMessage;
  /** The opcode of the next frame sent: the message's, then Continuation; FINAL_SENT once a text message's final frame went. */
  #opcode: number;
  /** The frame begun (binary: always; text: as it came, speculatively): its masker, and its header until its first piece goes. */
  #mask: ((chunk: Uint8Array) => Uint8Array) | undefined;
  #header: Uint8Array | undefined;
  /** Text only (so: the message is text): the frame being received, whose FIN and RSV its pieces take. */
  #frame: FrameHeader | undefined;
  /** Text: the incomplete sequence held back from the last piece. */
  #carry: Uint8Array | undefined;
  #remaining: FrameLength = 0;
  #draining: Promise<void> | undefined;
  /** Binary: pieces of the frame being received, held back to leave in one write (see `HeldPieces`). */
  #held: HeldPieces | undefined;
  /** 0 running; 1 finished, waiting for a write to drain; 2 done; 3 failed. */
  #state = 0;
  /** Until the end, the resolvers of `outcome()`'s promise once it was asked for; after a failure, the error. */
  #settle: Resolvers | unknown;

  constructor(host: ForwardHost, msg: IncomingMessage) {
    this.#host = host;
    this.#msg = msg;
    this.#opcode = msg.opcode;
  }

  /** Undefined when the message was sent whole already; else a promise for the rest. */
  outcome(): Promise<void> | undefined {
    if (this.#state === 2) return undefined;
    if (this.#state === 3) return Promise.reject(this.#settle);
    return new Promise((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
  }

  frameStart(h: FrameHeader): void {
    if (this.#state !== 0) return;
    this.#remaining = h.length;
    if (this.#msg.opcode === Opcode.Text) {
      this.#frame = h;
      // An empty frame, or one after bytes held back, is not begun as it came; any other is, to
      // go so if its first piece is all of it (see #textData).
      if (h.length === 0 || this.#carry !== undefined) {
        this.#textFrameStart(h);
        return;
      }
    }
    try {
      const f = this.#host.beginFrame(this.#opcode, h.length, h.fin, h.rsv);
      this.#mask = f.mask;
      if (h.length === 0) {
        this.#opcode = Opcode.Continuation;
        this.#write([f.header]);
        return;
      }
      this.#header = f.header;
    } catch (err) {
      this.#finish(err);
    }
  }

  data(chunk: Uint8Array): void {
    // Small enough to be inlined where the connection routes its events (the text and binary
    // bodies in one method were not, and the call cost a 16-byte echo a few per cent).
    if (this.#state !== 0) return;
    this.#remaining = subtractLength(this.#remaining, chunk.length);
    if (this.#frame !== undefined) this.#textData(chunk);
    else this.#binaryData(chunk);
  }

  frameEnd(fin: boolean): void {
    if (!fin) return;
    if (this.#opcode !== FINAL_SENT && this.#frame !== undefined) this.#textEnd();
    else this.#finish();
  }

  error(err: WebSocketError): void {
    this.#finish(err);
  }

  wantsData(): boolean {
    return this.#draining === undefined;
  }

  #binaryData(chunk: Uint8Array): void {
    const bytes = this.#mask!(chunk);
    const header = this.#header;
    if (header !== undefined) {
      // A frame's header leaves with its first piece, at once: the peer sees the frame begin.
      this.#header = undefined;
      this.#opcode = Opcode.Continuation;
      this.#write([header, bytes]);
    } else if (this.#remaining !== 0 && bytes.length < HOLD_PIECE && (this.#held === undefined || this.#held.fits(bytes.length))) {
      // A small piece inside the frame: held back to leave with the next ones (see `HeldPieces`).
      (this.#held ??= new HeldPieces(this, this.#host.clock)).add(bytes);
      return;
    } else {
      const held = this.#held;
      if (held === undefined) this.#write([bytes]);
      else {
        this.#held = undefined;
        this.#write([held.take(), bytes]);
      }
    }
    if (this.#remaining === 0) this.#host.frameDone();
  }

  /** The held pieces' tick is over: they leave now (the frame goes on). */
  flushHeld(): void {
    const held = this.#held;
    if (held === undefined || this.#state !== 0) return;
    this.#held = undefined;
    this.#write([held.take()]);
  }

  /** A text frame that is empty, or follows bytes held back: it is not begun as it came. */
  #textFrameStart(h: FrameHeader): void {
    // An empty fragment goes on as it came (an empty final frame waits for the end check).
    if (h.length === 0 && !h.fin) this.#sendText(false, EMPTY);
  }

  /**
   * A text message's end whose final frame has not gone (the last piece was held back in part,
   * or the last frame was empty). The end check passed: nothing is held back then (a sequence
   * left incomplete fails it), and the final frame goes.
   */
  #textEnd(): void {
    if (this.#state === 0) this.#sendText(true, this.#carry ?? EMPTY);
    this.#finish();
  }

  #textData(chunk: Uint8Array): void {
    const header = this.#header;
    if (header !== undefined) {
      // The common case, as a binary frame goes: the frame begun as it came is all here, and
      // ends on a code point boundary (nothing was held back, or it would not have been begun).
      this.#header = undefined;
      if (this.#remaining === 0 && (chunk[chunk.length - 1]! < 0x80 || incompleteUtf8Tail(chunk) === 0)) {
        // A final frame whole: its end check cannot fail (it ends on a complete code point).
        this.#opcode = this.#frame!.fin ? FINAL_SENT : Opcode.Continuation;
        this.#write([header, this.#mask!(chunk)]);
        this.#host.frameDone();
        return;
      }
      // Not as it came, then: nothing of it was written, and control frames may go again.
      this.#host.frameDone();
    }
    this.#textPiece(chunk);
  }

  /** A piece of a text frame that did not come whole: its complete code points go as a whole frame. */
  #textPiece(chunk: Uint8Array): void {
    const carry = this.#carry;
    const tail = incompleteUtf8Tail(chunk, carry);
    const n = chunk.length;
    this.#carry = utf8TailCopy(chunk, carry, tail);
    // A tail longer than the chunk took in all that was held back: nothing to send yet.
    if (tail >= n) return;
    const bytes = tail === 0 ? chunk : chunk.subarray(0, n - tail);
    // Complete code points up to the end of the message's last frame: the message is valid.
    const fin = tail === 0 && this.#remaining === 0 && this.#frame!.fin;
    if (carry === undefined) this.#sendText(fin, bytes);
    else this.#sendHeldBack(fin, carry, bytes);
  }

  /** Sends `bytes` as one whole text frame. */
  #sendText(fin: boolean, bytes: Uint8Array): void {
    const f = this.#beginText(fin, bytes.length);
    if (f === undefined) return;
    this.#write([f.header, f.mask(bytes)]);
    this.#host.frameDone();
  }

  /** Sends the bytes held back and `bytes` after them as one whole text frame. */
  #sendHeldBack(fin: boolean, before: Uint8Array, bytes: Uint8Array): void {
    const f = this.#beginText(fin, before.length + bytes.length);
    if (f === undefined) return;
    this.#write([f.header, f.mask(before), f.mask(bytes)]);
    this.#host.frameDone();
  }

  #beginText(fin: boolean, length: number): { header: Uint8Array; mask(chunk: Uint8Array): Uint8Array } | undefined {
    let f: { header: Uint8Array; mask(chunk: Uint8Array): Uint8Array };
    try {
      f = this.#host.beginFrame(this.#opcode, length, fin, this.#frame!.rsv);
    } catch (err) {
      this.#finish(err);
      return undefined;
    }
    // After the final frame, the message's end has nothing left to send.
    this.#opcode = fin ? FINAL_SENT : Opcode.Continuation;
    return f;
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

  /** Ends the forwarding: sent (once what was written drained), or failed with `err`. */
  #finish(err?: unknown): void {
    if (this.#state !== 0) return;
    this.#state = 1;
    // A frame begun whose header never went is no frame on the wire: the host may send
    // between frames still. One written in part is abandoned (the host ends TCP).
    if (this.#header !== undefined) {
      this.#header = undefined;
      this.#host.frameDone();
    }
    // Pieces held back from a frame that cannot end: the frame is abandoned, so are they.
    if (this.#held !== undefined) {
      this.#held.take();
      this.#held = undefined;
    }
    this.#host.abandon();
    if (err !== undefined) this.#fail(err);
    else if (this.#draining) this.#draining.then(() => this.#done(), (e: unknown) => this.#fail(e));
    else this.#done();
  }

  #done(): void {
    this.#state = 2;
    (this.#settle as Resolvers | undefined)?.resolve();
  }

  #fail(err: unknown): void {
    const waiting = this.#settle as Resolvers | undefined;
    this.#state = 3;
    this.#settle = err;
    waiting?.reject(err);
  }
}
