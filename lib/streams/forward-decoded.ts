// Sends a message an extension decoded (inflated) through a writer, re-framed: its decoded
// frames have no length known in advance. No stream objects: an echo of small compressed
// messages is the hot path of a deflate server.
import { Opcode } from '../codec/constants';
import { incompleteUtf8Tail } from '../codec/utf8-tail';
import type { WebSocketError } from './errors';
import { GrowableBuffer } from './growable-buffer';
import type { FrameSink, IncomingMessage } from './incoming-message';
import type { MessageWriter } from './message-writer';

/**
 * Largest frame made of a decoded message. Each frame costs the encoder a flush and the decoder
 * a pause; 256 KiB halves the CPU per 1 MiB message against 64 KiB (bench deflate-1m) and is
 * what forwarding holds per connection at most.
 */
const FORWARD_FRAME_BYTES = 256 * 1024;

const FINAL = { fin: true } as const;
const MORE = { fin: false } as const;

/**
 * Collects decoded bytes up to FORWARD_FRAME_BYTES a frame and sends them as they fill, the
 * last frame final. Reading waits while a frame is being sent, so memory stays bounded.
 *
 * Text is validated by the connection as it is decoded (RFC 6455 §8.1), and its end check
 * passes before the final frame goes: only then is the message sent complete. A frame sent
 * before the end (a message over FORWARD_FRAME_BYTES) holds only complete code points, an
 * incomplete sequence at its end kept for the next frame; every frame goes whole, so a
 * failure of the source finds the writer between frames.
 */
export function forwardDecoded(msg: IncomingMessage, w: MessageWriter): Promise<void> {
  const f = new DecodedForwarding(msg, w);
  msg._forward(f);
  return f.promise;
}

/** One decoded message being sent; its methods on the prototype (no closures per message but the promise's). */
class DecodedForwarding implements FrameSink {
  readonly promise: Promise<void>;
  readonly #msg: IncomingMessage;
  readonly #w: MessageWriter;
  readonly #text: boolean;
  readonly #pending: GrowableBuffer;
  #sending = false;
  #settled = false;
  #resolve!: () => void;
  #reject!: (err: unknown) => void;
  #onSent: (() => void) | undefined;
  #onSentFinal: (() => void) | undefined;
  #onFailed: ((err: unknown) => void) | undefined;

  constructor(msg: IncomingMessage, w: MessageWriter) {
    this.#msg = msg;
    this.#w = w;
    this.#pending = new GrowableBuffer(0, w._allocUnsafe);
    this.#text = msg.opcode === Opcode.Text;
    this.promise = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  frameStart(): void {
    // Decoded frames have no length: frames are made of what comes.
  }

  data(chunk: Uint8Array): void {
    if (this.#settled) return;
    const pending = this.#pending;
    // A full frame goes only once more data shows it is not the last: a message that fits
    // one frame is sent as one.
    if (pending.length > 0 && pending.length + chunk.length > FORWARD_FRAME_BYTES) {
      const full = pending.take();
      // `full` begins on a code point boundary (the message's start, or after a cut like this).
      const cut = this.#text ? full.length - incompleteUtf8Tail(full) : full.length;
      if (cut < full.length) pending.append(full.subarray(cut));
      pending.append(chunk);
      if (cut > 0) this.#send(cut === full.length ? full : full.subarray(0, cut), false);
      return;
    }
    pending.append(chunk);
  }

  frameEnd(fin: boolean): void {
    // The end check passed (the connection checks text before ending the frame).
    if (fin && !this.#settled) this.#send(this.#pending.take(), true);
  }

  error(err: WebSocketError): void {
    this.#fail(err);
  }

  wantsData(): boolean {
    return !this.#sending;
  }

  #send(bytes: Uint8Array, fin: boolean): void {
    this.#sending = true;
    const onFailed = (this.#onFailed ??= (err: unknown) => this.#fail(err));
    let sent: Promise<void>;
    try {
      sent = this.#w.sendFrame(bytes, fin ? FINAL : MORE);
    } catch (err) {
      // The connection can send no more (it closed under the message).
      this.#fail(err);
      return;
    }
    if (fin) sent.then(this.#onSentFinal ??= () => this.#sentFinal(), onFailed);
    else sent.then(this.#onSent ??= () => this.#sent(), onFailed);
  }

  #sent(): void {
    this.#sending = false;
    this.#msg._demand();
  }

  #sentFinal(): void {
    this.#sending = false;
    if (this.#settled) return;
    this.#settled = true;
    this.#resolve();
  }

  #fail(err: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#reject(err);
  }
}
