import { CloseCode, Opcode } from '../codec/constants';
import { maskInPlace } from '../codec/mask';
import { Utf8Validator } from '../codec/utf8-validator';
import type { UnsafeAllocator } from './growable-buffer';
import { ProtocolViolation } from '../codec/violation';
import type { ProtocolEvent } from '../protocol/events';
import { ReadyState } from '../protocol/state';
import type { ConnectionParts } from './core';
import { WebSocketError } from './errors';
import { IncomingMessage } from './incoming-message';
import { MessageDecoding, type DecodingHost } from './message-decoding';
import type { MessageHost } from './message-host';
import { releaseQueue, takeQueue, type ReadAheadEntry, ReadAheadQueue } from './read-ahead';

// Bits of the `#flags` field (see the class).
/** The current message was handed to a consumer (a compressed one may start decoding before). */
const CURRENT_DELIVERED = 1 << 0;
const PUMPING = 1 << 1;
const PUMP_AGAIN = 1 << 2;
/** A frame-start was routed and its frame-end not yet: the next events are its data and end. */
const IN_FRAME = 1 << 3;
/** An asynchronous decoder step is running: events wait for it, in order. */
const BLOCKED = 1 << 4;
const PAUSED = 1 << 5;
const INPUT_ENDED = 1 << 6;
const INPUT_OVER_REPORTED = 1 << 7;
const OVER_REPORTED = 1 << 8;
/** The last parse found no complete event in the received bytes. */
const STARVED = 1 << 9;
/** The connection is over: nothing more comes from the protocol; what is queued is all. */
const OVER = 1 << 10;
/** After a local close: data is dropped as it is parsed. */
const DISCARDING = 1 << 11;
/** This pump may read ahead (see `#pumpAhead`). */
const AHEAD_ALLOWED = 1 << 12;
/** The current message went to a waiter that reports its turns (a pipe). */
const DELIVERED_TO_REPORTER = 1 << 13;

/** The read-ahead queue of every inbound that has not read ahead yet (never pushed to). */
const NO_QUEUE = new ReadAheadQueue();

/**
 * Pings a peer may send while our writes to it wait for a drain (the transport is above its
 * `sendHighWaterMark` and has not gone below it since) before the connection fails with
 * 1008: a peer that floods pings and never reads its pongs. Pongs wait coalesced into one
 * meanwhile (RFC 6455 §5.5.3), so this bounds time, not memory.
 */
export const MAX_PINGS_WHILE_BEHIND = 1024;

/** A first frame of a message an extension decodes. */
function startsEncoded(e: ReadAheadEntry | ProtocolEvent): boolean {
  return e.type === 'frame-start' && e.first && e.encoded;
}

/** Who waits for the next message: a `nextMessage()` promise or a pipe. */
export interface MessageWaiter {
  resolve(m: IncomingMessage | undefined): void;
  /**
   * The waiter takes the message up in its own next turn and then calls `readerTurnEnded`
   * (a pipe): reading ahead past the message can wait for that.
   */
  readonly reportsTurns?: boolean;
}

/**
 * The receive side of a connection: feeds protocol events to the message being read, in wire
 * order, as its consumer asks (the pump), and reads ahead of the consumer so that control
 * frames are never stuck behind unread data.
 *
 * - Reading ahead: while nobody asks for data, the received bytes are still parsed, up to
 *   `receiveHighWaterMark` of unread payload; data is queued in order (`ReadAheadQueue`),
 *   pings, pongs and the peer's close are acted on at once. At the mark the transport is
 *   paused and everything waits: that is backpressure.
 * - A new message starts only when someone asks for one (`nextMessage`, a pipe): what the
 *   application sends in answer to a message goes out before a protocol failure found behind
 *   it, whose close frame is held until the consumer asks past it (at most `closeTimeout`).
 * - A local close discards unread data and everything incoming (`discard`).
 * - A compressed message is decoded by a `MessageDecoding` of its own, which it feeds in order.
 * It alone pauses and resumes the transport.
 */
