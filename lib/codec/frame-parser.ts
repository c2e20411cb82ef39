import { CloseCode, HeaderBits, MAX_CONTROL_PAYLOAD, Opcode } from './constants';
import { ByteQueue } from './byte-queue';
import type { FrameHeader, FrameLength } from './frame-header';
import { maskInPlace } from './mask';
import { ProtocolViolation, type ViolationKind } from './violation';

/** What the parser reports, in wire order. */
export type ParserEvent =
  /** A data frame begins (text, binary, continuation, or an allowed reserved data opcode). */
  | {
      /** Discriminant: a data frame begins. */
      readonly type: 'frame-start';
      /** The frame's header as received. */
      readonly header: FrameHeader;
    }
  /**
   * A piece of the current data frame's payload, unmasked in place: a view, never empty.
   * Only when `next(true)` asked for it, `data` is left masked and `maskKey` (with the key
   * position of `data[0]`, `maskPhase`) is there for the consumer to unmask while copying.
   */
  | {
      /** Discriminant: payload bytes of the current data frame. */
      readonly type: 'frame-data';
      /** The bytes: a view into what was pushed, unmasked unless `maskKey` is set. */
      readonly data: Uint8Array;
      /** Set only when `data` was left masked: the frame's masking key. */
      readonly maskKey?: Uint8Array;
      /** With `maskKey`: the key byte `data[0]` is masked with (0–3). */
      readonly maskPhase?: number;
    }
  /** The current data frame's last byte was read (also sent for empty frames). */
  | {
      /** Discriminant: the current data frame ended. */
      readonly type: 'frame-end';
      /** The header of the frame that ended. */
      readonly header: FrameHeader;
    }
  /** A whole control frame (at most 125 bytes), in wire order, even between fragments. */
  | {
      /** Discriminant: a whole control frame (close, ping, pong or a reserved 0xB–0xF). */
      readonly type: 'control';
      /** The control frame's header. */
      readonly header: FrameHeader;
      /** Its payload, unmasked, a copy of its own (at most 125 bytes). */
      readonly payload: Uint8Array;
    }
  /** A rule was broken; the parser is failed from now on. */
  | {
      /** Discriminant: a framing rule was broken. */
      readonly type: 'error';
      /** Which rule, and the close code to fail the connection with. */
      readonly violation: ProtocolViolation;
    };

/** Options of a `FrameParser`: its role and its limits. */
export interface FrameParserOptions {
  /** A server requires masked frames, a client unmasked ones (RFC 6455 §5.1). */
  readonly role: 'client' | 'server';
  /**
   * Largest payload accepted, judged from the header alone (1009). Default 2^53 − 1.
   * `Infinity` also accepts lengths beyond 2^53 − 1 (up to RFC 6455's 2^63 − 1): their
   * `FrameHeader.length` is then a `bigint`.
   */
  readonly maxFrameSize?: number;
  /** RSV bits accepted on data frames (owned by negotiated extensions). Default 0. */
  readonly allowedRsv?: number;
  /** RSV bits accepted on control frames. Default 0. */
  readonly allowedControlRsv?: number;
  /** Reserved opcodes accepted: 0x3–0x7 as data, 0xB–0xF as control. Default none. */
  readonly allowedOpcodes?: readonly number[];
}

/**
 * Payload of a frame longer than 2^53 − 1 bytes is counted down in windows of this size, so
 * the per-chunk count stays a plain number; the rest waits as a bigint until a window is used up.
 */
const PAYLOAD_WINDOW = 2 ** 52;

const Step = { Head: 0, Len16: 1, Len64: 2, MaskKey: 3, Payload: 4, Control: 5, FrameEnd: 6, Failed: 7 } as const;
type Step = (typeof Step)[keyof typeof Step];

