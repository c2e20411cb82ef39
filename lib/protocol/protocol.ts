import { CloseCode, MAX_CLOSE_REASON_BYTES, MAX_CONTROL_PAYLOAD, Opcode } from '../codec/constants';
import { encodeClosePayload, parseClosePayload } from '../codec/close-payload';
import type { FrameLength } from '../codec/frame-header';
import { FrameParser, type FrameParserOptions } from '../codec/frame-parser';
import { Utf8Validator, type NativeUtf8Check } from '../codec/utf8-validator';
import { ProtocolViolation } from '../codec/violation';
import type { Extension } from './extension';
import type { ProtocolLimits } from './limits';
import type { ProtocolEvent } from './events';
import { FrameEncoder } from './frame-encoder';
import { ReadyState, type CloseState } from './state';
import { InvalidStateError } from './invalid-state-error';

/** The protocol's limits (declared once, in `ProtocolLimits`), its role and its negotiated extensions. */
export interface ProtocolOptions extends ProtocolLimits {
  /** A client masks what it sends and requires unmasked frames; a server the other way round. */
  readonly role: 'client' | 'server';
  /** The extensions negotiated in the opening handshake, in the order agreed. */
  readonly extensions?: readonly Extension[];
  /**
   * The runtime's native whole-buffer UTF-8 check (Node: `buffer.isUtf8`), used on the
   * complete part of large text chunks; without it text is validated in JavaScript only.
   */
  readonly isUtf8?: NativeUtf8Check;
}

export { InvalidStateError } from './invalid-state-error';

interface IncomingMessageState {
  readonly opcode: number;
  readonly rsv: number;
  readonly encoded: boolean;
  /** Validates unencoded text as it arrives; encoded text is validated after decoding. */
  readonly utf8: Utf8Validator | undefined;
  frames: number;
  bytes: number;
}

/** A control frame owed to the peer, encoded (and, for a client, masked) by `takeOutput()`. */
interface OwedFrame {
  readonly opcode: number;
  /** Owned by the protocol: never a view of something the user or the parser may change. */
  payload: Uint8Array;
}

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();

/**
 * The sans-I/O WebSocket connection after the opening handshake: bytes in, events and bytes
 * out, in the manner of python-websockets' `Protocol`. It never touches a socket or a timer:
 * `receive()` takes what the transport read, `nextEvent()` is pulled by the streams layer
 * (so a consumer that stops pulling stops the parsing), and `takeOutput()` gives the control
 * frames it owes the peer (pongs, close echoes, failure closes).
 *
 * Peer input never throws: every violation becomes a `failed` event with its close code.
 */
export class Protocol {
  /** Which end of the connection this is. */
  readonly role: 'client' | 'server';
  /** Made when the first bytes arrive: an idle connection keeps only what makes it. */
  #parser: FrameParser | undefined;
  readonly #parserOptions: FrameParserOptions;
  readonly #encoder: FrameEncoder;
  readonly #extensions: readonly Extension[];
  readonly #extensionRsv: number;
  readonly #isUtf8: NativeUtf8Check | undefined;
  readonly #maxMessageSize: number;
  readonly #maxFragments: number;
  readonly #autoPong: boolean;
  #state: ReadyState = ReadyState.Open;
  readonly #close: CloseState = { sent: undefined, received: undefined };
  #failure: ProtocolViolation | undefined;
  /** Control frames owed to the peer, oldest first, unencoded until `takeOutput()`. */
  #output: OwedFrame[] = [];
  /** Index in `#output` of the automatic pong owed, or −1: at most one is owed at a time. */
  #owedPong = -1;
  /** Pings answered by replacing the owed automatic pong's payload since the last `takeOutput()`. */
  #coalescedPings = 0;
  #message: IncomingMessageState | undefined;
  #frameFin = false;
  /** Our close frame for a failure is queued and not yet taken. */
  #closeInOutput = false;
  /** Set once input must be ignored: after the peer's close or after we failed. */
  #discarding = false;

