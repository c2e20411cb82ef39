import { CloseCode, Opcode } from '../codec/constants';
import { Utf8Validator } from '../codec/utf8-validator';
import { ProtocolViolation } from '../codec/violation';
import type { Extension, PayloadTransform } from '../protocol/extension';
import type { ProtocolEvent } from '../protocol/events';
import { resolveOptions, type ResolvedOptions } from '../protocol/options';
import { InvalidStateError, Protocol } from '../protocol/protocol';
import { ReadyState } from '../protocol/state';
import type { ByteTransport, TransportSink } from './byte-transport';
import type { ConnectionInit, HandshakeInfo } from './connection-init';
import { DecodedBacklog, type BacklogEntry } from './decoded-backlog';
import { connectionLost, WebSocketError, type CloseInfo } from './errors';
import { forwardDecoded } from './forward-decoded';
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
  /** What the opening handshake settled: subprotocol, extensions, headers, addresses. */
  readonly handshake: HandshakeInfo;
  /** Resolves once the connection is over, with how it ended. Never rejects. */
  readonly closed: Promise<CloseInfo>;
  /** Called for every ping received (after the automatic pong, if enabled). */
  onPing: ((data: Uint8Array) => void) | undefined;
  /** Called for every pong received. */
  onPong: ((data: Uint8Array) => void) | undefined;
  /** Called for reserved control opcodes the user or an extension allowed. */
  onControlFrame: ((opcode: number, rsv: number, data: Uint8Array) => void) | undefined;

  readonly #transport: ByteTransport;
  readonly #protocol: Protocol;
  readonly #opts: ResolvedOptions;
  readonly #extensions: readonly Extension[];
  readonly #host: MessageHost;
  readonly #sendHost: SendHost;
  #resolveClosed!: (info: CloseInfo) => void;

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

  // ---- send side ----
  #writer: MessageWriter | undefined;
  #writerQueue: Array<() => void> = [];
  #frameOpen = false;
  /** The half-written frame is a MessageWriter's, which can send no more of it after a close. */
  #writerFrameOpen = false;
  #drainWaiters: Array<{ resolve(): void; reject(e: unknown): void }> = [];
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
    this.handshake = init.handshake;
    this.#transport = transport;
    this.#opts = resolveOptions(init.options);
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
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    this.#host = {
      demand: () => {
        this.#resumeDecoder();
        this.#pump();
      },
    };
    this.#sendHost = this.#makeSendHost();
    const sink: TransportSink = {
      onData: (chunk) => this.#onData(chunk),
      onEnd: () => this.#onEnd(),
      onError: (err) => (this.#transportError ??= err),
      onDrain: () => this.#onDrain(),
      onClose: () => this.#onTransportClose(),
    };
    this.#lastInbound = Date.now();
    transport.attach(sink);
    if (init.head && init.head.length > 0) this.#onData(init.head);
    this.#armHeartbeat();
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
    const rs = new ReadableStream<IncomingMessage>(
      {
        pull: (c) =>
          this.nextMessage().then((m) => {
            if (m) c.enqueue(m);
            else c.close();
          }),
        cancel: () => {
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
    this.#readable = rs;
    return rs;
  }

  #pipeToConnection(rs: ReadableStream<IncomingMessage>, dest: WritableStream<OutgoingMessage>, target: Connection, options: StreamPipeOptions): Promise<void> {
    const reader = rs.getReader();
    const writer = dest.getWriter();
    // The loop of `for (m of this) await target.send(m)`, without a promise per message: a
    // message already received is taken at once, one forwarded whole at once is not waited
    // for, and waiting for the next message is a callback resumed in a microtask (as the
    // promise would resume it). An echo of small messages allocates nothing here.
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const done = (err?: unknown): void => {
        if (settled) return;
        settled = true;
        reader.releaseLock();
        writer.releaseLock();
        if (err === undefined) resolve();
        else reject(err);
      };
      const failed = (err: unknown): void => {
        if (!options.preventCancel) void this.close(CloseCode.InternalError, 'Pipe destination failed').catch(() => undefined);
        if (!options.preventAbort) void writer.abort(err).catch(() => undefined);
        done(err);
      };
      const ended = (): void => {
        if (options.preventClose) done();
        else writer.close().then(() => done(), (err: unknown) => done(err));
      };
      const pipe = (first: IncomingMessage | undefined | null): void => {
        for (let m = first; m !== null; m = this.#pollMessage(waiter)) {
          if (m === undefined) {
            ended();
            return;
          }
          let sent: Promise<void> | undefined;
          try {
            sent = target.#sendPiped(m);
          } catch (err) {
            failed(err);
            return;
          }
          if (sent !== undefined) {
            sent.then(next, failed);
            return;
          }
        }
      };
      const next = (): void => {
        try {
          pipe(this.#pollMessage(waiter));
        } catch (err) {
          done(err);
        }
      };
      let arrived: IncomingMessage | undefined;
      const resume = (): void => {
        const m = arrived;
        arrived = undefined;
        try {
          pipe(m);
        } catch (err) {
          done(err);
        }
      };
      const waiter = {
        resolve: (m: IncomingMessage | undefined): void => {
          arrived = m;
          // A reaction on a settled promise: node's queueMicrotask costs an AsyncResource and a bind.
          void resolved.then(resume);
        },
      };
      next();
    });
  }

  /**
   * `nextMessage()` for a pipe: the next message, or `undefined` at the end, when known at
   * once; otherwise `null`, and `waiter` is called (from the pump) when it is known.
   */
  #pollMessage(waiter: { resolve(m: IncomingMessage | undefined): void }): IncomingMessage | undefined | null {
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
    this.#lastInbound = Date.now();
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
          const ev = this.#protocol.nextEvent();
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
    if (buffered >= this.#opts.receiveHighWaterMark) {
      if (!this.#paused) {
        this.#paused = true;
        this.#transport.pause();
      }
    } else if (this.#paused) {
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
          const msg = new IncomingMessage(ev.header, ev.messageOpcode, ev.encoded, this.#host);
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
        if (d === undefined) this.#current!._data(ev.data);
        else this.#runDecoder(d.transform(ev.data, this.#emitDecoded));
        return;
      }
      case 'frame-end': {
        this.#inFrame = false;
        const d = this.#currentDecoder;
        if (d === undefined) this.#endFrame(ev.fin);
        else this.#runDecoder(d.flush(ev.fin, this.#emitDecoded), () => this.#decodedEnd(ev.fin));
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

  readonly #emitDecoded = (chunk: Uint8Array): void | Promise<void> => {
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
  };

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
    for (const d of this.#drainWaiters.splice(0)) d.reject(lost);
    this.#writer?._abort();
    this.#writer = undefined;
    for (const next of this.#writerQueue.splice(0)) next();
    this.#resolveClosed(this.#closeInfo());
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
    this.#writable ??= new WritableStream<OutgoingMessage>(
      {
        write: (msg) => this.#sendFromWritable(msg),
        close: () => {
          void this.close(CloseCode.Normal).catch(() => undefined);
        },
        abort: () => {
          void this.close(CloseCode.InternalError, 'Sender aborted').catch(() => undefined);
        },
      },
      { highWaterMark: 1 },
    );
    writableOwners.set(this.#writable, this);
    return this.#writable;
  }

  /**
   * What `#sendFromWritable(msg)` does for a piped message, without a promise when the message
   * can be forwarded as it is (no compression either way, no other message being sent) and
   * was forwarded whole at once; otherwise the promise to wait for.
   */
  #sendPiped(msg: IncomingMessage): Promise<void> | undefined {
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

  /** As `#withWriter` and `#sendFromWritable` handle a failed message, for `#sendPiped`. */
  #pipedFailed(w: MessageWriter, err: unknown): Promise<void> {
    this.#abandonWriter(w);
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
      // Fast path: nothing in the way, no extension: encode and write now.
      if (this.#writer === undefined && this.#writerQueue.length === 0 && fragmentSize === undefined &&
          (this.#extensions.length === 0 || options.compress === false)) {
        try {
          this.#sendHost.assertCanSend();
        } catch (err) {
          return Promise.reject(err);
        }
        return this.#sendHost.sendWholeFrame(opcode, bytes, true, 0) ?? resolved;
      }
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

  async #withWriter(opcode: number, sizeHint: number | undefined, options: SendOptions, body: (w: MessageWriter) => Promise<void>): Promise<void> {
    await this.#acquire();
    const w = this.#newWriter(opcode, sizeHint, options.compress !== false);
    try {
      await body(w);
      if (!w.ended) await w.end();
    } catch (err) {
      this.#abandonWriter(w);
      throw err;
    }
  }

  /**
   * A message's source failed. If the writer had not ended, the frames already sent promised
   * more: fail the connection rather than leave the peer waiting for a message that never ends.
   */
  #abandonWriter(w: MessageWriter): void {
    if (w.ended) return;
    w._abort();
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
      abandon: (failed) => {
        if (!this.#frameOpen) return;
        // A header promised bytes that will never come: the peer cannot be left waiting.
        this.#frameOpen = false;
        if (failed && this.#protocol.closeSent === undefined) {
          this.#onFailed(this.#failLocally(CloseCode.InternalError, 'Forwarded message failed'));
        }
      },
    };
  }

  #acquire(): Promise<void> {
    if (this.#writer === undefined && this.#writerQueue.length === 0) return resolved;
    return new Promise((resolve) => this.#writerQueue.push(resolve));
  }

  #release(w: MessageWriter): void {
    if (this.#writer !== w) return;
    this.#writer = undefined;
    const next = this.#writerQueue.shift();
    next?.();
  }

  #failLocally(code: number, reason: string): ProtocolViolation {
    const v = new ProtocolViolation(code as CloseCode, 'EXTENSION_ERROR', reason);
    this.#protocol.fail(v);
    return v;
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
    return new Promise((resolve, reject) => this.#drainWaiters.push({ resolve, reject }));
  }

  #onDrain(): void {
    for (const d of this.#drainWaiters.splice(0)) d.resolve();
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

/** Streams a received message out frame by frame, without holding a whole frame. */
async function forwardMessage(msg: IncomingMessage, w: MessageWriter): Promise<void> {
  if (msg.compressed) return forwardDecoded(msg, w);
  const frames = msg.frames.getReader();
  for (;;) {
    const { done, value: frame } = await frames.read();
    if (done) break;
    if (frame.length === 0) {
      await w.sendFrame(EMPTY, { fin: frame.fin });
      continue;
    }
    const out = w.beginFrame(frame.length, { fin: frame.fin });
    await frame.data.pipeTo(out);
  }
  if (!w.ended) await w.end();
}
