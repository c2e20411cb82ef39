// RFC 7692 permessage-deflate as a layer-2 extension: negotiation (params.ts), the per-frame
// rules, and per-message encode/decode stages that stream through a DeflateEngine.
import { CloseCode, Opcode, Rsv } from '../../codec/constants';
import type { FrameHeader } from '../../codec/frame-header';
import { ProtocolViolation } from '../../codec/violation';
import type { Extension, ExtensionFactory, ExtensionOffer, PayloadTransform } from '../../protocol/extension';
import type { CodecSink, DeflateEngine, RawCodec } from './deflate-engine';
import { sharedDeflateFor, type SharedDeflate } from './shared-deflate';
import {
  EXTENSION_NAME, acceptResponse, answerOffer, checkOptions, clientOffer, parseParams,
  type DeflateAgreement, type PerMessageDeflateOptions,
} from './params';

/** RFC 7692 §7.2.2: appended to a message's payload before inflating it. */
const TAIL = new Uint8Array([0x00, 0x00, 0xff, 0xff]);
/** BFINAL 0, BTYPE 00, padding: the first byte of an empty stored block. */
const EMPTY_BLOCK_HEAD = new Uint8Array([0x00]);
/** A last chunk this small is copied to join the tail; a larger one is written on its own. */
const JOIN_TAIL_BELOW = 16 * 1024;
const DEFAULT_LEVEL = 6;
const DEFAULT_MEM_LEVEL = 8;
const DEFAULT_THRESHOLD = 1024;

/**
 * The permessage-deflate extension factory (RFC 7692), for either role. Give it to a server's
 * or client's `extensions` option, with the engine of the runtime (Node: `zlibEngine()`, or
 * the `perMessageDeflate` option, which does this for you).
 *
 * @example
 * ```ts
 * serve({ port: 8080, extensions: [new PerMessageDeflate(zlibEngine(), { serverNoContextTakeover: true })] }, echo);
 * ```
 */
export class PerMessageDeflate implements ExtensionFactory {
  /** `permessage-deflate`, the token it negotiates. */
  readonly name = EXTENSION_NAME;
  readonly #engine: DeflateEngine;
  readonly #options: PerMessageDeflateOptions;

  constructor(engine: DeflateEngine, options: PerMessageDeflateOptions = {}) {
    checkOptions(options);
    this.#engine = engine;
    this.#options = { ...options };
  }