export class Inbound implements MessageHost, DecodingHost {
  readonly #parts: ConnectionParts;
  #current: IncomingMessage | undefined;
  /** The boolean states (the bits above; `#is`, `#set`), one bit each: one field instead of 14, for idle connections are many. */
  #flags = 0;
  #is(bit: number): boolean {
    return (this.#flags & bit) !== 0;
  }
  #set(bit: number, on: boolean): void {
    this.#flags = on ? this.#flags | bit : this.#flags & ~bit;
  }
  /** The decoding of the current message, if an extension encodes it. */
  #decoding: MessageDecoding | undefined;
  #messageWaiter: MessageWaiter | undefined;
  /** Events parsed ahead of the consumer (made on first use). */
  #ahead = NO_QUEUE;
  /** A failure is queued behind unread data; its close frame waits, at most until the timer fires (see `#hold`). */
  #held: { readonly violation: ProtocolViolation; readonly timer: unknown } | undefined;
  #pingsWhileBehind = 0;
  /** What a pump found for `poll` (`null`: nothing yet). */
  #polled: IncomingMessage | undefined | null = null;

  constructor(parts: ConnectionParts) {
    this.#parts = parts;
  }

  /** `MessageHost`: the runtime's unzeroed allocator, for the collectors of the messages and frames. */
  get allocUnsafe(): UnsafeAllocator | undefined {
    return this.#parts.runtime.allocUnsafe;
  }

  /** A failure's close frame is held until the messages before it are read. */
  get holding(): boolean {
    return this.#held !== undefined;
  }

  /** The transport's read side is paused by us (our consumer is behind). */
  get paused(): boolean {
    return this.#is(PAUSED);
  }

  /** `DecodingHost`: the message being received. */
  get current(): IncomingMessage | undefined {
    return this.#current;
  }

  /** `DecodingHost`: the current message was handed to a consumer. */
  get currentDelivered(): boolean {
    return this.#is(CURRENT_DELIVERED);
  }

  /** `DecodingHost`: the connection is over. */
  get finalized(): boolean {
    return this.#parts.core._finalized;
  }

  /** `DecodingHost`: a decoder step runs; events after it wait for it. */
  decoderStep(running: boolean): void {
    this.#set(BLOCKED, running);
  }

  // ---- what the transport reports ----

  data(chunk: Uint8Array): void {
    this.#parts.protocol.receive(chunk);
    this.pumpAhead();
  }

  /** Bytes handed to the protocol before (those that came with the handshake) are parsed now, read ahead as any that arrive. */
  received(): void {
    this.pumpAhead();
  }

  inputEnded(): void {
    this.#set(INPUT_ENDED, true);
    this.pumpAhead();
  }

  // ---- the consumer ----

  /** `MessageHost`: a consumer wants data now. */
  demand(): void {
    this.#decoding?.resume();
    this.#pump();
  }

  /**
   * The next message when known at once, `undefined` when none will come, or `null`: then
   * the caller `wait()`s for it, in the same turn. Discards the unread rest of the previous
   * message.
   */
  poll(): IncomingMessage | undefined | null {
    if (this.#messageWaiter) throw new TypeError('nextMessage() is already waiting for a message');
    const prev = this.#current;
    // Discarding pumps at once, which may already bring the next message in.
    if (prev !== undefined && this.#is(CURRENT_DELIVERED) && !prev._done) prev._discard();
    const cur = this.#current;
    if (cur !== undefined && !this.#is(CURRENT_DELIVERED)) {
      this.#set(CURRENT_DELIVERED, true);
      return cur;
    }
    if (this.#noMoreMessages()) return undefined;
    // Whatever the pump finds now is handed back at once (a pipe takes the messages of one read
    // in one loop); only if it finds nothing does the caller wait.
    this.#polled = null;
    this.#messageWaiter = this;
    this.#pump();
    if (this.#messageWaiter === this) {
      this.#messageWaiter = undefined;
      return null;
    }
    const m = this.#polled;
    this.#polled = null;
    return m;
  }

  /**
   * `waiter` is called (from the pump) with the next message when it is known. Only right after
   * a `poll()` that returned `null`, in the same turn: that `poll()` checked nobody else waits.
   */
  wait(waiter: MessageWaiter): void {
    this.#messageWaiter = waiter;
  }

  /** `waiter` stops waiting (its signal aborted): a message that comes later stays for the next caller. */
  cancelWait(waiter: MessageWaiter): void {
    if (this.#messageWaiter === waiter) this.#messageWaiter = undefined;
  }

  /** A pipe's turn with `m` is over: if it has not taken `m` up, read ahead as usual. */
  readerTurnEnded(m: IncomingMessage | undefined): void {
    if (m !== undefined && m === this.#current && m._unclaimed) this.pumpAhead();
  }

  /** @internal `poll`'s own waiter, for what a pump finds while it polls. */
  resolve(m: IncomingMessage | undefined): void {
    this.#polled = m;
  }

  // ---- lifecycle ----

  /** A local close: unread messages and everything incoming are dropped, control frames still count. */
  discard(reason: WebSocketError): void {
    if (this.#is(DISCARDING)) return;
    this.#set(DISCARDING, true);
    this.#release();
    const m = this.#current;
    // The message being read stays readable if it is all here (and needs no decoding).
    const keep = m !== undefined && this.#is(CURRENT_DELIVERED) && !m._done && this.#decoding === undefined ? this.#ahead.lengthThroughFin() : 0;
    if (m !== undefined && keep === 0) {
      if (!m._done) m._error(reason);
      this.#dropCurrent();
      if (!this.#is(CURRENT_DELIVERED)) this.#current = undefined;
    }
    if (this.#ahead !== NO_QUEUE) this.#ahead.truncate(keep);
    this.pumpAhead();
  }

  /** The transport closed: queued messages stay readable, then what was open fails with `lost`. */
  connectionOver(lost: WebSocketError): void {
    this.#set(OVER, true);
    this.#release();
    this.#endAfterQueued(lost);
    this.pumpAhead();
  }

  // ---- the pump ----

  /** Whether routing the next event in order is wanted now. */
  #hasDemand(): boolean {
    const m = this.#current;
    // A new message starts only when someone asks for one.
    if (m === undefined || m._done) return this.#messageWaiter !== undefined;
    if (!this.#is(CURRENT_DELIVERED)) return false;
    return m._wantsData();
  }

  /**
   * Feeds events to consumers while they want them, and parses ahead while they do not.
   * Coalesced and never re-entrant, in the manner of the streams standard's CallPullIfNeeded.
   */
  /**
   * A pump that may read ahead: bytes arrived, input ended, a decoder step finished, or the
   * connection is closing. A pump a consumer asks for (`demand`, `poll`) routes what it asks
   * for only: what had arrived was read ahead when it came, and a reader that keeps up (a pipe
   * asking for the next message as soon as it has sent one) is not made to queue what it is
   * about to take.
   */
  pumpAhead(): void {
    this.#set(AHEAD_ALLOWED, true);
    this.#pump();
  }

  #pump(): void {
    if (this.#is(PUMPING)) {
      this.#set(PUMP_AGAIN, true);
      return;
    }
    this.#set(PUMPING, true);
    try {
      do {
        this.#set(PUMP_AGAIN, false);
        this.#run();
      } while (this.#is(PUMP_AGAIN));
      this.#parts.core._flushControl();
      if (this.#afterPump() && this.#parts.protocol.bufferedAmount > 0) {
        // Reading resumed: what waited unparsed behind the mark is read ahead now.
        this.#set(AHEAD_ALLOWED, true);
        this.#run();
        this.#parts.core._flushControl();
        this.#afterPump();
      }
    } finally {
      this.#set(PUMPING, false);
      this.#set(AHEAD_ALLOWED, false);
    }
  }

  #run(): void {
    const protocol = this.#parts.protocol;
    for (;;) {
      const demand = this.#hasDemand();
      const decoding = this.#decoding;
      if (demand && decoding !== undefined && decoding.hasBacklog) {
        // Decoded events go first, and only as the consumer asks, as they would have come.
        decoding.takeBacklog();
        continue;
      }
      if (!this.#is(BLOCKED) && (demand || this.#mayDecodeAhead())) {
        if (!this.#ahead.isEmpty) {
          this.#routeQueued(this.#takeAhead());
          continue;
        }
        if (!this.#is(OVER) && !this.#is(DISCARDING)) {
          // A message being collected whole takes its payload masked and unmasks it on its
          // way into the message buffer: one pass over the bytes fewer.
          const ev = protocol.nextEvent(this.#takesMasked());
          if (ev === undefined) {
            this.#set(STARVED, true);
            return;
          }
          this.#set(STARVED, false);
          this.#route(ev);
          continue;
        }
      }
      if (this.#current === undefined && !this.#ahead.isEmpty && this.#ahead.peek().type === 'end') {
        // The end, with no message open to fail: nothing to wait for.
        this.#routeQueued(this.#takeAhead());
        continue;
      }
      if (this.#current === undefined && !this.#ahead.isEmpty && startsEncoded(this.#ahead.peek())) {
        // A compressed message may be decoded before anyone asks for it (see #mayDecodeAhead).
        this.#routeQueued(this.#takeAhead());
        continue;
      }
      if (!this.#is(AHEAD_ALLOWED) && !this.#is(DISCARDING)) return;
      const m = this.#current;
      // Handed to a pipe, which takes it up in its next turn and says when that turn is over:
      // reading ahead now would only queue what it is about to take.
      if (m !== undefined && this.#is(DELIVERED_TO_REPORTER) && m._unclaimed && !this.#is(DISCARDING)) return;
      if (!this.#readAhead()) return;
    }
  }

  /** The read-ahead queue holds the receive mark's worth of payload, or of entries. */
  #aheadFull(): boolean {
    const opts = this.#parts.opts;
    return this.#ahead.bytes >= opts.receiveHighWaterMark || this.#ahead.length >= opts.readAheadEntries;
  }

  /** Parses one event nobody asked for yet: data is queued, control frames are acted on. */
  #readAhead(): boolean {
    if (this.#is(OVER)) return false;
    if (!this.#is(DISCARDING) && this.#aheadFull()) return false;
    // Data read ahead stays masked (a server's input): it is unmasked when it is routed, into
    // the buffer of a message collected whole in the same pass (see `#route`).
    const ev = this.#parts.protocol.nextEvent(true);
    if (ev === undefined) {
      this.#set(STARVED, true);
      return false;
    }
    this.#set(STARVED, false);
    switch (ev.type) {
      case 'frame-start':
        if (this.#is(DISCARDING)) return true;
        if (this.#current === undefined && this.#ahead.isEmpty && startsEncoded(ev)) this.#route(ev);
        else this.#queue(ev);
        return true;
      case 'frame-data':
      case 'frame-end':
        if (!this.#is(DISCARDING)) this.#queue(ev);
        return true;
      case 'failed':
        if (this.#is(DISCARDING)) this.#applyFailure(ev.violation);
        else this.#hold(ev);
        return true;
      case 'close':
        this.#parts.core._peerClosed();
        this.#endAfterQueued(new WebSocketError(`The peer closed the connection (${ev.code}) before the message ended`, { closeCode: ev.code, reason: ev.reason, kind: 'CLOSED' }));
        return true;
      default:
        this.#route(ev);
        return true;
    }
  }

  /** The oldest entry read ahead; an emptied queue is let go, to be the spare (an idle connection keeps none). */
  #takeAhead(): ReadAheadEntry {
    const e = this.#ahead.shift();
    if (this.#ahead.isEmpty) {
      releaseQueue(this.#ahead);
      this.#ahead = NO_QUEUE;
    }
    return e;
  }

  #queue(e: ReadAheadEntry): void {
    if (this.#ahead === NO_QUEUE) this.#ahead = takeQueue();
    this.#ahead.push(e);
  }

  /**
   * A failure found behind unread data: queued in wire order. Its close frame waits until the
   * consumer asks past the messages before it, so that its answers to them go out first, but
   * no longer than `closeTimeout`.
   */
  #hold(ev: Extract<ReadAheadEntry, { type: 'failed' }>): void {
    this.#queue(ev);
    const { clock, closeTimeout } = this.#parts.opts;
    this.#held = { violation: ev.violation, timer: clock.setTimeout(() => this.#holdExpired(), closeTimeout) };
  }

  #holdExpired(): void {
    const held = this.#held;
    if (held === undefined) return;
    this.#held = undefined;
    this.#parts.core._failed(held.violation);
  }

  /** Lets a held close frame go (the failure was reached, or the connection is closing anyway). */
  #release(): void {
    const held = this.#held;
    if (held === undefined) return;
    this.#held = undefined;
    this.#parts.opts.clock.clearTimeout(held.timer);
  }

  /** Where input ended (the peer's close): in order, behind what is queued. */
  #endAfterQueued(error: WebSocketError): void {
    // A message still being decoded, or not handed out yet, may yet complete: after it.
    if (this.#ahead.isEmpty && !this.#is(BLOCKED) && !this.#hasBacklog() && (this.#current === undefined || this.#is(CURRENT_DELIVERED))) this.#end(error);
    else this.#queue({ type: 'end', error });
  }

  /** Nothing more comes: the message still open fails with `error`. */
  #end(error: WebSocketError): void {
    const m = this.#current;
    if (m !== undefined && !m._done) m._error(error);
    this.#dropCurrent();
  }

  #routeQueued(e: ReadAheadEntry): void {
    if (e.type === 'end') {
      this.#end(e.error);
      return;
    }
    if (e.type === 'failed') {
      const held = this.#held !== undefined;
      this.#release();
      this.#failMessage(e.violation);
      if (held) this.#parts.core._failed(e.violation);
      return;
    }
    this.#route(e);
  }

  /** The current message is collected whole and needs no decoding: it may take its payload masked. */
  #takesMasked(): boolean {
    const m = this.#current;
    return m !== undefined && this.#decoding === undefined && m._collecting();
  }

  #route(ev: ProtocolEvent): void {
    switch (ev.type) {
      case 'frame-start': {
        if (ev.first) {
          const opts = this.#parts.opts;
          const ext = ev.encoded ? this.#parts.extensions.find((e) => (e.rsvBits & ev.messageRsv) !== 0) : undefined;
          const decoder = ext?.createDecoder(ev.messageRsv, Math.min(opts.maxMessageSize, Number.MAX_SAFE_INTEGER));
          this.#decoding = decoder === undefined ? undefined : new MessageDecoding(this, decoder,
            ev.messageOpcode === Opcode.Text ? new Utf8Validator(this.#parts.runtime.isUtf8) : undefined);
          const msg = new IncomingMessage(ev.header, ev.messageOpcode, ev.encoded, this);
          this.#current = msg;
          const w = this.#messageWaiter;
          this.#set(CURRENT_DELIVERED, w !== undefined);
          this.#set(DELIVERED_TO_REPORTER, w?.reportsTurns === true);
          this.#messageWaiter = undefined;
          w?.resolve(msg);
        }
        this.#set(IN_FRAME, true);
        this.#current!._frameStart(ev.header);
        return;
      }
      case 'frame-data': {
        // Still masked when asked for so (a collected message) or when read ahead: a consumer
        // that takes plain bytes (a stream, a pipe, a decoder) gets it unmasked here.
        if (ev.maskKey !== undefined) {
          if (this.#takesMasked()) {
            this.#current!._maskedData(ev.data, ev.maskKey, ev.maskPhase!);
            return;
          }
          maskInPlace(ev.data, ev.maskKey, ev.maskPhase!);
        }
        const d = this.#decoding;
        if (d === undefined) this.#current!._data(ev.data);
        else d.data(ev.data);
        return;
      }
      case 'frame-end': {
        this.#set(IN_FRAME, false);
        const d = this.#decoding;
        if (d === undefined) this.endFrame(ev.fin);
        else d.end(ev.fin);
        return;
      }
      case 'ping': {
        // A peer that keeps pinging while our writes to it wait for a drain (its pongs among
        // them, coalesced) does not read what it asks for. Counted from the last drain.
        const core = this.#parts.core;
        if (!core._writeBehind) this.#pingsWhileBehind = 0;
        else if (++this.#pingsWhileBehind > MAX_PINGS_WHILE_BEHIND) {
          this.fail(new ProtocolViolation(CloseCode.PolicyViolation, 'PING_FLOOD',
            `More than ${MAX_PINGS_WHILE_BEHIND} pings while the peer does not read its pongs`));
          return;
        }
        core.onPing?.(ev.data);
        return;
      }
      case 'pong':
        this.#parts.core._pongReceived(ev.data);
        return;
      case 'control':
        this.#parts.core.onControlFrame?.(ev.opcode, ev.rsv, ev.data);
        return;
      case 'close':
        this.#parts.core._peerClosed();
        this.#end(new WebSocketError(`The peer closed the connection (${ev.code}) before the message ended`, { closeCode: ev.code, reason: ev.reason, kind: 'CLOSED' }));
        return;
      case 'failed':
        this.#applyFailure(ev.violation);
        return;
    }
  }

  /** `DecodingHost` too: the end of a frame, in order. */
  endFrame(fin: boolean): void {
    if (fin && this.#decoding !== undefined && this.#decoding.endsInsideUtf8()) {
      this.fail(new ProtocolViolation(CloseCode.InvalidPayload, 'INVALID_UTF8', 'Text message ends inside a UTF-8 sequence'));
      return;
    }
    const m = this.#current!;
    m._frameEnd(fin);
    if (fin) {
      this.#decoding = undefined;
      if (this.#is(CURRENT_DELIVERED)) this.#current = undefined;
    }
  }

  // ---- failing ----

  /** Fails the connection for `v`, found now in wire order (after a decoder, after inflate). */
  fail(v: ProtocolViolation): void {
    this.#parts.protocol.fail(v);
    this.#applyFailure(this.#parts.protocol.failure ?? v);
  }

  /** A failure reached in order: the open message fails, later input is dropped, the close goes. */
  #applyFailure(v: ProtocolViolation): void {
    this.#release();
    this.#failMessage(v);
    this.#parts.core._failed(v);
  }

  #failMessage(v: ProtocolViolation): void {
    const m = this.#current;
    if (m !== undefined && !m._done) m._error(new WebSocketError(v.message, { closeCode: v.closeCode, reason: v.message, kind: v.kind, cause: v }));
    this.#dropCurrent();
    // Nothing after a failure is processed (RFC 6455 §7.1.7).
    this.#ahead.clear();
  }

  #dropCurrent(): void {
    this.#decoding?.dispose();
    this.#decoding = undefined;
    this.#set(IN_FRAME, false);
    if (this.#current !== undefined && this.#current._done) this.#current = undefined;
  }

  /** Decoded events of the current message wait for its consumer. */
  #hasBacklog(): boolean {
    return this.#decoding !== undefined && this.#decoding.hasBacklog;
  }

  /**
   * Whether the next event may be decoded before the consumer asks for it: only the data and
   * end of the frame being received, of a message an extension decodes, while its backlog has room.
   */
  #mayDecodeAhead(): boolean {
    const m = this.#current;
    const d = this.#decoding;
    return this.#is(IN_FRAME) && d !== undefined && m !== undefined && !m._done && d.mayDecodeAhead;
  }

  // ---- after each pump ----

  #noMoreMessages(): boolean {
    const m = this.#current;
    if (!this.#ahead.isEmpty || (m !== undefined && (!m._done || !this.#is(CURRENT_DELIVERED)))) return false;
    return this.#is(OVER) || this.#is(DISCARDING) || this.#parts.protocol.state !== ReadyState.Open;
  }

  /** Settles waiters, pauses or resumes the transport (true when it resumed), notices the end of input. */
  #afterPump(): boolean {
    const w = this.#messageWaiter;
    if (w !== undefined && this.#noMoreMessages()) {
      this.#messageWaiter = undefined;
      w.resolve(undefined);
    }
    if (this.#is(OVER)) {
      // Everything queued before the end was read (or dropped): the decoders may go.
      if (!this.#is(OVER_REPORTED) && this.#ahead.isEmpty && !this.#is(BLOCKED) && (this.#current === undefined || this.#current._done)) {
        this.#set(OVER_REPORTED, true);
        this.#parts.core._inboundOver();
      }
      return false;
    }
    const opts = this.#parts.opts;
    let resumed = false;
    const held = this.#parts.protocol.bufferedAmount + this.#ahead.bytes;
    const entries = this.#ahead.length;
    const maxEntries = opts.readAheadEntries;
    // Pause at the mark (of bytes, or of entries read ahead), resume only once half of it has
    // been consumed: resuming as soon as one chunk is taken flipped the socket between paused
    // and flowing on every chunk of a large message. After a local close nothing is held for
    // anyone: never pause.
    if (!this.#is(DISCARDING) && (held >= opts.receiveHighWaterMark || entries >= maxEntries)) {
      if (!this.#is(PAUSED)) {
        this.#set(PAUSED, true);
        this.#parts.transport.pause();
      }
    } else if (this.#is(PAUSED) && (this.#is(DISCARDING) || (held <= opts.receiveHighWaterMark / 2 && entries <= maxEntries / 2))) {
      this.#set(PAUSED, false);
      this.#parts.transport.resume();
      resumed = true;
    }
    // Input is over and nothing parseable is left: nothing more can arrive.
    if (this.#is(INPUT_ENDED) && this.#is(STARVED) && !this.#is(BLOCKED) && !this.#hasBacklog() && !this.#is(INPUT_OVER_REPORTED)) {
      this.#set(INPUT_OVER_REPORTED, true);
      this.#parts.core._inputOver();
    }
    return resumed;
  }
}
