import { CloseCode, Opcode } from '../codec/constants';
import { ProtocolViolation } from '../codec/violation';
import { Protocol } from '../protocol/protocol';
import { ReadyState } from '../protocol/state';
import type { ByteTransport } from './byte-transport';
import type { ConnectionInit, HandshakeInfo, RuntimeHooks } from './connection-init';
import { resolveSharedOptions } from './connection-options';
import { ConnectionStreams, type StreamsOwner } from './connection-streams';
import type { ConnectionCore, ConnectionParts } from './core';
import type { Extension } from '../protocol/extension';
import { connectionLost, WebSocketError, type CloseInfo } from './errors';
import { Heartbeat } from './heartbeat';
import { ConnectionSink, HeartbeatLink } from './connection-sinks';
import { MessageIterator, type MessageIteratorOptions } from './message-iterator';
import { Inbound, type MessageWaiter } from './inbound';
import type { IncomingMessage } from './incoming-message';
import type { MessageWriter } from './message-writer';
import type { StreamConnection } from './stream-surface';
import { Outbound } from './outbound';
import { streamClasses } from './stream-classes';
import { encodeText, toBytes, type BinaryData, type OutgoingMessage, type SendOptions } from './outgoing';
import type { UnsafeAllocator } from './growable-buffer';
import { PendingPings } from './pending-pings';
import { markHandled, rejectedWith, untilAborted, whenAborted } from './abort';

// Bits of the `#flags` field (see the class).
const INPUT_ENDED = 1 << 0;
const TRANSPORT_CLOSED = 1 << 1;
const END_SENT = 1 << 2;
const FINALIZED = 1 << 3;
const EXTENSIONS_CLOSED = 1 << 4;

const EMPTY = new Uint8Array(0);
const resolved = Promise.resolve();
const noop = (): void => undefined;
const NO_EXTENSIONS: readonly never[] = Object.freeze([]);
const NO_HOOKS: RuntimeHooks = Object.freeze({});

/** Options of `Connection.nextMessage()`. */
export interface NextMessageOptions {
  /**
   * Stops waiting: the promise rejects with `signal.reason` and the next message stays for
   * the next caller (none is lost). Already aborted: rejects at once, and the unread rest of
   * the previous message is left as it is.
   */
  readonly signal?: AbortSignal;
}

/** Options of `Connection.close()`. */
export interface CloseOptions {
  /**
   * Stops waiting for the end: the promise rejects with `signal.reason` while the closing
   * handshake goes on (bounded by `closeTimeout`; `closed` still reports how it ended).
   * Already aborted: rejects at once and nothing is sent.
   */
  readonly signal?: AbortSignal;
}

/**
 * One WebSocket connection after its opening handshake, as WHATWG streams: `readable` gives
 * each incoming message (itself a stream of frames, each a stream of bytes), `writable`
 * sends what is written to it as messages. Backpressure runs end to end: nobody reading
 * means the transport is not read (beyond `receiveHighWaterMark`); a slow peer means `send()` waits.
 *
 * This class is the public API and the lifecycle (open → closing → closed, the close timer,
 * the end of the transport). Its parts, each made when first needed: `Inbound` (receiving),
 * `Outbound` (sending), `ConnectionStreams` (`readable`/`writable` and the pipe fast path),
 * `Heartbeat` (only with `autoPingInterval`).
 *
 * @example
 * ```ts
 * import { serve } from 'websocket-streams/node';
 * await serve({ port: 8080 }, (conn) => conn.readable.pipeTo(conn.writable)); // echo server
 * ```
 */
export class Connection implements AsyncIterable<IncomingMessage>, StreamConnection, ConnectionCore, StreamsOwner {
  /** Which end of the connection this is. */
  readonly role: 'client' | 'server';
  /** Called for every ping received (its automatic pong, if enabled, is queued already). */
  onPing: ((data: Uint8Array) => void) | undefined;
  /** Called for every pong received (also those that answer a `ping()` being awaited). */
  onPong: ((data: Uint8Array) => void) | undefined;
  /** Called for reserved control opcodes the user or an extension allowed. */
  onControlFrame: ((opcode: number, rsv: number, data: Uint8Array) => void) | undefined;