/**
 * Incremental RFC 6455 frame parser: bytes in (split anywhere, one at a time if need be),
 * events out, pulled one at a time so that a consumer that stops pulling stops the parsing.
 * Payload is unmasked in place and handed out as views (pushed chunks belong to the parser).
 * Every §5 framing rule is checked here; lengths are refused from the header before any
 * payload is buffered. Peer input never throws: a violation is an `error` event.
 *
 * @example
 * ```ts
 * const parser = new FrameParser({ role: 'server' });
 * parser.push(chunk);
 * for (let ev = parser.next(); ev; ev = parser.next()) console.log(ev.type);
 * ```
 */
export class FrameParser {
  readonly #queue = new ByteQueue();
  readonly #server: boolean;
  readonly #maxFrameSize: number;
  readonly #allowedRsv: number;
  readonly #allowedControlRsv: number;
  /** Bit i set: opcode i accepted. Opcodes 0, 1, 2, 8, 9, 10 always. */
  readonly #opcodes: number;
  #step: Step = Step.Head;
  #fin = false;
  #rsv = 0;
  #opcode = 0;
  #masked = false;
  #length: FrameLength = 0;
  #remaining = 0;
  /** Payload beyond the current window, for frames longer than 2^53 − 1 bytes. */
  #beyondWindow: bigint | undefined;
  #maskKey: Uint8Array | undefined;
  #phase = 0;
  #header: FrameHeader | undefined;
  #inMessage = false;

  constructor(options: FrameParserOptions) {
    this.#server = options.role === 'server';
    const max = options.maxFrameSize ?? Number.MAX_SAFE_INTEGER;
    // Only an explicit Infinity lets a length past 2^53 − 1 through (as a bigint).
    this.#maxFrameSize = max === Infinity ? Infinity : Math.min(max, Number.MAX_SAFE_INTEGER);
    this.#allowedRsv = options.allowedRsv ?? 0;
    this.#allowedControlRsv = options.allowedControlRsv ?? 0;
    let ops = (1 << Opcode.Continuation) | (1 << Opcode.Text) | (1 << Opcode.Binary) | (1 << Opcode.Close) | (1 << Opcode.Ping) | (1 << Opcode.Pong);
    for (const op of options.allowedOpcodes ?? []) if (op >= 0 && op <= 0xf) ops |= 1 << op;
    this.#opcodes = ops;
  }

  /** Bytes pushed and not yet handed out. */
  get bufferedAmount(): number {
    return this.#queue.length;
  }
  /** True once a rule was broken: the parser has reported its `error` event and ignores further input. */
  get failed(): boolean {
    return this.#step === Step.Failed;
  }
  /** A fragmented data message is open: continuation frames are expected. */
  get inMessage(): boolean {
    return this.#inMessage;
  }