  constructor(options: ProtocolOptions) {
    this.role = options.role;
    this.#extensions = options.extensions ?? [];
    let owned = 0;
    const opcodes = [...(options.allowReservedOpcodes ?? [])];
    for (const ext of this.#extensions) {
      if (owned & ext.rsvBits) {
        throw new RangeError(`Extension ${ext.name} claims RSV bits another negotiated extension owns`);
      }
      owned |= ext.rsvBits;
      opcodes.push(...(ext.opcodes ?? []));
    }
    this.#extensionRsv = owned;
    this.#maxMessageSize = options.maxMessageSize ?? Number.MAX_SAFE_INTEGER;
    this.#maxFragments = options.maxFragments ?? Number.MAX_SAFE_INTEGER;
    this.#autoPong = options.autoPong ?? true;
    this.#parserOptions = {
      role: options.role,
      maxFrameSize: options.maxFrameSize,
      allowedRsv: owned | (options.allowReservedBits ?? 0),
      allowedOpcodes: opcodes,
    };
    this.#encoder = new FrameEncoder({ role: options.role, maskKeySource: options.maskKeySource });
    this.#isUtf8 = options.isUtf8;
  }

  /** Open, closing (a close frame was sent or received) or closed. */
  get state(): ReadyState {
    return this.#state;
  }
  /** The close frame we sent, once sent. */
  get closeSent(): {
    /** Its status code. */
    code: number;
    /** Its reason. */
    reason: string;
  } | undefined {
    return this.#close.sent;
  }
  /** The peer's close frame, once received. */
  get closeReceived(): {
    /** Its status code (1005 when it had none). */
    code: number;
    /** Its reason. */
    reason: string;
  } | undefined {
    return this.#close.received;
  }
  /** The violation we failed the connection for, if any. */
  get failure(): ProtocolViolation | undefined {
    return this.#failure;
  }
  /** Received bytes not yet turned into events. */
  get bufferedAmount(): number {
    return this.#parser?.bufferedAmount ?? 0;
  }
  /** A data message from the peer is open (its last frame has not ended). */
  get receivingMessage(): boolean {
    return this.#message !== undefined;
  }

  /** Takes bytes read from the peer. Never throws; parses nothing until `nextEvent()`. */
  receive(chunk: Uint8Array): void {
    if (!this.#discarding && chunk.length > 0) (this.#parser ??= new FrameParser(this.#parserOptions)).push(chunk);
  }

  /**
   * The next event, parsing just far enough to produce it; `undefined` when more bytes are
   * needed (or when input is being discarded after a close or a failure). `leaveMasked`: the
   * payload of a `frame-data` event may stay masked, for a consumer that unmasks it while
   * copying it (never for text the protocol validates as it arrives).
   */
  nextEvent(leaveMasked = false): ProtocolEvent | undefined {
    const parser = this.#parser;
    if (parser === undefined) return undefined;
    while (!this.#discarding) {
      const ev = parser.next(leaveMasked && this.#message?.utf8 === undefined);
      if (ev === undefined) return undefined;
      switch (ev.type) {
        case 'frame-start': {
          const h = ev.header;
          const first = h.opcode !== Opcode.Continuation;
          for (const ext of this.#extensions) {
            const v = ext.checkIncomingFrame(h, first);
            if (v) return this.#failWith(v);
          }
          if (first) {
            const encoded = (h.rsv & this.#extensionRsv) !== 0;
            this.#message = {
              opcode: h.opcode,
              rsv: h.rsv,
              encoded,
              utf8: h.opcode === Opcode.Text && !encoded ? new Utf8Validator(this.#isUtf8) : undefined,
              frames: 0,
              bytes: 0,
            };
          }
          const m = this.#message!;
          if (++m.frames > this.#maxFragments) {
            return this.#failWith(new ProtocolViolation(CloseCode.MessageTooBig, 'TOO_MANY_FRAGMENTS',
              `Message has more than ${this.#maxFragments} frames (maxFragments)`));
          }
          // Refuse from the header, before any payload: the running total plus what this
          // frame announces. For an encoded message this bounds the wire bytes; the decoder
          // bounds the decoded size.
          // A bigint length (beyond 2^53 − 1, accepted only with maxFrameSize: Infinity) passes
          // only maxMessageSize: Infinity. Number() may round it, but stays above every finite limit.
          const length = Number(h.length);
          if (m.bytes + length > this.#maxMessageSize) {
            return this.#failWith(new ProtocolViolation(CloseCode.MessageTooBig, 'MESSAGE_TOO_BIG',
              `Message of at least ${typeof h.length === 'bigint' ? h.length : m.bytes + length} bytes exceeds maxMessageSize (${this.#maxMessageSize})`));
          }
          m.bytes += length;
          this.#frameFin = h.fin;
          return { type: 'frame-start', header: h, first, messageOpcode: m.opcode, messageRsv: m.rsv, encoded: m.encoded };
        }
        case 'frame-data': {
          const utf8 = this.#message!.utf8;
          if (utf8 !== undefined && utf8.push(ev.data) !== -1) {
            // RFC 6455 §8.1: "When an endpoint is to interpret a byte stream as UTF-8 but finds
            // that the byte stream is not, in fact, a valid UTF-8 stream, that endpoint MUST
            // _Fail the WebSocket Connection_." Fail fast, at the chunk holding the bad byte.
            return this.#failWith(new ProtocolViolation(CloseCode.InvalidPayload, 'INVALID_UTF8',
              'Text message is not valid UTF-8'));
          }
          return ev;
        }
        case 'frame-end': {
          const fin = this.#frameFin;
          if (fin) {
            const utf8 = this.#message!.utf8;
            this.#message = undefined;
            if (utf8 !== undefined && !utf8.end()) {
              return this.#failWith(new ProtocolViolation(CloseCode.InvalidPayload, 'INVALID_UTF8',
                'Text message ends inside a UTF-8 sequence'));
            }
          }
          return { type: 'frame-end', fin };
        }
        case 'control':
          return this.#onControl(ev.header.opcode, ev.header.rsv, ev.payload);
        case 'error':
          return this.#failWith(ev.violation);
      }
    }
    return undefined;
  }

  #onControl(opcode: number, rsv: number, payload: Uint8Array): ProtocolEvent | undefined {
    switch (opcode) {
      case Opcode.Close: {
        const parsed = parseClosePayload(payload);
        if (parsed instanceof ProtocolViolation) return this.#failWith(parsed);
        this.#close.received = { code: parsed.code, reason: parsed.reason };
        // RFC 6455 §5.5.1: after sending a Close frame, "the endpoint MUST NOT send any more
        // data frames" and the peer's data after its Close is not to be processed.
        this.#discard();
        if (this.#close.sent === undefined) {
          // RFC 6455 §5.5.1: "If an endpoint receives a Close frame and did not previously send
          // a Close frame, the endpoint MUST send a Close frame in response." Echo the received
          // payload as is: re-encoding an empty close would turn it into 1005, which is never sent.
          // (The payload is the parser's own copy and no event exposes it: no copy is needed.)
          this.#close.sent = { code: parsed.code, reason: parsed.reason };
          this.#output.push({ opcode: Opcode.Close, payload });
        }
        this.#state = ReadyState.Closing;
        return { type: 'close', code: parsed.code, reason: parsed.reason };
      }
      case Opcode.Ping:
        // RFC 6455 §5.5.2: "Upon receipt of a Ping frame, an endpoint MUST send a Pong frame in
        // response, unless it already received a Close frame." Not after we sent ours either:
        // §5.5.1 allows only the close after a close.
        if (this.#autoPong && this.#close.sent === undefined) this.#owePong(payload);
        return { type: 'ping', data: payload };
      case Opcode.Pong:
        return { type: 'pong', data: payload };
      default:
        return { type: 'control', opcode, rsv, data: payload };
    }
  }

  /**
   * Owes the peer a pong for a ping with `payload`. RFC 6455 §5.5.3: "If an endpoint receives a
   * Ping frame and has not yet sent Pong frame(s) in response to previous Ping frame(s), the
   * endpoint MAY elect to send a Pong frame for only the most recently processed Ping frame."
   * While a pong is owed (not yet taken by `takeOutput()`), a new ping replaces its payload in
   * place, so a peer flooding pings while we cannot write owes it one pong, never a growing queue.
   */
  #owePong(payload: Uint8Array): void {
    // A copy: the ping event hands `payload` to the user, who may change it before the pong goes.
    const own = payload.length === 0 ? EMPTY : payload.slice();
    if (this.#owedPong >= 0) {
      this.#output[this.#owedPong]!.payload = own;
      this.#coalescedPings++;
      return;
    }
    this.#owedPong = this.#output.length;
    this.#output.push({ opcode: Opcode.Pong, payload: own });
  }

  /**
   * _Fail the WebSocket Connection_ (RFC 6455 §7.1.7): send a close frame with `violation`'s
   * code unless one was sent already, then ignore everything the peer sends.
   */
  fail(violation: ProtocolViolation): ProtocolEvent {
    return this.#failWith(violation);
  }

  #failWith(violation: ProtocolViolation): ProtocolEvent {
    this.#failure ??= violation;
    this.#discard();
    if (this.#close.sent === undefined && this.#close.received === undefined) {
      const reason = truncateUtf8(violation.message, MAX_CLOSE_REASON_BYTES);
      this.#close.sent = { code: violation.closeCode, reason };
      this.#output.push({ opcode: Opcode.Close, payload: encodeClosePayload(violation.closeCode, reason) });
      this.#closeInOutput = true;
    }
    this.#state = ReadyState.Closing;
    return { type: 'failed', violation };
  }

  /**
   * From now on input is ignored. What was received and not yet parsed never will be: the
   * parser goes with it, so those bytes are not held and `bufferedAmount` drops to 0. (The
   * parser clears its own queue on the violations it finds; the peer's close, UTF-8, size
   * limits, extensions, `fail()` and `receiveEnd()` end the input above it.)
   */
  #discard(): void {
    this.#discarding = true;
    this.#message = undefined;
    this.#parser = undefined;
  }

  /** The transport ended or broke: nothing more will arrive. */
  receiveEnd(): void {
    this.#discard();
    this.#state = ReadyState.Closed;
  }

  /**
   * Control frames (pongs, close echoes, failure closes) owed to the peer, oldest first, as
   * wire chunks. They are encoded (a client's masked with a key from `maskKeySource`) here.
   */
  takeOutput(): Uint8Array[] {
    this.#closeInOutput = false;
    const owed = this.#output;
    if (owed.length === 0) return [];
    this.#output = [];
    this.#owedPong = -1;
    this.#coalescedPings = 0;
    const out: Uint8Array[] = [];
    // Control payloads are at most 125 bytes: each frame is one chunk.
    for (const f of owed) out.push(...this.#encoder.encodeFrame(f.opcode, f.payload, true, 0));
    return out;
  }
  /** True when `takeOutput()` has bytes owed to the peer (pongs, a close frame). */
  get hasOutput(): boolean {
    return this.#output.length > 0;
  }
  /**
   * Pings received since the last `takeOutput()` while an automatic pong was already owed:
   * each replaced that pong's payload instead of owing another (see RFC 6455 §5.5.3). A count
   * that keeps growing means the peer pings faster than its pongs can be written; the
   * connection layer may bound it (the output itself stays one pong).
   */
  get coalescedPings(): number {
    return this.#coalescedPings;
  }

  /** Encodes one whole data frame (header and payload chunks). Misuse throws. */
  encodeDataFrame(opcode: number, payload: Uint8Array, fin: boolean, rsv: number): Uint8Array[] {
    this.#assertCanSendData();
    return this.#encoder.encodeFrame(opcode, payload, fin, rsv);
  }

  /** A header now, payload later: the returned `mask` turns each piece into wire bytes. */
  beginDataFrame(opcode: number, length: FrameLength, fin: boolean, rsv: number): {
    /** The frame header, masking key included, to write first. */
    header: Uint8Array;
    /** Turns the next payload piece into wire bytes. */
    mask(chunk: Uint8Array): Uint8Array;
  } {
    this.#assertCanSendData();
    return this.#encoder.beginFrame(opcode, length, fin, rsv);
  }

  /** Queues a ping. Misuse (payload over 125 bytes, after close) throws. */
  ping(data: Uint8Array = EMPTY): void {
    this.#queueControl(Opcode.Ping, data, 'ping');
  }

  /** Queues an unsolicited pong (RFC 6455 §5.5.3 allows it as a heartbeat). */
  pong(data: Uint8Array = EMPTY): void {
    this.#queueControl(Opcode.Pong, data, 'pong');
  }

  /**
   * Queues a control frame with a reserved opcode (0xB–0xF), for an extension that defines
   * one. A peer that has not agreed to it fails the connection (RFC 6455 §5.2).
   */
  sendReservedControl(opcode: number, data: Uint8Array = EMPTY): void {
    if (!Number.isInteger(opcode) || opcode < 0xb || opcode > 0xf) {
      throw new RangeError(`A reserved control opcode is 0xB–0xF, got ${opcode}`);
    }
    this.#queueControl(opcode, data, `control frame (opcode 0x${opcode.toString(16)})`);
  }

  #queueControl(opcode: number, data: Uint8Array, what: string): void {
    if (data.length > MAX_CONTROL_PAYLOAD) {
      throw new RangeError(`A ${what} payload must be at most ${MAX_CONTROL_PAYLOAD} bytes, got ${data.length}`);
    }
    if (this.#close.sent !== undefined) {
      throw new InvalidStateError(`Cannot send a ${what} after the close frame was sent`);
    }
    // A copy (of a Node Buffer too, whose slice() is a view): the caller may reuse `data`.
    this.#output.push({ opcode, payload: data.length === 0 ? EMPTY : new Uint8Array(data) });
  }

  /**
   * Starts the closing handshake (RFC 6455 §7.1.2). Returns false when a close frame was
   * already sent. Invalid code or reason throws (`RangeError`/`TypeError`) before anything is sent.
   */
  close(code?: number, reason?: string): boolean {
    const payload = encodeClosePayload(code, reason);
    if (this.#close.sent !== undefined) return false;
    this.#close.sent = { code: code ?? CloseCode.NoStatusReceived, reason: reason ?? '' };
    this.#output.push({ opcode: Opcode.Close, payload });
    this.#state = ReadyState.Closing;
    return true;
  }

  #assertCanSendData(): void {
    // Data may still go before our close frame while it waits in the output: a connection
    // holds a failure's close back until the application has answered the messages before it.
    if (this.#close.sent !== undefined && !this.#closeInOutput) {
      throw new InvalidStateError('Cannot send data after the close frame was sent');
    }
  }
}

/** Cuts `text` to at most `max` UTF-8 bytes without splitting a character. */
export function truncateUtf8(text: string, max: number): string {
  const bytes = encoder.encode(text);
  if (bytes.length <= max) return text;
  let end = max;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
  return new TextDecoder().decode(bytes.subarray(0, end));
}