  readonly #parts: ConnectionParts;
  /** The handshake, or what builds it on first use (a server keeps its request compact until asked). */
  #handshake: HandshakeInfo | (() => HandshakeInfo);
  // Made on first use: an idle connection has none of them.
  #inbound: Inbound | undefined;
  #outbound: Outbound | undefined;
  #streams: ConnectionStreams | undefined;
  #heartbeat: Heartbeat | undefined;
  #pings: PendingPings | undefined;
  #closed: Promise<CloseInfo> | undefined;
  #resolveClosed: ((info: CloseInfo) => void) | undefined;
  #closeResult: CloseInfo | undefined;
  /** A set this connection leaves once it is over (the server's open connections). */
  #trackedIn: Set<Connection> | undefined;
  #closeTimer: unknown;
  #transportError: Error | undefined;
  /** Set where the connection itself dropped the transport (heartbeat, close timer, abandon). */
  #droppedBy: 'heartbeat-timeout' | 'close-timeout' | 'abandoned' | undefined;
  /** The boolean states (the bits above; `#is`, `#set`), one bit each: one field instead of 5, for idle connections are many. */
  #flags = 0;
  #is(bit: number): boolean {
    return (this.#flags & bit) !== 0;
  }
  #set(bit: number, on: boolean): void {
    this.#flags = on ? this.#flags | bit : this.#flags & ~bit;
  }

  /** Wraps a transport whose opening handshake is done. Adapters call this; users get connections from them. */
  constructor(transport: ByteTransport, init: ConnectionInit) {
    // Throws a TypeError naming useStreamClasses() where the runtime has no WHATWG streams.
    streamClasses();
    this.role = init.role;
    this.#handshake = init.handshake;
    const opts = resolveSharedOptions(init.options);
    const extensions = init.activeExtensions ?? NO_EXTENSIONS;
    const runtime = init.runtime ?? NO_HOOKS;
    const protocol = new Protocol({
      role: init.role,
      extensions,
      maxFrameSize: opts.maxFrameSize,
      maxMessageSize: opts.maxMessageSize,
      maxFragments: opts.maxFragments,
      autoPong: opts.autoPong,
      allowReservedBits: opts.allowReservedBits,
      allowReservedOpcodes: opts.allowReservedOpcodes,
      maskKeySource: opts.maskKeySource,
      isUtf8: runtime.isUtf8,
    });
    this.#parts = { core: this, protocol, transport, opts, extensions, runtime };
    transport.attach(new ConnectionSink(this));
    const head = init.head;
    if (head !== undefined && head.length > 0) {
      // Bytes that came with the handshake: parsed on the next turn, once whoever made this
      // connection has set its handlers (a ping among them must reach onPing), and read ahead
      // like bytes that arrive later: a close among them is answered though nobody reads.
      protocol.receive(head);
      opts.clock.setTimeout(() => this.#in().received(), 0);
    }
    if (opts.autoPingInterval > 0 && !this.#is(FINALIZED)) {
      this.#heartbeat = new Heartbeat(new HeartbeatLink(this), opts.clock, opts.autoPingInterval, opts.autoPingTimeout);
    }
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
    return this.#is(FINALIZED) ? ReadyState.Closed : this.#parts.protocol.state;
  }
  /** Bytes queued for sending and not yet handed to the operating system. */
  get bufferedAmount(): number {
    return this.#parts.transport.bufferedAmount;
  }

  // ---- receiving ----

  /** Incoming messages, one after another. Cancelling it closes the connection (1000). */
  get readable(): ReadableStream<IncomingMessage> {
    return (this.#streams ??= new ConnectionStreams(this)).readable;
  }

  /**
   * The next message, or `undefined` once no more will come. Discards what was left unread
   * of the previous message. A faster, stream-free way to do what `readable` does.
   * `signal` stops the wait (rejects with `signal.reason`); the next message stays for the
   * next caller.
   */
  nextMessage(options?: NextMessageOptions): Promise<IncomingMessage | undefined> {
    const inbound = this.#in();
    const signal = options?.signal;
    if (signal !== undefined) return this.#nextMessageUntil(inbound, signal);
    // A message already here (most of them, when a read brings several) costs a resolved
    // promise, not a pending one with its executor, resolving functions and waiter object.
    let m: IncomingMessage | undefined | null;
    try {
      m = inbound.poll();
    } catch (err) {
      return Promise.reject(err);
    }
    if (m !== null) return Promise.resolve(m);
    return new Promise((resolve) => inbound.wait({ resolve }));
  }

  #nextMessageUntil(inbound: Inbound, signal: AbortSignal): Promise<IncomingMessage | undefined> {
    if (signal.aborted) return rejectedWith(signal.reason);
    return markHandled(new Promise((resolve, reject) => {
      const waiter = {
        resolve(m: IncomingMessage | undefined): void {
          stop();
          resolve(m);
        },
      };
      // Taken back before a message was handed to it, the waiter leaves the next message queued.
      const stop = whenAborted(signal, () => {
        inbound.cancelWait(waiter);
        reject(signal.reason);
      });
      let m: IncomingMessage | undefined | null;
      try {
        m = inbound.poll();
      } catch (err) {
        // Another nextMessage() is waiting: this call never waited, so it keeps no listener.
        stop();
        throw err;
      }
      if (m !== null) waiter.resolve(m);
      else inbound.wait(waiter);
    }));
  }

  /**
   * The messages, as `for await (const msg of conn)` reads them. As with `readable` (and
   * `ReadableStream`'s own iteration), leaving the loop early (`break`, `return`, `throw`)
   * closes the connection (1000) unless `preventCancel` is set.
   */
  values(options: MessageIteratorOptions = {}): AsyncIterableIterator<IncomingMessage> {
    return new MessageIterator(this, options.preventCancel === true);
  }

  /** `for await (const msg of conn)`: the messages, one after another; leaving the loop early closes with 1000 (see `values()`). */
  [Symbol.asyncIterator](): AsyncIterableIterator<IncomingMessage> {
    return new MessageIterator(this, false);
  }

  // ---- sending ----

  /** Messages written here are sent in order. Closing it starts the close handshake (1000). */
  get writable(): WritableStream<OutgoingMessage> {
    return (this.#streams ??= new ConnectionStreams(this)).writable;
  }

  /**
   * Sends one message. Resolves when the transport has taken its bytes below the
   * high-water mark; waits its turn behind a message being sent through `beginMessage()`.
   * A send that fails because the connection did rejects, but is never an unhandled
   * rejection on its own (`void conn.send(x)` is safe): `closed` reports the loss.
   * `options.signal` aborts it (see `SendOptions.signal`: a message half sent cannot be taken
   * back, so aborting it then fails the connection with 1011).
   *
   * @example
   * ```ts
   * await conn.send('hello');                        // text
   * await conn.send(new Uint8Array([1, 2, 3]));      // binary
   * await conn.send(file.stream());                  // streamed, frame per chunk
   * ```
   */
  send(message: OutgoingMessage, options: SendOptions = {}): Promise<void> {
    return this.#out().send(message, options);
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
    return this.#out().beginMessage(op ?? (type === 'text' ? Opcode.Text : Opcode.Binary), options.compress !== false);
  }

  /**
   * Sends a ping (at most 125 bytes) and resolves with the round-trip time in ms (by the
   * connection's `clock`, from this call to the pong's arrival) once the matching pong comes.
   * Without `data` the payload is 4 bytes unique among the pings in flight. A pong also
   * answers every ping sent before its own (a peer may answer only the latest, RFC 6455
   * §5.5.3); pongs that match no ping are ignored (`onPong` still sees every pong).
   *
   * Rejects with a `WebSocketError`: `'PING_IN_FLIGHT'` when a ping with the same `data`
   * still waits for its pong (nothing is sent); the connection's end (`'CLOSED'` with the
   * close code, or how it was lost) when it is over before the pong. At most 64 pings wait:
   * sending another gives the oldest up (`'PING_UNANSWERED'`), so a peer that never answers
   * cannot grow the connection. Never an unhandled rejection when ignored. A payload over
   * 125 bytes, or a ping after the close frame was sent, throws at once.
   *
   * The heartbeat (`autoPingInterval`) does not use this: it judges liveness on any traffic,
   * and its pings stay empty and unregistered.
   *
   * @example
   * ```ts
   * const rtt = await conn.ping();       // ms
   * ```
   */
  ping(data?: BinaryData | string): Promise<number> {
    const pings = (this.#pings ??= new PendingPings(this.#parts.opts.clock));
    let payload: Uint8Array;
    if (data === undefined) {
      payload = pings.generatePayload();
    } else {
      payload = typeof data === 'string' ? encodeText(data) : toBytes(data);
      if (pings.has(payload)) {
        return rejectedWith(new WebSocketError('A ping with this payload is already waiting for its pong', { kind: 'PING_IN_FLIGHT' }));
      }
    }
    // Sent first: a payload too long, or a connection closing, throws before anything waits.
    this.#out().ping(payload);
    if (this.#is(FINALIZED)) return rejectedWith(this._lostError());
    return pings.add(payload);
  }

  /** Sends an unsolicited pong (a one-way heartbeat, RFC 6455 §5.5.3). */
  pong(data: BinaryData | string = EMPTY): void {
    this.#out().pong(data);
  }

  /**
   * Sends a control frame with a reserved opcode (0xB–0xF, at most 125 bytes), for an
   * extension that defines it; received ones go to `onControlFrame`. Advanced: a peer that
   * did not agree to the opcode fails the connection with 1002.
   */
  sendControlFrame(opcode: number, data: BinaryData | string = EMPTY): void {
    this.#out().sendControlFrame(opcode, data);
  }

  /**
   * Starts the closing handshake and resolves when the connection is over. Without a code
   * the close frame is empty (the peer sees 1005). An invalid code (1004–1006, 1015, outside
   * 1000–4999) or a reason over 123 UTF-8 bytes throws at once.
   *
   * Unread messages and everything the peer sends from now on are discarded (a message being
   * read that has arrived whole stays readable), so the handshake completes in one round trip
   * whatever the consumer does.
   *
   * `options.signal` stops the wait only (rejects with `signal.reason`); the handshake goes on,
   * bounded by `closeTimeout`, and `closed` reports its end. Already aborted: nothing is sent.
   */
  close(code?: number, reason?: string, options?: CloseOptions): Promise<CloseInfo> {
    const signal = options?.signal;
    if (signal?.aborted) return rejectedWith(signal.reason);
    if (this.#is(FINALIZED)) return this.closed;
    const started = this.#parts.protocol.close(code, reason);
    this.#inbound?.discard(new WebSocketError('The connection was closed locally before the message was read',
      { closeCode: code ?? CloseCode.NoStatusReceived, reason: reason ?? '', kind: 'CLOSED' }));
    if (started || this.#parts.protocol.hasOutput) {
      this._flushControl();
      this.#startCloseTimer();
    }
    return signal === undefined ? this.closed : this.#closedUntil(signal);
  }

  /** `closed`, or `signal.reason` if it aborts first: only the wait stops. */
  #closedUntil(signal: AbortSignal): Promise<CloseInfo> {
    return untilAborted(this.closed, signal);
  }

  // ---- for the tiers and adapters ----

  /** @internal A ping nobody awaits (the heartbeat's, the Autobahn tier's `sendPing`): not registered, always sent. */
  _sendPing(data: BinaryData | string = EMPTY): void {
    this.#out().ping(data);
  }

  /** @internal `send(bytes, { binary, compress })` in one frame, as the Autobahn tier's `sendMessage` calls it. */
  _sendBytes(opcode: number, bytes: Uint8Array, compress: boolean): Promise<void> {
    return this.#out().sendBytes(opcode, bytes, compress);
  }

  /** @internal For `broadcast()`: the extensions negotiated, which decide whether a frame can be shared. */
  get _activeExtensions(): readonly Extension[] {
    return this.#parts.extensions;
  }

  /** @internal For `broadcast()`: bytes queued for sending, in the transport and behind a message being sent. */
  get _sendBacklog(): number {
    return this.#parts.transport.bufferedAmount + (this.#outbound?.encodedBacklog ?? 0);
  }

  /** @internal For `broadcast()`: one whole unfragmented message frame of this connection's own (a client's, masked with its own key). */
  _encodeFrame(opcode: number, payload: Uint8Array): Uint8Array[] {
    return this.#parts.protocol.encodeDataFrame(opcode, payload, true, 0);
  }

  /** @internal For `broadcast()`: writes a whole message frame encoded beforehand (see `Outbound.sendEncoded`). */
  _sendEncoded(frame: readonly Uint8Array[] | Promise<readonly Uint8Array[]>, size: number): void {
    this.#out().sendEncoded(frame, size);
  }

  /** @internal Adds this connection to `set`, which it leaves once it is over (in the microtask `closed` would settle in). */
  _trackIn(set: Set<Connection>): void {
    set.add(this);
    if (this.#closeResult !== undefined) void resolved.then(() => set.delete(this));
    else this.#trackedIn = set;
  }

  // ---- StreamsOwner (for ConnectionStreams) ----

  /** @internal */
  _pollMessage(waiter: MessageWaiter): IncomingMessage | undefined | null {
    const inbound = this.#in();
    const m = inbound.poll();
    if (m === null) inbound.wait(waiter);
    return m;
  }
  /** @internal */
  _readerTurnEnded(m: IncomingMessage | undefined): void {
    this.#inbound?.readerTurnEnded(m);
  }
  /** @internal */
  _sendPiped(msg: IncomingMessage): Promise<void> | undefined {
    return this.#out().sendPiped(msg);
  }
  /** @internal */
  _sendFromWritable(msg: OutgoingMessage): Promise<void> {
    return this.#out().sendFromWritable(msg);
  }
  /** @internal */
  _closeQuietly(code: number, reason?: string): void {
    void this.close(code, reason).catch(noop);
  }

  // ---- the transport's reports (see ConnectionSink) ----

  /** @internal A pong arrived: it answers the pings waiting for it, then `onPong` sees it. */
  _pongReceived(data: Uint8Array): void {
    this.#pings?.acknowledge(data);
    this.onPong?.(data);
  }

  /** @internal */
  _transportData(chunk: Uint8Array): void {
    this.#heartbeat?.inbound();
    this.#in().data(chunk);
  }
  /** @internal */
  _transportEnd(): void {
    this.#set(INPUT_ENDED, true);
    this.#in().inputEnded();
  }
  /** @internal */
  _transportError(err: Error): void {
    this.#transportError ??= err;
  }
  /** @internal */
  _transportDrain(): void {
    this.#outbound?.drained();
  }
  /** @internal */
  _transportClose(): void {
    this.#set(TRANSPORT_CLOSED, true);
    this.#set(INPUT_ENDED, true);
    this.#parts.protocol.receiveEnd();
    this.#finalize();
  }

  // ---- ConnectionCore (for the parts) ----

  /** @internal The runtime's unzeroed allocator, for collectors outside the connection (the Autobahn tier). */
  get _allocUnsafe(): UnsafeAllocator | undefined {
    return this.#parts.runtime.allocUnsafe;
  }

  /** @internal */
  get _finalized(): boolean {
    return this.#is(FINALIZED);
  }
  /** @internal */
  get _controlHeld(): boolean {
    return this.#inbound?.holding ?? false;
  }
  /** @internal */
  get _writeBehind(): boolean {
    return this.#outbound?.writeBehind ?? false;
  }
  /** @internal */
  get _readingPaused(): boolean {
    return this.#inbound?.paused ?? false;
  }

  /** @internal */
  _lostError(): WebSocketError {
    const f = this.#parts.protocol.failure;
    if (f) return new WebSocketError(f.message, { closeCode: f.closeCode, reason: f.message, kind: f.kind, cause: f });
    return connectionLost(this.#transportError);
  }

  /** @internal */
  _failed(_violation: ProtocolViolation): void {
    this._flushControl();
    // RFC 6455 §7.1.7: having sent the close frame, the endpoint that fails the connection
    // does not wait for the peer's; a server closes TCP now, a client waits briefly for
    // the server to (§7.1.1), then drops it.
    this.#startCloseTimer();
    if (this.role === 'server') this.#endTransport();
  }

  /** @internal */
  _failLocally(code: number, reason: string): void {
    this.#in().fail(new ProtocolViolation(code as CloseCode, 'EXTENSION_ERROR', reason));
  }

  /** @internal */
  _peerClosed(): void {
    this._flushControl();
    this._controlWritten();
  }

  /** @internal */
  _controlWritten(): void {
    const p = this.#parts.protocol;
    if (p.closeSent === undefined || p.closeReceived === undefined || p.hasOutput) return;
    // Both close frames are exchanged. RFC 6455 §7.1.1: "the server SHOULD close the
    // underlying TCP connection first"; the client waits for it, within the close timeout.
    this.#startCloseTimer();
    if (this.role === 'server' || this.#is(INPUT_ENDED)) this.#endTransport();
  }

  /** @internal */
  _abandonWire(reason: Error): void {
    this.#droppedBy ??= 'abandoned';
    this.#transportError ??= reason;
    this.#endTransport();
  }

  /** @internal */
  _inputOver(): void {
    // The transport will give nothing more.
    if (this.#is(FINALIZED)) return;
    const p = this.#parts.protocol;
    if (p.closeReceived !== undefined && p.closeSent !== undefined) {
      // Clean: reply to the peer's TCP close with ours (RFC 6455 §7.1.1 client side).
      this.#endTransport();
    } else if (!this.#is(TRANSPORT_CLOSED)) {
      this.#parts.transport.destroy();
    }
    if (this.#is(TRANSPORT_CLOSED)) this.#finalize();
  }

  /** @internal */
  _inboundOver(): void {
    if (this.#is(FINALIZED)) this.#closeExtensions();
  }

  /** @internal */
  _flushControl(): void {
    if (!this.#parts.protocol.hasOutput) return;
    this.#out().flushControl();
  }

  /** @internal The heartbeat's verdict: no traffic from the peer in time. */
  _heartbeatAbort(err: Error): void {
    this.#droppedBy ??= 'heartbeat-timeout';
    this.#transportError ??= err;
    this.#parts.transport.destroy(err);
  }

  // ---- lifecycle ----

  #in(): Inbound {
    return (this.#inbound ??= new Inbound(this.#parts));
  }

  #out(): Outbound {
    return (this.#outbound ??= new Outbound(this.#parts));
  }

  #endTransport(): void {
    if (this.#is(END_SENT) || this.#is(TRANSPORT_CLOSED)) return;
    this.#set(END_SENT, true);
    this.#parts.transport.end();
  }

  #startCloseTimer(): void {
    if (this.#closeTimer !== undefined || this.#is(FINALIZED)) return;
    const { clock, closeTimeout } = this.#parts.opts;
    this.#closeTimer = clock.setTimeout(() => {
      this.#closeTimer = undefined;
      if (this.#is(TRANSPORT_CLOSED)) return;
      this.#droppedBy ??= 'close-timeout';
      this.#parts.transport.destroy();
    }, closeTimeout);
  }

  #finalize(): void {
    if (this.#is(FINALIZED)) return;
    this.#set(FINALIZED, true);
    if (this.#closeTimer !== undefined) this.#parts.opts.clock.clearTimeout(this.#closeTimer);
    this.#closeTimer = undefined;
    this.#heartbeat?.stop();
    this.#heartbeat = undefined;
    const lost = this._lostError();
    // Messages received whole before the end stay readable; the extensions close once they are read.
    if (this.#inbound !== undefined) this.#inbound.connectionOver(lost);
    else this.#closeExtensions();
    this.#outbound?.finalize(lost);
    const info = this.#closeInfo();
    if (this.#pings !== undefined) {
      this.#pings.rejectAll(info.endedBy === 'close-handshake'
        ? new WebSocketError(`The connection closed (${info.code}) before the pong came`, { closeCode: info.code, reason: info.reason, kind: 'CLOSED' })
        : lost);
      this.#pings = undefined;
    }
    this.#closeResult = info;
    const set = this.#trackedIn;
    this.#trackedIn = undefined;
    // Queued before `closed`'s reactions, as the `closed.then()` this replaces was registered first.
    if (set !== undefined) void resolved.then(() => set.delete(this));
    this.#resolveClosed?.(info);
    this.#resolveClosed = undefined;
  }

  #closeExtensions(): void {
    if (this.#is(EXTENSIONS_CLOSED)) return;
    this.#set(EXTENSIONS_CLOSED, true);
    for (const ext of this.#parts.extensions) ext.close();
  }

  #closeInfo(): CloseInfo {
    const p = this.#parts.protocol;
    const error = this.#transportError;
    const failure = p.failure;
    let info: { wasClean: boolean; code: number; reason: string; endedBy: CloseInfo['endedBy'] };
    if (failure) {
      info = { wasClean: false, code: failure.closeCode, reason: failure.message, endedBy: 'protocol-error' };
    } else {
      const received = p.closeReceived;
      if (received && p.closeSent) {
        info = { wasClean: error === undefined, code: received.code, reason: received.reason, endedBy: 'close-handshake' };
      } else {
        const endedBy = this.#droppedBy ?? (error !== undefined ? 'transport-error' : 'transport-ended');
        info = { wasClean: false, code: CloseCode.AbnormalClosure, reason: '', endedBy };
      }
    }
    return error === undefined ? info : { ...info, error };
  }
}