  offer(): ExtensionOffer[] {
    return [clientOffer(this.#options)];
  }

  accept(offers: readonly ExtensionOffer[]): {
    /** What the server answers in its `Sec-WebSocket-Extensions`. */
    response: ExtensionOffer;
    /** The extension, active on the connection. */
    extension: Extension;
  } | undefined {
    // RFC 7692 §5.1: the server accepts the first offer it can, and declines invalid ones.
    for (const offer of offers) {
      const params = parseParams(offer);
      if (typeof params === 'string') continue;
      const answer = answerOffer(params, this.#options);
      if (typeof answer === 'string') continue;
      return { response: answer.response, extension: new DeflateExtension(this.#engine, answer.agreement, this.#options) };
    }
    return undefined;
  }

  complete(response: ExtensionOffer): Extension {
    const params = parseParams(response);
    if (typeof params === 'string') throw new Error(params);
    const agreement = acceptResponse(params, this.#options);
    if (typeof agreement === 'string') throw new Error(agreement);
    return new DeflateExtension(this.#engine, agreement, this.#options);
  }
}

/**
 * permessage-deflate active on one connection. The compressor and decompressor are created
 * on first use and, where no context takeover was agreed, freed after every message, so an
 * idle connection holds no zlib state.
 */
export class DeflateExtension implements Extension {
  /** `permessage-deflate`, the token it was negotiated as. */
  readonly name = EXTENSION_NAME;
  readonly rsvBits = Rsv.Rsv1;
  /** What was agreed in the handshake. */
  readonly agreement: DeflateAgreement;
  readonly #engine: DeflateEngine;
  readonly #level: number;
  readonly #memLevel: number;
  readonly #threshold: number;
  #deflater: RawCodec | undefined;
  #inflater: RawCodec | undefined;
  #closed = false;
  #shared: SharedDeflate | undefined;

  constructor(engine: DeflateEngine, agreement: DeflateAgreement, options: PerMessageDeflateOptions) {
    this.#engine = engine;
    this.agreement = agreement;
    this.#level = options.level ?? DEFAULT_LEVEL;
    this.#memLevel = options.memLevel ?? DEFAULT_MEM_LEVEL;
    this.#threshold = options.threshold ?? DEFAULT_THRESHOLD;
  }

  checkIncomingFrame(header: FrameHeader, firstFrameOfMessage: boolean): ProtocolViolation | undefined {
    // RFC 7692 §6.1: "An endpoint MUST NOT set the "Per-Message Compressed" bit of control
    // frames and non-first fragments of a data message." (control frames never reach here:
    // the parser refuses RSV bits on them.)
    if (!firstFrameOfMessage && (header.rsv & Rsv.Rsv1) !== 0) {
      return new ProtocolViolation(CloseCode.ProtocolError, 'RESERVED_BITS', 'RSV1 is set on a continuation frame (RFC 7692 §6.1)');
    }
    return undefined;
  }

  createDecoder(rsv: number, maxOutputBytes: number): PayloadTransform | undefined {
    if ((rsv & Rsv.Rsv1) === 0) return undefined;
    if (this.#closed) throw new Error('permessage-deflate is closed');
    const codec = (this.#inflater ??= this.#engine.createInflater(this.agreement.remoteWindowBits));
    let produced = 0;
    let failed = false;
    const counted = (emit: CodecSink): CodecSink => (out) => {
      produced += out.length;
      if (produced > maxOutputBytes) {
        throw new ProtocolViolation(CloseCode.MessageTooBig, 'MESSAGE_TOO_BIG',
          `Message inflates to more than maxMessageSize (${maxOutputBytes} bytes)`);
      }
      return emit(out);
    };
    const run = async (op: Promise<void> | void): Promise<void> => {
      try {
        await op;
      } catch (err) {
        failed = true;
        // A decompressor that failed mid-stream has an unknown window: never reuse it.
        this.#dropInflater(codec);
        throw err instanceof ProtocolViolation ? err : inflateError(err);
      }
    };
    // The latest chunk is held back one step, so that a message's last chunk and the 00 00 FF
    // FF tail go to zlib in one write: a small message costs one trip to the codec, not two.
    let held: Uint8Array | undefined;
    return {
      transform: (chunk, emit) => {
        const prev = held;
        held = chunk;
        if (prev === undefined) return undefined;
        const op = codec.write(prev, counted(emit));
        return op === undefined ? undefined : run(op);
      },
      flush: (fin, emit) => {
        const sink = counted(emit);
        const last = held;
        held = undefined;
        let op: void | Promise<void>;
        if (!fin) {
          op = last === undefined ? undefined : codec.write(last, sink);
        } else if (last === undefined) {
          op = codec.write(TAIL, sink);
        } else if (last.length <= JOIN_TAIL_BELOW) {
          const joined = new Uint8Array(last.length + TAIL.length);
          joined.set(last);
          joined.set(TAIL, last.length);
          op = codec.write(joined, sink);
        } else {
          const first = codec.write(last, sink);
          op = first === undefined ? codec.write(TAIL, sink) : first.then(() => codec.write(TAIL, sink));
        }
        const done = run(Promise.resolve(op).then(() => codec.flush(sink)));
        return fin && this.agreement.remoteNoContextTakeover ? done.then(() => this.#recycleInflater(codec)) : done;
      },
      dispose: () => {
        held = undefined;
        // An abandoned message leaves the window mid-message: the next message cannot use it.
        if (!failed) this.#dropInflater(codec);
      },
    };
  }

  createEncoder(opcode: number, sizeHint: number | undefined): {
    /** RSV bits to set on the message's first frame: RSV1. */
    rsv: number;
    /** Compresses the message's payload. */
    transform: PayloadTransform;
  } | undefined {
    if (opcode !== Opcode.Text && opcode !== Opcode.Binary) return undefined;
    if (sizeHint !== undefined && sizeHint < this.#threshold) return undefined;
    if (this.#closed) throw new Error('permessage-deflate is closed');
    const codec = (this.#deflater ??= this.#engine.createDeflater({
      windowBits: this.agreement.localWindowBits, level: this.#level, memLevel: this.#memLevel,
    }));
    const tail = new TailStripper();
    let done = false;
    return {
      rsv: Rsv.Rsv1,
      transform: {
        transform: (chunk, emit) => codec.write(chunk, tail.sink(emit)),
        flush: async (fin, emit) => {
          const sink = tail.sink(emit);
          await codec.flush(sink);
          // RFC 7692 §7.2.1: the final block of a message loses its 00 00 FF FF; earlier
          // frames keep theirs (the receiver inflates the frames' concatenation).
          if (fin) {
            if (tail.isEmpty()) {
              // zlib writes nothing for a flush right after a flush, but the receiver will
              // append 00 00 FF FF: give it the header byte of an empty stored block to
              // complete (§7.2.3.6's single 0x00 byte).
              await emit(EMPTY_BLOCK_HEAD);
            } else if (tail.endsWithEmptyBlock()) {
              tail.drop();
            } else {
              throw new Error('Compressor output did not end with an empty stored block');
            }
            done = true;
            if (this.agreement.localNoContextTakeover) this.#recycleDeflater(codec);
          } else {
            await tail.release(emit);
          }
        },
        dispose: () => {
          if (!done) this.#dropDeflater(codec);
        },
      },
    };
  }

  /**
   * @internal For `broadcast()`: where this end's compressor keeps no context between messages (no
   * context takeover agreed for it, RFC 7692 §7.1.1), each message is compressed alone, so
   * every connection whose extension returns the same object can be sent one compressed
   * payload. `undefined` with context takeover: a message's compressed form depends on the
   * messages this connection compressed before it.
   */
  sharedDeflate(): SharedDeflate | undefined {
    if (!this.agreement.localNoContextTakeover || this.#closed) return undefined;
    return (this.#shared ??= sharedDeflateFor(this.#engine, {
      windowBits: this.agreement.localWindowBits, level: this.#level, memLevel: this.#memLevel,
    }, this.#threshold));
  }

  close(): void {
    this.#closed = true;
    this.#inflater?.close();
    this.#deflater?.close();
    this.#inflater = this.#deflater = undefined;
  }

  // Without context takeover a codec keeps nothing a later message needs: the engine can
  // give it to any connection, so idle connections hold no zlib state and busy ones do not
  // pay for a new zlib stream per message.
  #recycleInflater(codec: RawCodec): void {
    if (this.#inflater === codec) this.#inflater = undefined;
    this.#recycle(codec);
  }

  #recycleDeflater(codec: RawCodec): void {
    if (this.#deflater === codec) this.#deflater = undefined;
    this.#recycle(codec);
  }

  #recycle(codec: RawCodec): void {
    if (this.#engine.recycle !== undefined) this.#engine.recycle(codec);
    else codec.close();
  }

  #dropInflater(codec: RawCodec): void {
    codec.close();
    if (this.#inflater === codec) this.#inflater = undefined;
  }

  #dropDeflater(codec: RawCodec): void {
    codec.close();
    if (this.#deflater === codec) this.#deflater = undefined;
  }
}

function inflateError(err: unknown): ProtocolViolation {
  const detail = err instanceof Error ? err.message : String(err);
  return new ProtocolViolation(CloseCode.InvalidPayload, 'EXTENSION_ERROR', `Compressed message could not be inflated: ${detail}`);
}

/** Holds back the last four output bytes, which may be the empty block §7.2.1 removes. */
class TailStripper {
  readonly #held = new Uint8Array(4);
  #count = 0;

  sink(emit: CodecSink): CodecSink {
    return (out) => {
      if (out.length === 0) return undefined;
      if (out.length >= 4) {
        // Everything held and all but the last 4 bytes of `out` can go.
        const before = this.#count > 0 ? this.#held.slice(0, this.#count) : undefined;
        this.#held.set(out.subarray(out.length - 4));
        this.#count = 4;
        const body = out.subarray(0, out.length - 4);
        if (before !== undefined) {
          const r = emit(before);
          if (body.length === 0) return r;
          return r === undefined ? emit(body) : r.then(() => emit(body));
        }
        return body.length > 0 ? emit(body) : undefined;
      }
      // Fewer than 4 new bytes: keep the last 4 of held + out.
      const all = new Uint8Array(this.#count + out.length);
      all.set(this.#held.subarray(0, this.#count));
      all.set(out, this.#count);
      const keep = Math.min(4, all.length);
      this.#held.set(all.subarray(all.length - keep));
      this.#count = keep;
      return all.length > keep ? emit(all.subarray(0, all.length - keep)) : undefined;
    };
  }

  isEmpty(): boolean {
    return this.#count === 0;
  }

  endsWithEmptyBlock(): boolean {
    return this.#count === 4 && this.#held[0] === 0 && this.#held[1] === 0 && this.#held[2] === 0xff && this.#held[3] === 0xff;
  }

  drop(): void {
    this.#count = 0;
  }

  release(emit: CodecSink): void | Promise<void> {
    if (this.#count === 0) return undefined;
    const out = this.#held.slice(0, this.#count);
    this.#count = 0;
    return emit(out);
  }
}
