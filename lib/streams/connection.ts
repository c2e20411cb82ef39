import { CloseCode, Opcode } from '../codec/constants';
import { Utf8Validator } from '../codec/utf8-validator';
import { ProtocolViolation } from '../codec/violation';
import type { Extension, PayloadTransform } from '../protocol/extension';
import type { ProtocolEvent } from '../protocol/events';
import { resolveSharedOptions, type ResolvedOptions } from '../protocol/options';
import { InvalidStateError, Protocol } from '../protocol/protocol';
import { ReadyState } from '../protocol/state';
import type { ByteTransport, TransportSink } from './byte-transport';
import type { ConnectionInit, HandshakeInfo } from './connection-init';
import { DecodedBacklog, type BacklogEntry } from './decoded-backlog';
import { connectionLost, WebSocketError, type CloseInfo } from './errors';
import { ConnectionPipe, type WritableOutcome } from './connection-pipe';
import { forwardMessage } from './forward-message';
import { Forwarding, type ForwardHost } from './forwarding';
import { IncomingMessage } from './incoming-message';
import type { MessageHost } from './message-host';
import { MessageWriter, type SendHost } from './message-writer';
import {
  blobChunks, encodeText, isBlob, isReadableStream, toBytes,
  type BinaryData, type OutgoingData, type OutgoingMessage, type SendOptions,
} from './outgoing';
import { ReadableStream, WritableStream } from './stream-classes';

const EMPTY = new Uint8Array(0);
/** The backlog of every connection that has not decoded ahead yet (never pushed to). */
const NO_BACKLOG = new DecodedBacklog();
const resolved = Promise.resolve();
/** The empty waiter list every connection starts with; replaced by its own array on the first wait. */
const NONE_WAITING: never[] = Object.freeze([]) as never[];

/** Which connection owns a `writable`: lets `readable.pipeTo()` between connections skip stream plumbing. */
const writableOwners = new WeakMap<WritableStream<OutgoingMessage>, Connection>();

/**
 * One WebSocket connection after its opening handshake, as WHATWG streams: `readable` gives
 * each incoming message (itself a stream of frames, each a stream of bytes), `writable`
 * sends what is written to it as messages. Backpressure runs end to end: nobody reading
 * means the transport is not read; a slow peer means `send()` waits.
 *
 * @example
 * ```ts
 * import { serve } from 'websocket-streams/node';
 * await serve({ port: 8080 }, (conn) => conn.readable.pipeTo(conn.writable)); // echo server
 * ```
 */
export class Connection implements AsyncIterable<IncomingMessage> {
  readonly role: 'client' | 'server';
  /** Called for every ping received (after the automatic pong, if enabled). */
  onPing: ((data: Uint8Array) => void) | undefined;
  /** Called for every pong received. */
  onPong: ((data: Uint8Array) => void) | undefined;
  /** Called for reserved control opcodes the user or an extension allowed. */
  onControlFrame: ((opcode: number, rsv: number, data: Uint8Array) => void) | undefined;

  /** The handshake, or what builds it on first use (a server keeps its request compact until asked). */
  #handshake: HandshakeInfo | (() => HandshakeInfo);
  readonly #transport: ByteTransport;
  readonly #protocol: Protocol;
  readonly #opts: ResolvedOptions;
  readonly #extensions: readonly Extension[];
  // Made on first use (a message, a send, a decoder, `closed`): an idle connection has none.
  #host: MessageHost | undefined;
  #sendHostMade: SendHost | undefined;
  #emitDecodedFn: ((chunk: Uint8Array) => void | Promise<void>) | undefined;
  #closed: Promise<CloseInfo> | undefined;
  #resolveClosed: ((info: CloseInfo) => void) | undefined;
  #closeResult: CloseInfo | undefined;
  /** A set this connection leaves once it is over (the server's open connections). */
  #trackedIn: Set<Connection> | undefined;

  // ---- receive side ----
  #current: IncomingMessage | undefined;
  #currentDelivered = false;
  #currentDecoder: PayloadTransform | undefined;
  #currentUtf8: Utf8Validator | undefined;
  #messageWaiter: { resolve(m: IncomingMessage | undefined): void } | undefined;
  #pumping = false;
  #pumpAgain = false;
  /** A decoder waits for the backlog to go below its bound. */
  #decodeDemand: (() => void) | undefined;
  /**
   * Decoded events of the current message its consumer has not taken yet. Made on first use:
   * a connection that never decodes ahead (no compression) pays nothing for it.
   */
  #backlog = NO_BACKLOG;
  /** A frame-start was routed and its frame-end not yet: the next events are its data and end. */
  #inFrame = false;
  /** An asynchronous decoder step is running: events wait for it, in order. */
  #blocked = false;
  #paused = false;
  #inputEnded = false;
  /** The last pull found no complete event in the received bytes. */
  #starved = false;
  #finalized = false;
  #readable: ReadableStream<IncomingMessage> | undefined;
  #writable: WritableStream<OutgoingMessage> | undefined;
  /** The readable while a pipe out of it holds it weakly (see ConnectionPipe). */
  #readableRef: WeakRef<ReadableStream<IncomingMessage>> | undefined;
  #writableRef: WeakRef<WritableStream<OutgoingMessage>> | undefined;
  /** One of the stream's algorithms ran: a pipe may not let it go. */
  #readableUsed = false;
  #writableUsed = false;
  /** How a pipe left a writable that was collected, for the one rebuilt in its place. */
  #writableOutcome: WritableOutcome | undefined;
  /** The pipe out of `readable`, and the one into `writable`, while they run. */
  #outPipe: ConnectionPipe | undefined;
  #inPipe: ConnectionPipe | undefined;

  // ---- send side ----
  #writer: MessageWriter | undefined;
  #writerQueue: Array<() => void> = NONE_WAITING;
  #frameOpen = false;
  /** The half-written frame is a MessageWriter's, which can send no more of it after a close. */
  #writerFrameOpen = false;
  #drainWaiters: Array<{ resolve(): void; reject(e: unknown): void }> = NONE_WAITING;
  /** What a `Forwarding` needs of this connection; made on the first forwarded message. */
  #forwardHost: ForwardHost | undefined;

