import { CloseCode } from '../codec/constants';
import type { Utf8Validator } from '../codec/utf8-validator';
import { ProtocolViolation } from '../codec/violation';
import type { PayloadTransform } from '../protocol/extension';
import { DecodedBacklog, type BacklogEntry } from './decoded-backlog';
import type { IncomingMessage } from './incoming-message';

/** The backlog of every decoding that has not decoded ahead yet (never pushed to). */
const NO_BACKLOG = new DecodedBacklog();

/** What the decoding of a message needs of the receive side that made it (`Inbound`). */
export interface DecodingHost {
  /** The message being received; the decoding belongs to it while it is open. */
  readonly current: IncomingMessage | undefined;
  /** The current message was handed to a consumer (it may start decoding before). */
  readonly currentDelivered: boolean;
  /** The connection is over and its parts released. */
  readonly finalized: boolean;
  /** A decoder step started (`true`) or settled (`false`): events after it wait for it, in order. */
  decoderStep(running: boolean): void;
  /** Routes what waited for a decoder step, and reads ahead. */
  pumpAhead(): void;
  /** The end of a frame, reached in order after what was decoded of it. */
  endFrame(fin: boolean): void;
  /** Fails the connection for a violation found now, in wire order. */
  fail(v: ProtocolViolation): void;
}

/**
 * The decoding of one message an extension encodes (permessage-deflate): its decoder, the
 * UTF-8 check of a text message after it, and what was decoded ahead of the consumer. Made
 * per compressed message, so a connection that receives none carries none of it.
 *
 * A decoder step may be asynchronous (zlib's thread pool): while it runs, later events wait
 * (`DecodingHost.decoderStep`). Decoded output goes straight to a consumer that takes data
 * now; otherwise into the backlog, up to its bound, beyond which the decoder is made to wait.
 */
export class MessageDecoding {
  readonly #host: DecodingHost;
  readonly #decoder: PayloadTransform;
  readonly #utf8: Utf8Validator | undefined;
  /** Decoded events the consumer has not taken yet (made on first use). */
  #backlog = NO_BACKLOG;
  /** A decoder waits for the backlog to go below its bound. */
  #demand: (() => void) | undefined;
  readonly #emit = (chunk: Uint8Array): void | Promise<void> => this.#emitChunk(chunk);

  constructor(host: DecodingHost, decoder: PayloadTransform, utf8: Utf8Validator | undefined) {
    this.#host = host;
    this.#decoder = decoder;
    this.#utf8 = utf8;
  }

  /** Decoded events wait for the consumer. */
  get hasBacklog(): boolean {
    return !this.#backlog.isEmpty;
  }

  /** The next event of the frame may be decoded before the consumer asks: the backlog has room and holds no failure. */
  get mayDecodeAhead(): boolean {
    return !this.#backlog.full && !this.#backlog.failed;
  }

  /** A text message's decoded bytes end inside a UTF-8 sequence. */
  endsInsideUtf8(): boolean {
    return this.#utf8 !== undefined && !this.#utf8.end();
  }

  /** One chunk of the frame's (compressed) payload. */
  data(chunk: Uint8Array): void {
    this.#run(this.#decoder.transform(chunk, this.#emit), undefined);
  }

  /** The frame's end: ends the frame at the host once what it decoded to was taken. */
  end(fin: boolean): void {
    this.#run(this.#decoder.flush(fin, this.#emit), fin);
  }

  /** Hands the consumer the oldest backlog entry (it asked for data). */
  takeBacklog(): void {
    const e = this.#backlog.shift();
    if (e.kind === 'data') {
      try {
        this.#deliver(this.#host.current!, e.chunk);
      } catch (err) {
        this.#failed(err);
      }
    } else if (e.kind === 'end') {
      this.#host.endFrame(e.fin);
    } else {
      this.#failed(e.err);
    }
    this.resume();
  }

  /** The backlog has room again: let a paused decoder go on. */
  resume(): void {
    const r = this.#demand;
    if (r === undefined || this.#backlog.full) return;
    this.#demand = undefined;
    r();
  }

  /** The message was abandoned: the decoder lets go of what it holds. */
  dispose(): void {
    this.#decoder.dispose();
    this.#backlog.clear();
    this.#demand = undefined;
  }

  #emitChunk(chunk: Uint8Array): void | Promise<void> {
    const host = this.#host;
    const m = host.current;
    if (m === undefined) return undefined;
    if (this.#backlog.isEmpty && host.currentDelivered && (m._done || m._wantsData())) {
      this.#deliver(m, chunk);
      return undefined;
    }
    // The consumer is not taking data now: keep it, in order, up to a bound. One compressed
    // chunk can inflate to megabytes: beyond the bound the decoder stops producing until the
    // consumer takes some, as the wire does when nobody reads.
    this.#keep({ kind: 'data', chunk });
    if (!this.#backlog.full) return undefined;
    return new Promise<void>((resolve) => {
      this.#demand = resolve;
    });
  }

  #deliver(m: IncomingMessage, chunk: Uint8Array): void {
    const utf8 = this.#utf8;
    if (utf8 !== undefined && utf8.push(chunk) !== -1) {
      throw new ProtocolViolation(CloseCode.InvalidPayload, 'INVALID_UTF8', 'Text message is not valid UTF-8');
    }
    m._data(chunk);
  }

  /** The decoder's frame ended: behind what the backlog holds, if anything. */
  #ended(fin: boolean): void {
    const host = this.#host;
    const m = host.current;
    if ((this.#backlog.isEmpty && host.currentDelivered) || m === undefined || m._done) host.endFrame(fin);
    else this.#keep({ kind: 'end', fin });
  }

  #keep(entry: BacklogEntry): void {
    if (this.#backlog === NO_BACKLOG) this.#backlog = new DecodedBacklog();
    this.#backlog.push(entry);
  }

  /** Runs a decoder step (`fin`: the frame's flush); events after it wait until it settles, so order is kept. */
  #run(step: void | Promise<void>, fin: boolean | undefined): void {
    if (step === undefined) {
      if (fin !== undefined) this.#ended(fin);
      return;
    }
    const host = this.#host;
    host.decoderStep(true);
    step.then(
      () => {
        host.decoderStep(false);
        if (fin !== undefined && (!host.finalized || host.current !== undefined)) this.#ended(fin);
        host.pumpAhead();
      },
      (err: unknown) => {
        host.decoderStep(false);
        // Decoded ahead of its consumer, a failure comes after what was decoded before it.
        const m = host.current;
        if ((!this.#backlog.isEmpty || !host.currentDelivered) && m !== undefined && !m._done) this.#keep({ kind: 'failed', err });
        else this.#failed(err);
        host.pumpAhead();
      },
    );
  }

  #failed(err: unknown): void {
    this.#host.fail(err instanceof ProtocolViolation
      ? err
      : new ProtocolViolation(CloseCode.InvalidPayload, 'EXTENSION_ERROR', `Could not decode message: ${(err as Error)?.message ?? String(err)}`));
  }
}
