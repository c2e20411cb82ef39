// Sends a received message on, frame for frame, as its bytes arrive: the hot path of an echo
// server piping one connection into another (or into itself).
import { Opcode } from '../codec/constants';
import { subtractLength, type FrameHeader, type FrameLength } from '../codec/frame-header';
import type { WebSocketError } from './errors';
import type { FrameSink, IncomingMessage } from './incoming-message';

/** What `Forwarding` needs from the connection that sends (implemented privately by `Connection`). */
export interface ForwardHost {
  /** Encodes a frame header; a frame with payload to come is open until `frameDone`/`abandon`. */
  beginFrame(opcode: number, length: FrameLength, fin: boolean, rsv: number): { header: Uint8Array; mask(chunk: Uint8Array): Uint8Array };
  write(chunks: Uint8Array[]): Promise<void> | undefined;
  /** The open frame's payload is all written: control frames may go again. */
  frameDone(): void;
  /** The forwarding ended with a frame open: fail the connection if `failed`. */
  abandon(failed: boolean): void;
}

/**
 * One received message sent on, frame for frame, as its bytes arrive, with no stream objects
 * (`Connection.#forward`): each frame's header goes out with its first payload piece, pieces
 * are passed on as views (masked copies on a client), and reading waits while the sending
 * transport is above its mark. One object per message, its methods on the prototype: a
 * 32-byte echo used to allocate a closure per callback (a third of its garbage).
 */
export class Forwarding implements FrameSink {
  readonly #host: ForwardHost;
  readonly #msg: IncomingMessage;
  #first = true;
  #mask: ((chunk: Uint8Array) => Uint8Array) | undefined;
  #header: Uint8Array | undefined;
  #remaining: FrameLength = 0;
  #draining: Promise<void> | undefined;
  #settled = false;
  /** Settled before anyone asked for `outcome()`: 1 done, 2 failed (with `#error`). */
  #early = 0;
  #error: unknown;
  #later: { resolve(): void; reject(err: unknown): void } | undefined;

  constructor(host: ForwardHost, msg: IncomingMessage) {
    this.#host = host;
    this.#msg = msg;
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
    try {
      const f = this.#host.beginFrame(this.#first ? this.#msg.opcode : Opcode.Continuation, h.length, h.fin, h.rsv);
      this.#first = false;
      this.#mask = f.mask;
      this.#remaining = h.length;
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
    if (fin) this.#finish();
  }

  error(err: WebSocketError): void {
    this.#finish(err);
  }

  wantsData(): boolean {
    return this.#draining === undefined;
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
    // A frame whose header is still held back has nothing on the wire: it is dropped, and the
    // wire stays usable (a close frame may follow). Only a frame cut short fails the wire.
    this.#host.abandon(err !== undefined && this.#header === undefined);
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