  // ---- closing and liveness ----
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  #pingTimer: ReturnType<typeof setTimeout> | undefined;
  #lastInbound = 0;
  #awaitingPong = false;
  #transportError: Error | undefined;
  #transportClosed = false;
  #endSent = false;

  /** Wraps a transport whose opening handshake is done. Adapters call this; users get connections from them. */
  constructor(transport: ByteTransport, init: ConnectionInit) {
    this.role = init.role;
    this.#handshake = init.handshake;
    this.#transport = transport;
    this.#opts = resolveSharedOptions(init.options);
    this.#extensions = init.activeExtensions ?? [];
    this.#protocol = new Protocol({
      role: init.role,
      extensions: this.#extensions,
      maxFrameSize: this.#opts.maxFrameSize,
      maxMessageSize: this.#opts.maxMessageSize,
      maxFragments: this.#opts.maxFragments,
      autoPong: this.#opts.autoPong,
      allowReservedBits: this.#opts.allowReservedBits,
      allowReservedOpcodes: this.#opts.allowReservedOpcodes,
      maskKeySource: this.#opts.maskKeySource,
    });
    this.#lastInbound = Date.now();
    transport.attach(new ConnectionSink(this));
    if (init.head && init.head.length > 0) this.#onData(init.head);
    this.#armHeartbeat();
  }

  /** What the opening handshake settled: subprotocol, extensions, headers, addresses. */
  get handshake(): HandshakeInfo {
    const h = this.#handshake;
    if (typeof h !== 'function') return h;
    return (this.#handshake = h());
  }

  /** Resolves once the connection is over, with how it ended. Never rejects. */
  get closed(): Promise<CloseInfo> {
    if (this.#closed !== undefined) return this.#closed;
    const done = this.#closeResult;
    this.#closed = done !== undefined ? Promise.resolve(done) : new Promise((resolve) => (this.#resolveClosed = resolve));
    return this.#closed;
  }

  /** @internal Adds this connection to `set`, which it leaves once it is over (in the microtask `closed` would settle in). */
  _trackIn(set: Set<Connection>): void {
    set.add(this);
    if (this.#closeResult !== undefined) void resolved.then(() => set.delete(this));
    else this.#trackedIn = set;
  }

  /** @internal The transport's reports (see ConnectionSink). */
  _transportData(chunk: Uint8Array): void {
    this.#onData(chunk);
  }
  /** @internal */
  _transportEnd(): void {
    this.#onEnd();
  }
  /** @internal */
  _transportError(err: Error): void {
    this.#transportError ??= err;
  }
  /** @internal */
  _transportDrain(): void {
    this.#onDrain();
  }
  /** @internal */
  _transportClose(): void {
    this.#onTransportClose();
  }

  /** Negotiated subprotocol, `''` when none. */
  get protocol(): string {
    return this.handshake.protocol;
  }
  /** Negotiated extensions as the response header listed them, `''` when none. */
  get extensions(): string {
    return this.handshake.extensions;
  }
  /** 1 open, 2 closing, 3 closed (as `WebSocket.readyState`, minus CONNECTING). */
  get readyState(): ReadyState {
    return this.#finalized ? ReadyState.Closed : this.#protocol.state;
  }
  /** Bytes queued for sending and not yet handed to the operating system. */
  get bufferedAmount(): number {
    return this.#transport.bufferedAmount;
  }

  // =====================================================================================
  // Receiving
  // =====================================================================================

  /** Incoming messages, one after another. Cancelling it closes the connection (1000). */
  get readable(): ReadableStream<IncomingMessage> {
    if (this.#readable) return this.#readable;
    const held = this.#readableRef?.deref();
    if (held !== undefined) return held;
    const rs = this.#makeReadable();
    const pipe = this.#outPipe;
    if (pipe !== undefined) {
      // The stream a running pipe locked was collected: this one is locked the same way.
      pipe.adoptReader(rs.getReader());
      this.#readableRef = new WeakRef(rs);
    } else {
      this.#readableRef = undefined;
      this.#readable = rs;
    }
    return rs;
  }

  #makeReadable(): ReadableStream<IncomingMessage> {
    const rs = new ReadableStream<IncomingMessage>(
      {
        pull: (c) => {
          this.#pinReadable();
          return this.nextMessage().then((m) => {
            if (m) c.enqueue(m);
            else c.close();
          });
        },
        cancel: () => {
          this.#pinReadable();
          void this.close(CloseCode.Normal).catch(() => undefined);
        },
      },
      { highWaterMark: 0 },
    );
    // Piping into another connection's writable (an echo server, a proxy) is the hot path:
    // move messages connection to connection without a stream read and write per message.
    // The streams are locked exactly as the standard pipeTo locks them, and the options and
    // the outcome (close, cancel, rejection) follow its rules.
    const standardPipeTo = rs.pipeTo.bind(rs);
    Object.defineProperty(rs, 'pipeTo', {
      value: (dest: WritableStream<IncomingMessage>, options: StreamPipeOptions = {}): Promise<void> => {
        const target = writableOwners.get(dest as WritableStream<OutgoingMessage>);
        if (target === undefined || options.signal !== undefined || rs.locked || dest.locked) return standardPipeTo(dest, options);
        return this.#pipeToConnection(rs, dest as WritableStream<OutgoingMessage>, target, options);
      },
    });
    return rs;
  }

  /**
   * One of the readable's algorithms ran: it has a state of its own from now on, so the
   * connection keeps it (a rebuilt one would differ).
   */
  #pinReadable(): void {
    this.#readableUsed = true;
    if (this.#readableRef === undefined) return;
    this.#readable = this.#readableRef.deref();
    this.#readableRef = undefined;
  }

  #pinWritable(): void {
    this.#writableUsed = true;
    if (this.#writableRef === undefined) return;
    this.#writable = this.#writableRef.deref();
    this.#writableRef = undefined;
  }

  #pipeToConnection(rs: ReadableStream<IncomingMessage>, dest: WritableStream<OutgoingMessage>, target: Connection, options: StreamPipeOptions): Promise<void> {
    const pipe = new ConnectionPipe(this, target, rs.getReader(), dest.getWriter(), options);
    this.#outPipe = pipe;
    target.#inPipe = pipe;
    // Locked and never used, neither stream can change until the pipe ends: the pipe and the
    // connections hold them weakly (see ConnectionPipe), the user may hold them strongly.
    if (!this.#readableUsed && this.#readable === rs) {
      this.#readableRef = new WeakRef(rs);
      this.#readable = undefined;
    }
    if (!target.#writableUsed && target.#writable === dest) {
      target.#writableRef = new WeakRef(dest);
      target.#writable = undefined;
    }
    pipe.start();
    return pipe.promise;
  }

  /** @internal The pipe out of this connection's readable ended: a stream still alive is kept again. */
  _outPipeEnded(): void {
    this.#outPipe = undefined;
    if (this.#readableRef === undefined) return;
    this.#readable = this.#readableRef.deref();
    this.#readableRef = undefined;
  }

  /**
   * @internal The pipe into this connection's writable ended. A writable still alive is kept
   * again; a collected one is rebuilt in the state `outcome` says when it is asked for.
   */
  _inPipeEnded(outcome: WritableOutcome | undefined): void {
    this.#inPipe = undefined;
    if (this.#writableRef === undefined) return;
    this.#writable = this.#writableRef.deref();
    this.#writableRef = undefined;
    if (this.#writable === undefined) this.#writableOutcome = outcome;
  }

  /**
   * @internal `nextMessage()` for a pipe: the next message, or `undefined` at the end, when
   * known at once; otherwise `null`, and `waiter` is called (from the pump) when it is known.
   */
  _pollMessage(waiter: { resolve(m: IncomingMessage | undefined): void }): IncomingMessage | undefined | null {
    const prev = this.#current;
    // Discarding pumps at once, which may already bring the next message in.
    if (prev !== undefined && this.#currentDelivered && !prev._done) prev._discard();
    const cur = this.#current;
    if (cur !== undefined && !this.#currentDelivered) {
      this.#currentDelivered = true;
      return cur;
    }
    if (this.#finalized) return undefined;
    this.#messageWaiter = waiter;
    this.#pump();
    return null;
  }

  /**
   * The next message, or `undefined` once no more will come. Discards what was left unread
   * of the previous message. A faster, stream-free way to do what `readable` does.
   */
  nextMessage(): Promise<IncomingMessage | undefined> {
    if (this.#messageWaiter) return Promise.reject(new TypeError('nextMessage() is already waiting for a message'));
    const prev = this.#current;
    // Discarding pumps at once, which may already bring the next message in.
    if (prev !== undefined && this.#currentDelivered && !prev._done) prev._discard();
    const cur = this.#current;
    if (cur !== undefined && !this.#currentDelivered) {
      this.#currentDelivered = true;
      return Promise.resolve(cur);
    }
    if (this.#finalized) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.#messageWaiter = { resolve };
      this.#pump();
    });
  }

  async *[Symbol.asyncIterator](): AsyncIterator<IncomingMessage> {
    for (let m = await this.nextMessage(); m; m = await this.nextMessage()) yield m;
  }

  #onData(chunk: Uint8Array): void {
    // Only the heartbeat reads it: a clock read per chunk is saved when it is off (the default).
    if (this.#opts.autoPingInterval > 0) this.#lastInbound = Date.now();
    this.#awaitingPong = false;
    this.#protocol.receive(chunk);
    this.#pump();
  }

  #onEnd(): void {
    this.#inputEnded = true;
    this.#pump();
  }

  /** Whether routing the next protocol event is wanted now (the consumer's demand). */
  #hasDemand(): boolean {
    const m = this.#current;
    if (m === undefined || m._done) return true;
    if (!this.#currentDelivered) return false;
    return m._wantsData();
  }

  /**
   * Feeds protocol events to consumers while they want them. Coalesced and never
   * re-entrant, in the manner of the streams standard's CallPullIfNeeded: a demand that
   * arrives while pumping makes the loop go round once more.
   */
  #pump(): void {
    if (this.#pumping) {
      this.#pumpAgain = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#pumpAgain = false;
        while (!this.#finalized) {
          const demand = this.#hasDemand();
          if (!this.#backlog.isEmpty) {
            // Decoded events go first, and only as the consumer asks, as they would have come.
            if (demand) {
              this.#takeBacklog();
              continue;
            }
            if (!this.#mayDecodeAhead()) break;
          } else if (!demand && !this.#mayDecodeAhead()) {
            break;
          }
          if (this.#blocked) break;
          // A message being collected whole takes its payload masked and unmasks it on its
          // way into the message buffer: one pass over the bytes fewer.
          const m = this.#current;
          const ev = this.#protocol.nextEvent(m !== undefined && this.#currentDecoder === undefined && m._collecting());
          if (ev === undefined) {
            this.#starved = true;
            break;
          }
          this.#starved = false;
          this.#route(ev);
        }
      } while (this.#pumpAgain && !this.#blocked);
      this.#flushControl();
      this.#afterPump();
    } finally {
      this.#pumping = false;
    }
  }

  #afterPump(): void {
    if (this.#finalized) return;
    const buffered = this.#protocol.bufferedAmount;
    // Pause at the mark, resume only once half of it has been consumed: resuming as soon as
    // one chunk is taken flipped the socket between paused and flowing on every chunk of a
    // large message (each flip a readStop/readStart, and a TCP window that never opens wide).
    if (buffered >= this.#opts.receiveHighWaterMark) {
      if (!this.#paused) {
        this.#paused = true;
        this.#transport.pause();
      }
    } else if (this.#paused && buffered <= this.#opts.receiveHighWaterMark / 2) {
      this.#paused = false;
      this.#transport.resume();
    }
    // Input is over and nothing parseable is left: nothing more can arrive.
    if ((this.#inputEnded || this.#transportClosed) && this.#starved && !this.#blocked && this.#backlog.isEmpty) {
      this.#endOfInput();
    }
    if (this.#messageWaiter && this.#protocol.state !== ReadyState.Open && this.#current === undefined) {
      // Closing: no further message can start.
      const w = this.#messageWaiter;
      this.#messageWaiter = undefined;
      w.resolve(undefined);
    }
  }

  #route(ev: ProtocolEvent): void {
    switch (ev.type) {
      case 'frame-start': {
        if (ev.first) {
          const ext = ev.encoded ? this.#extensions.find((e) => (e.rsvBits & ev.messageRsv) !== 0) : undefined;
          this.#currentDecoder = ext?.createDecoder(ev.messageRsv, Math.min(this.#opts.maxMessageSize, Number.MAX_SAFE_INTEGER));
          this.#currentUtf8 = ev.encoded && ev.messageOpcode === Opcode.Text ? new Utf8Validator() : undefined;
          const msg = new IncomingMessage(ev.header, ev.messageOpcode, ev.encoded, this.#host ??= this.#makeHost());
          this.#current = msg;
          this.#currentDelivered = false;
          const w = this.#messageWaiter;
          if (w) {
            this.#messageWaiter = undefined;
            this.#currentDelivered = true;
            w.resolve(msg);
          }
        }
        this.#inFrame = true;
        this.#current!._frameStart(ev.header);
        return;
      }
      case 'frame-data': {
        const d = this.#currentDecoder;
        if (ev.maskKey !== undefined) this.#current!._maskedData(ev.data, ev.maskKey, ev.maskPhase!);
        else if (d === undefined) this.#current!._data(ev.data);
        else this.#runDecoder(d.transform(ev.data, this.#emitDecoded()));
        return;
      }
      case 'frame-end': {
        this.#inFrame = false;
        const d = this.#currentDecoder;
        if (d === undefined) this.#endFrame(ev.fin);
        else this.#runDecoder(d.flush(ev.fin, this.#emitDecoded()), () => this.#decodedEnd(ev.fin));
        return;
      }
      case 'ping':
        this.#flushControl();
        this.onPing?.(ev.data);
        return;
      case 'pong':
        this.onPong?.(ev.data);
        return;
      case 'control':
        this.onControlFrame?.(ev.opcode, ev.rsv, ev.data);
        return;
      case 'close':
        this.#onPeerClose(ev.code, ev.reason);
        return;
      case 'failed':
        this.#onFailed(ev.violation);
        return;
    }
  }

  #endFrame(fin: boolean): void {
    if (fin && this.#currentUtf8 && !this.#currentUtf8.end()) {
      this.#onFailed(this.#protocol.fail(new ProtocolViolation(CloseCode.InvalidPayload, 'INVALID_UTF8',
        'Text message ends inside a UTF-8 sequence')).type === 'failed' ? this.#protocol.failure! : this.#protocol.failure!);
      return;
    }
    const m = this.#current!;
    m._frameEnd(fin);
    if (fin) {
      this.#currentDecoder = undefined;
      this.#currentUtf8 = undefined;
      if (this.#currentDelivered) this.#current = undefined;
    }
  }

  #makeHost(): MessageHost {
    return {
      demand: () => {
        this.#resumeDecoder();
        this.#pump();
      },
    };
  }

  #emitDecoded(): (chunk: Uint8Array) => void | Promise<void> {
    return (this.#emitDecodedFn ??= (chunk) => this.#emitDecodedChunk(chunk));
  }

  #emitDecodedChunk(chunk: Uint8Array): void | Promise<void> {
    const m = this.#current;
    if (m === undefined) return undefined;
    if (this.#backlog.isEmpty && this.#currentDelivered && (m._done || m._wantsData())) {
      this.#deliverDecoded(m, chunk);
      return undefined;
    }
    // The consumer is not taking data now (busy, or not yet given the message): keep it, in
    // order, up to a bound. One compressed chunk can inflate to megabytes: beyond the bound
    // the decoder stops producing until the consumer takes some, as the wire does when
    // nobody reads.
    this.#keep({ kind: 'data', chunk });
    if (!this.#backlog.full) return undefined;
    return new Promise<void>((resolve) => {
      this.#decodeDemand = resolve;
    });
  }

  #deliverDecoded(m: IncomingMessage, chunk: Uint8Array): void {
    const utf8 = this.#currentUtf8;
    if (utf8 !== undefined && utf8.push(chunk) !== -1) {
      throw new ProtocolViolation(CloseCode.InvalidPayload, 'INVALID_UTF8', 'Text message is not valid UTF-8');
    }
    m._data(chunk);
  }

  /** A decoder's frame ended: behind what the backlog holds, if anything. */
  #decodedEnd(fin: boolean): void {
    const m = this.#current;
    if ((this.#backlog.isEmpty && this.#currentDelivered) || m === undefined || m._done) this.#endFrame(fin);
    else this.#keep({ kind: 'end', fin });
  }

  #keep(entry: BacklogEntry): void {
    if (this.#backlog === NO_BACKLOG) this.#backlog = new DecodedBacklog();
    this.#backlog.push(entry);
  }

  /**
   * Whether the next event may be decoded before the consumer asks for it: only the data and
   * end of the frame being received (no control frame or next frame is acted on early), of a
   * message an extension decodes, while the backlog has room.
   */
  #mayDecodeAhead(): boolean {
    const m = this.#current;
    return this.#inFrame && this.#currentDecoder !== undefined && m !== undefined && !m._done &&
      !this.#backlog.full && !this.#backlog.failed;
  }

  /** Hands the consumer the oldest backlog entry (it asked for data). */
  #takeBacklog(): void {
    const e = this.#backlog.shift();
    if (e.kind === 'data') {
      const m = this.#current!;
      try {
        this.#deliverDecoded(m, e.chunk);
      } catch (err) {
        this.#decoderFailed(err);
      }
    } else if (e.kind === 'end') {
      this.#endFrame(e.fin);
    } else {
      this.#decoderFailed(e.err);
    }
    this.#resumeDecoder();
  }

  /** The backlog has room again: let a paused decoder go on. */
  #resumeDecoder(): void {
    const r = this.#decodeDemand;
    if (r === undefined || this.#backlog.full) return;
    this.#decodeDemand = undefined;
    r();
  }

  /** Runs a decoder step; events after it wait until it settles, so order is kept. */
  #runDecoder(step: void | Promise<void>, then?: () => void): void {
    if (step === undefined) {
      then?.();
      return;
    }
    this.#blocked = true;
    step.then(
      () => {
        this.#blocked = false;
        if (!this.#finalized) then?.();
        this.#pump();
      },
      (err: unknown) => {
        this.#blocked = false;
        // Decoded ahead of its consumer, a failure comes after what was decoded before it (a
        // message already failed or dropped fails the connection at once, as before).
        const m = this.#current;
        if ((!this.#backlog.isEmpty || !this.#currentDelivered) && m !== undefined && !m._done) this.#keep({ kind: 'failed', err });
        else this.#decoderFailed(err);
        this.#pump();
      },
    );
  }

  #decoderFailed(err: unknown): void {
    const v = err instanceof ProtocolViolation
      ? err
      : new ProtocolViolation(CloseCode.InvalidPayload, 'EXTENSION_ERROR', `Could not decode message: ${(err as Error)?.message ?? String(err)}`);
    this.#onFailed(this.#protocol.fail(v).type === 'failed' ? v : v);
  }

  #onPeerClose(code: number, reason: string): void {
    const m = this.#current;
    if (m && !m._done) {
      m._error(new WebSocketError(`The peer closed the connection (${code}) before the message ended`, code, reason, 'CLOSED'));
    }
    this.#dropCurrent();
    this.#flushControl();
    this.#onCloseHandshakeProgress();
  }

  #onFailed(v: ProtocolViolation): void {
    const err = new WebSocketError(v.message, v.closeCode, v.message, v.kind, { cause: v });
    const m = this.#current;
    if (m && !m._done) m._error(err);
    this.#dropCurrent();
    this.#flushControl();
    // RFC 6455 §7.1.7: having sent the close frame, the endpoint that fails the connection
    // does not wait for the peer's; a server closes TCP now, a client waits briefly for
    // the server to (§7.1.1), then drops it.
    this.#startCloseTimer();
    if (this.role === 'server') this.#endTransport();
  }

  #dropCurrent(): void {
    this.#currentDecoder?.dispose();
    this.#backlog.clear();
    this.#inFrame = false;
    this.#decodeDemand = undefined;
    this.#currentDecoder = undefined;
    this.#currentUtf8 = undefined;
    if (this.#current && this.#current._done) this.#current = undefined;
  }

  #endOfInput(): void {
    // The transport will give nothing more. A message still open cannot complete.
    if (this.#finalized) return;
    const m = this.#current;
    if (m && !m._done) m._error(this.#lostError());
    if (this.#protocol.closeReceived !== undefined && this.#protocol.closeSent !== undefined) {
      // Clean: reply to the peer's TCP close with ours (RFC 6455 §7.1.1 client side).
      this.#endTransport();
    } else if (!this.#transportClosed) {
      this.#transport.destroy();
    }
    if (this.#transportClosed) this.#finalize();
  }

  #lostError(): WebSocketError {
    const f = this.#protocol.failure;
    if (f) return new WebSocketError(f.message, f.closeCode, f.message, f.kind, { cause: f });
    return connectionLost(this.#transportError);
  }

  #onTransportClose(): void {
    this.#transportClosed = true;
    this.#inputEnded = true;
    this.#protocol.receiveEnd();
    this.#finalize();
  }

  #finalize(): void {
    if (this.#finalized) return;
    this.#finalized = true;
    this.#clearTimers();
    const m = this.#current;
    if (m && !m._done) m._error(this.#lostError());
    this.#currentDecoder?.dispose();
    this.#backlog.clear();
    this.#current = undefined;
    for (const ext of this.#extensions) ext.close();
    const w = this.#messageWaiter;
    this.#messageWaiter = undefined;
    w?.resolve(undefined);
    const lost = this.#lostError();
    const drainWaiters = this.#drainWaiters;
    this.#drainWaiters = NONE_WAITING;
    for (const d of drainWaiters) d.reject(lost);
    this.#writer?._abort(lost);
    this.#writer = undefined;
    const writerQueue = this.#writerQueue;
    this.#writerQueue = NONE_WAITING;
    for (const next of writerQueue) next();
    const info = this.#closeInfo();
    this.#closeResult = info;
    const set = this.#trackedIn;
    this.#trackedIn = undefined;
    // Queued before `closed`'s reactions, as the `closed.then()` this replaces was registered first.
    if (set !== undefined) void resolved.then(() => set.delete(this));
    this.#resolveClosed?.(info);
    this.#resolveClosed = undefined;
  }

  #closeInfo(): CloseInfo {
    const p = this.#protocol;
    const failure = p.failure;
    if (failure) return { wasClean: false, code: failure.closeCode, reason: failure.message };
    const received = p.closeReceived;
    const sent = p.closeSent;
    if (received && sent) return { wasClean: this.#transportError === undefined, code: received.code, reason: received.reason };
    return { wasClean: false, code: CloseCode.AbnormalClosure, reason: '' };
  }

  // =====================================================================================
  // Sending
  // =====================================================================================

  /** Messages written here are sent in order. Closing it starts the close handshake (1000). */
  get writable(): WritableStream<OutgoingMessage> {
    if (this.#writable) return this.#writable;
    const held = this.#writableRef?.deref();
    if (held !== undefined) return held;
    const outcome = this.#writableOutcome;
    const ws = outcome === undefined ? this.#makeWritable() : rebuiltWritable(outcome);
    writableOwners.set(ws, this);
    const pipe = this.#inPipe;
    if (pipe !== undefined) {
      // The stream a running pipe locked was collected: this one is locked the same way.
      pipe.adoptWriter(ws.getWriter());
      this.#writableRef = new WeakRef(ws);
    } else {
      this.#writableRef = undefined;
      this.#writable = ws;
    }
    return ws;
  }

  #makeWritable(): WritableStream<OutgoingMessage> {
    return new WritableStream<OutgoingMessage>(
      {
        write: (msg) => {
          this.#pinWritable();
          return this.#sendFromWritable(msg);
        },
        close: () => {
          this.#pinWritable();
          this._writableClosed();
        },
        abort: () => {
          this.#pinWritable();
          this._writableAborted();
        },
      },
      { highWaterMark: 1 },
    );
  }

  /** @internal What closing `writable` does to the connection. */
  _writableClosed(): void {
    void this.close(CloseCode.Normal).catch(() => undefined);
  }

  /** @internal What aborting `writable` does to the connection. */
  _writableAborted(): void {
    void this.close(CloseCode.InternalError, 'Sender aborted').catch(() => undefined);
  }

  /**
   * What `#sendFromWritable(msg)` does for a piped message, without a promise when the message
   * can be forwarded as it is (no compression either way, no other message being sent) and
   * was forwarded whole at once; otherwise the promise to wait for.
   * @internal
   */
  _sendPiped(msg: IncomingMessage): Promise<void> | undefined {
    if (msg.compressed || this.#extensions.length > 0 || this.#writer !== undefined || this.#writerQueue.length > 0 ||
        msg.opcode !== (msg.type === 'text' ? Opcode.Text : Opcode.Binary)) {
      return this.#sendFromWritable(msg);
    }
    const w = this.#newWriter(msg.opcode, undefined, false);
    let forwarding: Promise<void> | undefined;
    try {
      forwarding = this.#forward(msg);
    } catch (err) {
      return this.#pipedFailed(w, err);
    }
    if (forwarding === undefined) {
      w._complete();
      return undefined;
    }
    return forwarding.then(
      () => w._complete(),
      (err: unknown) => this.#pipedFailed(w, err),
    );
  }

  /** As `#withWriter` and `#sendFromWritable` handle a failed message, for `_sendPiped`. */
  #pipedFailed(w: MessageWriter, err: unknown): Promise<void> {
    this.#abandonWriter(w, err);
    return this.#isOwnFailure(err) ? resolved : Promise.reject(err);
  }

  async #sendFromWritable(msg: OutgoingMessage): Promise<void> {
    try {
      await this.send(msg);
    } catch (err) {
      if (!this.#isOwnFailure(err)) throw err;
    }
  }

  /**
   * A message piped from this very connection failed because the connection did: its fate is
   * reported by `closed`, and a rejected pipe would only be an unhandled error.
   */
  #isOwnFailure(err: unknown): boolean {
    return this.#protocol.state !== ReadyState.Open && err instanceof WebSocketError;
  }

  /**
   * Sends one message. Resolves when the transport has taken its bytes below the
   * high-water mark; waits its turn behind a message being sent through `beginMessage()`.
   *
   * @example
   * ```ts
   * await conn.send('hello');                        // text
   * await conn.send(new Uint8Array([1, 2, 3]));      // binary
   * await conn.send(file.stream());                  // streamed, frame per chunk
   * ```
   */
  send(message: OutgoingMessage, options: SendOptions = {}): Promise<void> {
    let data: OutgoingData;
    let type: 'text' | 'binary';
    if (isTyped(message)) {
      data = message.data;
      type = message.type;
    } else {
      data = message as OutgoingData;
      type = typeof data === 'string' ? 'text' : data instanceof IncomingMessage ? data.type : 'binary';
    }
    if (options.binary !== undefined) type = options.binary ? 'binary' : 'text';
    const fragmentSize = options.fragmentSize;
    if (fragmentSize !== undefined && (!Number.isSafeInteger(fragmentSize) || fragmentSize < 1)) {
      throw new RangeError(`fragmentSize must be a positive integer, got ${fragmentSize}`);
    }
    const opcode = type === 'text' ? Opcode.Text : Opcode.Binary;
    if (typeof data === 'string' || (!isBlob(data) && !isReadableStream(data) && !(data instanceof IncomingMessage))) {
      const bytes = typeof data === 'string' ? encodeText(data) : toBytes(data as BinaryData);
      if (fragmentSize === undefined && this.#maySendNow(options.compress !== false)) return this.#sendNow(opcode, bytes);
      return this.#withWriter(opcode, bytes.length, options, async (w) => {
        const size = fragmentSize ?? Math.max(bytes.length, 1);
        for (let at = 0; at < bytes.length || at === 0; at += size) {
          const end = Math.min(bytes.length, at + size);
          await w.sendFrame(bytes.subarray(at, end), { fin: end >= bytes.length });
          if (end >= bytes.length) break;
        }
      });
    }
    if (data instanceof IncomingMessage) {
      const msg = data;
      if (!msg.compressed && (this.#extensions.length === 0 || options.compress === false) && msg.opcode === opcode) {
        return this.#withWriter(opcode, undefined, options, async (w) => {
          await this.#forward(msg);
          w._complete();
        });
      }
      return this.#withWriter(opcode, undefined, options, (w) => forwardMessage(msg, w));
    }
    const source = isBlob(data) ? blobChunks(data) : iterateStream(data as ReadableStream<Uint8Array>);
    return this.#withWriter(opcode, isBlob(data) ? data.size : undefined, options, async (w) => {
      for await (const chunk of source) {
        const bytes = toBytes(chunk as BinaryData);
        if (bytes.length > 0) await w.sendFrame(bytes);
      }
      await w.end();
    });
  }

  /**
   * @internal `send(bytes, { binary, compress })` in one frame, as the Autobahn tier's
   * `sendMessage` calls it for every message: the same path without the message and options
   * objects, nor the checks of what kind of data it is.
   */
  _sendBytes(opcode: number, bytes: Uint8Array, compress: boolean): Promise<void> {
    if (this.#maySendNow(compress)) return this.#sendNow(opcode, bytes);
    return this.send({ type: opcode === Opcode.Text ? 'text' : 'binary', data: bytes }, { compress });
  }

  /** Nothing in the way (no message being sent), and no extension to encode: a whole frame can be written now. */
  #maySendNow(compress: boolean): boolean {
    return this.#writer === undefined && this.#writerQueue.length === 0 && (this.#extensions.length === 0 || !compress);
  }

  #sendNow(opcode: number, bytes: Uint8Array): Promise<void> {
    try {
      this.#sendHost.assertCanSend();
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#sendHost.sendWholeFrame(opcode, bytes, true, 0) ?? resolved;
  }

  async #withWriter(opcode: number, sizeHint: number | undefined, options: SendOptions, body: (w: MessageWriter) => Promise<void>): Promise<void> {
    await this.#acquire();
    const w = this.#newWriter(opcode, sizeHint, options.compress !== false);
    try {
      await body(w);
      if (!w.ended) await w.end();
    } catch (err) {
      this.#abandonWriter(w, err);
      throw err;
    }
  }

  /**
   * A message's source failed. If the writer had not sent all of its message (not ended, or
   * still the current writer: a final frame begun with beginFrame() unfinished), the frames
   * already sent promised more: fail the connection rather than leave the peer waiting for a
   * message that never ends.
   */
  #abandonWriter(w: MessageWriter, err: unknown): void {
    if (w.ended && this.#writer !== w) return;
    w._abort(err);
    if (this.#protocol.closeSent === undefined) {
      this.#onFailed(this.#failLocally(CloseCode.InternalError, 'Message source failed'));
    }
    this.#release(w);
  }

  /**
   * Starts a message sent frame by frame (`sendFrame`) or in streamed frames (`beginFrame`).
   * Throws if another message is being sent through a writer that has not ended.
   * `opcode` (advanced) sends a reserved data opcode (0x3–0x7) an extension defines.
   */
  beginMessage(type: 'text' | 'binary' = 'binary', options: { compress?: boolean; opcode?: number } = {}): MessageWriter {
    const op = options.opcode;
    if (op !== undefined && (!Number.isInteger(op) || op < Opcode.Text || op > 0x7)) {
      throw new RangeError(`A message opcode is 0x1, 0x2 or a reserved data opcode 0x3–0x7, got ${op}`);
    }
    if (this.#writer !== undefined || this.#writerQueue.length > 0) {
      throw new TypeError('Cannot begin a message: the previous message has not ended (call end() on its writer first)');
    }
    this.#sendHost.assertCanSend();
    return this.#newWriter(options.opcode ?? (type === 'text' ? Opcode.Text : Opcode.Binary), undefined, options.compress !== false);
  }

  #newWriter(opcode: number, sizeHint: number | undefined, compress: boolean): MessageWriter {
    let encoder: { rsv: number; transform: PayloadTransform } | undefined;
    if (compress) {
      for (const ext of this.#extensions) {
        encoder = ext.createEncoder(opcode, sizeHint);
        if (encoder) break;
      }
    }
    const w = new MessageWriter(opcode, this.#sendHost, encoder);
    this.#writer = w;
    return w;
  }

  /**
   * Sends a received message frame for frame as its bytes arrive, with no stream objects:
   * each frame's header goes out with its first payload piece, pieces are passed on as views
   * (masked copies on a client), and reading waits while this transport is above its mark.
   */
  #forward(msg: IncomingMessage): Promise<void> | undefined {
    const f = new Forwarding(this.#forwardHost ??= this.#makeForwardHost(), msg);
    msg._forward(f);
    return f.outcome();
  }

  #makeForwardHost(): ForwardHost {
    return {
      beginFrame: (opcode, length, fin, rsv) => {
        const f = this.#protocol.beginDataFrame(opcode, length, fin, rsv);
        if (length !== 0) this.#frameOpen = true;
        return f;
      },
      write: (chunks) => this.#write(chunks),
      frameDone: () => {
        this.#frameOpen = false;
        this.#flushControl();
      },
      abandon: () => {
        if (!this.#frameOpen) return;
        // A header promised bytes that will never come, and nothing may go inside the frame, a
        // close frame neither: like a writer's frame, it stays open, and #flushControl ends TCP
        // once the close is owed (the peer sees 1006).
        this.#writerFrameOpen = true;
        if (this.#protocol.closeSent === undefined) this.#onFailed(this.#failLocally(CloseCode.InternalError, 'Forwarded message failed'));
        else this.#flushControl();
      },
    };
  }

  #acquire(): Promise<void> {
    if (this.#writer === undefined && this.#writerQueue.length === 0) return resolved;
    if (this.#writerQueue === NONE_WAITING) this.#writerQueue = [];
    return new Promise((resolve) => this.#writerQueue.push(resolve));
  }

  #release(w: MessageWriter): void {
    if (this.#writer !== w) return;
    this.#writer = undefined;
    const next = this.#writerQueue.length > 0 ? this.#writerQueue.shift() : undefined;
    next?.();
  }

  #failLocally(code: number, reason: string): ProtocolViolation {
    const v = new ProtocolViolation(code as CloseCode, 'EXTENSION_ERROR', reason);
    this.#protocol.fail(v);
    return v;
  }

  get #sendHost(): SendHost {
    return (this.#sendHostMade ??= this.#makeSendHost());
  }

  #makeSendHost(): SendHost {
    return {
      sendWholeFrame: (opcode, payload, fin, rsv) => this.#write(this.#protocol.encodeDataFrame(opcode, payload, fin, rsv)),
      openFrame: (opcode, length, fin, rsv) => {
        const { header, mask } = this.#protocol.beginDataFrame(opcode, length, fin, rsv);
        this.#frameOpen = this.#writerFrameOpen = true;
        this.#transport.write([header]);
        return mask;
      },
      writePiece: (bytes) => this.#write([bytes]),
      closeFrame: () => {
        this.#frameOpen = this.#writerFrameOpen = false;
        this.#flushControl();
      },
      release: (w) => this.#release(w),
      assertCanSend: () => {
        if (this.#finalized) throw new InvalidStateError('Cannot send: the connection is closed');
        if (this.#protocol.closeSent !== undefined) throw new InvalidStateError('Cannot send data after the close frame was sent');
      },
    };
  }

  /** Writes chunks; resolves at once unless the transport is above its high-water mark. */
  #write(chunks: readonly Uint8Array[]): Promise<void> | undefined {
    if (this.#finalized) return Promise.reject(this.#lostError());
    if (this.#transport.write(chunks)) return undefined;
    if (this.#drainWaiters === NONE_WAITING) this.#drainWaiters = [];
    return new Promise((resolve, reject) => this.#drainWaiters.push({ resolve, reject }));
  }

  #onDrain(): void {
    const drainWaiters = this.#drainWaiters;
    this.#drainWaiters = NONE_WAITING;
    for (const d of drainWaiters) d.resolve();
  }

  /** Sends control frames the protocol owes, unless a streamed frame is half written. */
  #flushControl(): void {
    if (this.#frameOpen) {
      // A close frame is owed while a writer's streamed frame is half written: its header
      // promised bytes that can no longer be sent (no data after a close), and a close frame
      // cannot go inside a frame (RFC 6455 §5.2, §5.4). Ending TCP is the only way out (the
      // peer sees 1006); waiting would only hold both sides for closeTimeout. This is how a
      // frame of 2^63 − 1 bytes ends. (A forwarded frame still completes, then the close goes.)
      if (this.#writerFrameOpen && this.#protocol.closeSent !== undefined && !this.#endSent) {
        this.#transportError ??= new Error('The close frame could not be sent: a frame begun with beginFrame() was unfinished');
        this.#endTransport();
      }
      return;
    }
    if (!this.#protocol.hasOutput || this.#transportClosed) return;
    this.#transport.write(this.#protocol.takeOutput());
    this.#onCloseHandshakeProgress();
  }

  /** Sends a ping (at most 125 bytes). */
  ping(data: BinaryData | string = EMPTY): void {
    this.#protocol.ping(typeof data === 'string' ? encodeText(data) : toBytes(data));
    this.#flushControl();
  }

  /**
   * Sends a control frame with a reserved opcode (0xB–0xF, at most 125 bytes), for an
   * extension that defines it; received ones go to `onControlFrame`. Advanced: a peer that
   * did not agree to the opcode fails the connection with 1002.
   */
  sendControlFrame(opcode: number, data: BinaryData | string = EMPTY): void {
    this.#protocol.sendReservedControl(opcode, typeof data === 'string' ? encodeText(data) : toBytes(data));
    this.#flushControl();
  }

  /** Sends an unsolicited pong (a one-way heartbeat, RFC 6455 §5.5.3). */
  pong(data: BinaryData | string = EMPTY): void {
    this.#protocol.pong(typeof data === 'string' ? encodeText(data) : toBytes(data));
    this.#flushControl();
  }

  /**
   * Starts the closing handshake and resolves when the connection is over. Without a code
   * the close frame is empty (the peer sees 1005). An invalid code (1004–1006, 1015, outside
   * 1000–4999) or a reason over 123 UTF-8 bytes throws at once.
   */
  close(code?: number, reason?: string): Promise<CloseInfo> {
    if (this.#finalized) return this.closed;
    if (this.#protocol.close(code, reason)) {
      this.#flushControl();
      this.#startCloseTimer();
    }
    return this.closed;
  }

  #onCloseHandshakeProgress(): void {
    const p = this.#protocol;
    if (p.closeSent === undefined || p.closeReceived === undefined || p.hasOutput) return;
    // Both close frames are exchanged. RFC 6455 §7.1.1: "the server SHOULD close the
    // underlying TCP connection first"; the client waits for it, within the close timeout.
    this.#startCloseTimer();
    if (this.role === 'server') this.#endTransport();
    else if (this.#inputEnded) this.#endTransport();
  }

  #endTransport(): void {
    if (this.#endSent || this.#transportClosed) return;
    this.#endSent = true;
    this.#transport.end();
  }

  #startCloseTimer(): void {
    if (this.#closeTimer !== undefined || this.#finalized) return;
    this.#closeTimer = setTimeout(() => {
      this.#closeTimer = undefined;
      if (!this.#transportClosed) this.#transport.destroy();
    }, this.#opts.closeTimeout);
  }

  // ---- heartbeat ----

  #armHeartbeat(): void {
    const interval = this.#opts.autoPingInterval;
    if (interval <= 0 || this.#finalized) return;
    this.#pingTimer = setTimeout(() => this.#heartbeat(), interval);
  }

  #heartbeat(): void {
    this.#pingTimer = undefined;
    if (this.#finalized) return;
    const now = Date.now();
    // Our own consumer holding the transport paused is not the peer's fault: a ping could
    // not overtake the unread data anyway, so liveness is not judged while paused.
    if (this.#paused) this.#lastInbound = now;
    const idle = now - this.#lastInbound;
    if (this.#awaitingPong && idle >= this.#opts.autoPingTimeout) {
      this.#transportError ??= new Error(`No traffic from the peer for ${idle} ms after a ping`);
      this.#transport.destroy(this.#transportError);
      return;
    }
    if (!this.#awaitingPong && idle >= this.#opts.autoPingInterval && this.#protocol.closeSent === undefined) {
      this.#awaitingPong = true;
      try {
        this.ping();
      } catch {
        /* closing: the close timer takes over */
      }
      this.#pingTimer = setTimeout(() => this.#heartbeat(), this.#opts.autoPingTimeout);
      return;
    }
    const wait = this.#awaitingPong ? this.#opts.autoPingTimeout - idle : this.#opts.autoPingInterval - idle;
    this.#pingTimer = setTimeout(() => this.#heartbeat(), Math.max(1, wait));
  }

  #clearTimers(): void {
    if (this.#closeTimer !== undefined) clearTimeout(this.#closeTimer);
    if (this.#pingTimer !== undefined) clearTimeout(this.#pingTimer);
    this.#closeTimer = this.#pingTimer = undefined;
  }
}

function isTyped(m: OutgoingMessage): m is { type: 'text' | 'binary'; data: OutgoingData } {
  return typeof m === 'object' && m !== null && !(m instanceof IncomingMessage) && !ArrayBuffer.isView(m) &&
    !isBlob(m) && !isReadableStream(m) && 'data' in m && 'type' in m;
}

async function* iterateStream(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/**
 * A writable in the state a pipe left the collected one in: closed, or errored with the pipe's
 * error. Nothing written to it reaches the connection, as nothing would have.
 */
function rebuiltWritable(outcome: WritableOutcome): WritableStream<OutgoingMessage> {
  const ws = new WritableStream<OutgoingMessage>({}, { highWaterMark: 1 });
  if (outcome.closed) {
    const w = ws.getWriter();
    void w.close();
    w.releaseLock();
  } else {
    void ws.abort(outcome.error);
  }
  return ws;
}

/**
 * What the transport reports to, as one small object with shared methods instead of five
 * closures per connection.
 */
class ConnectionSink implements TransportSink {
  readonly #conn: Connection;
  constructor(conn: Connection) {
    this.#conn = conn;
  }
  onData(chunk: Uint8Array): void {
    this.#conn._transportData(chunk);
  }
  onEnd(): void {
    this.#conn._transportEnd();
  }
  onError(err: Error): void {
    this.#conn._transportError(err);
  }
  onDrain(): void {
    this.#conn._transportDrain();
  }
  onClose(): void {
    this.#conn._transportClose();
  }
}