  /** Appends bytes; parses nothing until `next()`. Ignored once failed. */
  push(chunk: Uint8Array): void {
    if (this.#step !== Step.Failed) this.#queue.push(chunk);
  }

  /**
   * Parses just far enough for one event; `undefined` when more bytes are needed.
   * `leaveMasked`: a `frame-data` event may carry its payload still masked (see `ParserEvent`).
   */
  next(leaveMasked = false): ParserEvent | undefined {
    const q = this.#queue;
    for (;;) {
      switch (this.#step) {
        case Step.Head: {
          if (q.length < 2) return undefined;
          const b0 = q.peekByte(0);
          const b1 = q.peekByte(1);
          q.drop(2);
          this.#fin = (b0 & HeaderBits.Fin) !== 0;
          this.#rsv = (b0 >> 4) & 0b111;
          this.#opcode = b0 & HeaderBits.Opcode;
          this.#masked = (b1 & HeaderBits.Mask) !== 0;
          const len7 = b1 & HeaderBits.Length;
          const err = this.#checkHead(len7);
          if (err) return err;
          if (len7 === 126) this.#step = Step.Len16;
          else if (len7 === 127) this.#step = Step.Len64;
          else {
            const e = this.#setLength(len7);
            if (e) return e;
          }
          continue;
        }
        case Step.Len16: {
          if (q.length < 2) return undefined;
          const b = q.peekByte(0) << 8 | q.peekByte(1);
          q.drop(2);
          // Non-minimal encodings (126 for a length under 126) break RFC 6455 §5.2's "the
          // minimal number of bytes MUST be used", but are harmless and accepted by ws,
          // Autobahn and browsers; refusing them would only break interop.
          const e = this.#setLength(b);
          if (e) return e;
          continue;
        }
        case Step.Len64: {
          if (q.length < 8) return undefined;
          const b = q.take(8);
          const hi = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
          const lo = ((b[4]! << 24) | (b[5]! << 16) | (b[6]! << 8) | b[7]!) >>> 0;
          // RFC 6455 §5.2: "the most significant bit MUST be 0".
          if (hi & 0x80000000) return this.#fail(CloseCode.ProtocolError, 'LENGTH_MSB_SET', 'Frame length has its most significant bit set');
          let length: FrameLength = hi * 0x100000000 + lo;
          if (hi > 0x1fffff) {
            if (this.#maxFrameSize !== Infinity) {
              return this.#fail(CloseCode.MessageTooBig, 'FRAME_TOO_BIG', `Frame length of ${(BigInt(hi) << 32n) | BigInt(lo)} bytes is beyond 2^53 − 1 (maxFrameSize: Infinity accepts it)`);
            }
            length = (BigInt(hi) << 32n) | BigInt(lo);
          }
          const e = this.#setLength(length);
          if (e) return e;
          continue;
        }
        case Step.MaskKey: {
          if (q.length < 4) return undefined;
          // A copy of its own: the key outlives the chunk it came in (headers, masked payloads).
          const key = new Uint8Array(4);
          for (let i = 0; i < 4; i++) key[i] = q.peekByte(i);
          q.drop(4);
          this.#maskKey = key;
          this.#phase = 0;
          const ev = this.#startFrame();
          if (ev) return ev;
          continue;
        }
        case Step.Payload: {
          if (q.length === 0) return undefined;
          const data = q.takeUpTo(this.#remaining);
          this.#remaining -= data.length;
          if (this.#remaining === 0) {
            if (this.#beyondWindow === undefined) this.#step = Step.FrameEnd;
            else this.#nextWindow();
          }
          const key = this.#maskKey;
          if (key === undefined) return { type: 'frame-data', data };
          const phase = this.#phase;
          if (leaveMasked) {
            this.#phase = (phase + data.length) & 3;
            return { type: 'frame-data', data, maskKey: key, maskPhase: phase };
          }
          this.#phase = maskInPlace(data, key, phase);
          return { type: 'frame-data', data };
        }
        case Step.Control: {
          const length = this.#length as number; // at most 125: checked in #checkHead
          if (q.length < length) return undefined;
          const payload = length === 0 ? new Uint8Array(0) : q.take(length).slice();
          if (this.#maskKey) maskInPlace(payload, this.#maskKey, 0);
          this.#step = Step.Head;
          const header = this.#makeHeader();
          this.#maskKey = undefined;
          return { type: 'control', header, payload };
        }
        case Step.FrameEnd: {
          this.#step = Step.Head;
          // Nothing of a frame is kept between frames: an idle connection holds no header or key.
          const header = this.#header!;
          this.#header = undefined;
          this.#maskKey = undefined;
          return { type: 'frame-end', header };
        }
        case Step.Failed:
          return undefined;
      }
    }
  }

  #checkHead(len7: number): ParserEvent | undefined {
    const op = this.#opcode;
    if (((this.#opcodes >> op) & 1) === 0) {
      return this.#fail(CloseCode.ProtocolError, 'RESERVED_OPCODE', `Opcode 0x${op.toString(16)} is reserved and no extension defines it`);
    }
    if (op & 0x8) {
      // RFC 6455 §5.5: "All control frames MUST have a payload length of 125 bytes or less
      // and MUST NOT be fragmented."
      if (this.#rsv & ~this.#allowedControlRsv) return this.#failRsv();
      if (!this.#fin) return this.#fail(CloseCode.ProtocolError, 'CONTROL_FRAME_FRAGMENTED', 'Control frame is fragmented (FIN is 0)');
      if (len7 > MAX_CONTROL_PAYLOAD) {
        return this.#fail(CloseCode.ProtocolError, 'CONTROL_FRAME_TOO_LONG', 'Control frame payload is longer than 125 bytes');
      }
    } else {
      if (this.#rsv & ~this.#allowedRsv) return this.#failRsv();
      // RFC 6455 §5.4: continuations only inside a fragmented message, and no new data
      // message until the open one has ended.
      if (op === Opcode.Continuation) {
        if (!this.#inMessage) return this.#fail(CloseCode.ProtocolError, 'UNEXPECTED_CONTINUATION', 'Continuation frame without a message to continue');
      } else if (this.#inMessage) {
        return this.#fail(CloseCode.ProtocolError, 'EXPECTED_CONTINUATION', `Data frame (opcode 0x${op.toString(16)}) inside a fragmented message; expected a continuation`);
      }
    }
    // RFC 6455 §5.1: "a client MUST mask all frames that it sends to the server" and "A server
    // MUST NOT mask any frames"; the receiving side MUST close on a violation either way.
    if (this.#server && !this.#masked) return this.#fail(CloseCode.ProtocolError, 'MASK_REQUIRED', 'Client frame is not masked');
    if (!this.#server && this.#masked) return this.#fail(CloseCode.ProtocolError, 'MASK_FORBIDDEN', 'Server frame is masked');
    return undefined;
  }

  #failRsv(): ParserEvent {
    return this.#fail(CloseCode.ProtocolError, 'RESERVED_BITS', `Reserved bits 0b${this.#rsv.toString(2).padStart(3, '0')} are set and no extension owns them`);
  }

  #setLength(length: FrameLength): ParserEvent | undefined {
    if (length > this.#maxFrameSize) {
      return this.#fail(CloseCode.MessageTooBig, 'FRAME_TOO_BIG', `Frame of ${length} bytes exceeds maxFrameSize (${this.#maxFrameSize})`);
    }
    this.#length = length;
    if (this.#masked) {
      this.#step = Step.MaskKey;
      return undefined;
    }
    this.#maskKey = undefined;
    return this.#startFrame();
  }

  #startFrame(): ParserEvent | undefined {
    if (this.#opcode & 0x8) {
      this.#step = Step.Control;
      return undefined;
    }
    if (this.#opcode !== Opcode.Continuation || this.#fin) this.#inMessage = !this.#fin;
    const header = this.#makeHeader();
    this.#header = header;
    if (typeof this.#length === 'bigint') {
      this.#beyondWindow = this.#length;
      this.#nextWindow();
    } else {
      this.#remaining = this.#length;
      this.#beyondWindow = undefined;
    }
    this.#step = this.#length > 0 ? Step.Payload : Step.FrameEnd;
    return { type: 'frame-start', header };
  }

  /** Moves the next window of a frame longer than 2^53 − 1 bytes into `#remaining`. */
  #nextWindow(): void {
    const rest = this.#beyondWindow!;
    const take = rest > BigInt(PAYLOAD_WINDOW) ? PAYLOAD_WINDOW : Number(rest);
    this.#remaining = take;
    this.#beyondWindow = rest > BigInt(take) ? rest - BigInt(take) : undefined;
  }

  #makeHeader(): FrameHeader {
    return { fin: this.#fin, rsv: this.#rsv, opcode: this.#opcode, masked: this.#masked, length: this.#length, maskKey: this.#maskKey };
  }

  #fail(code: CloseCode, kind: ViolationKind, message: string): ParserEvent {
    this.#step = Step.Failed;
    this.#queue.clear();
    return { type: 'error', violation: new ProtocolViolation(code, kind, message) };
  }
}
