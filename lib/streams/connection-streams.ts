import { CloseCode } from '../codec/constants';
import { ConnectionPipe, type PipeEnd, type WritableOutcome } from './connection-pipe';
import type { IncomingMessage } from './incoming-message';
import type { MessageWaiter } from './inbound';
import type { OutgoingMessage } from './outgoing';
import { streamClasses } from './stream-classes';

// Bits of the `#flags` field (see the class).
const READABLE_USED = 1 << 0;
const WRITABLE_USED = 1 << 1;

const noop = (): void => undefined;

/** What the stream facade needs from its connection. */
export interface StreamsOwner {
  nextMessage(): Promise<IncomingMessage | undefined>;
  /** @internal */
  _pollMessage(waiter: MessageWaiter): IncomingMessage | undefined | null;
  /** @internal */
  _readerTurnEnded(m: IncomingMessage | undefined): void;
  /** @internal */
  _sendPiped(msg: IncomingMessage): Promise<void> | undefined;
  /** @internal */
  _sendFromWritable(msg: OutgoingMessage): Promise<void>;
  /** @internal Starts the closing handshake; errors (a closed connection) are reported by `closed`. */
  _closeQuietly(code: number, reason?: string): void;
}

/** Which facade owns a `writable`: lets `readable.pipeTo()` between connections skip stream plumbing. */
const writableOwners = new WeakMap<WritableStream<OutgoingMessage>, ConnectionStreams>();

/**
 * A connection's `readable` and `writable`, made on first use, and the `pipeTo` fast path
 * between two connections (`ConnectionPipe`).
 *
 * While a pipe runs, the streams it locked and never used are held weakly (an idle echo
 * connection would otherwise keep two streams, a reader and a writer, about 8 KB in Node):
 * whoever holds a stream keeps it; one nobody holds is unobservable, and is rebuilt in the
 * state the pipe left it in if it is asked for again.
 */
export class ConnectionStreams implements PipeEnd {
  readonly #owner: StreamsOwner;
  #readable: ReadableStream<IncomingMessage> | undefined;
  #writable: WritableStream<OutgoingMessage> | undefined;
  /** The readable while a pipe out of it holds it weakly. */
  #readableRef: WeakRef<ReadableStream<IncomingMessage>> | undefined;
  #writableRef: WeakRef<WritableStream<OutgoingMessage>> | undefined;
  /** The boolean states (the accessors among these fields), one bit each: one field instead of 2, for idle connections are many. */
  #flags = 0;
  /** One of the stream's algorithms ran: a pipe may not let it go. */
  get #readableUsed(): boolean { return (this.#flags & READABLE_USED) !== 0; }
  set #readableUsed(on: boolean) { this.#flags = on ? this.#flags | READABLE_USED : this.#flags & ~READABLE_USED; }
  get #writableUsed(): boolean { return (this.#flags & WRITABLE_USED) !== 0; }
  set #writableUsed(on: boolean) { this.#flags = on ? this.#flags | WRITABLE_USED : this.#flags & ~WRITABLE_USED; }
  /** How a pipe left a writable that was collected, for the one rebuilt in its place. */
  #writableOutcome: WritableOutcome | undefined;
  /** The pipe out of `readable`, and the one into `writable`, while they run. */
  #outPipe: ConnectionPipe | undefined;
  #inPipe: ConnectionPipe | undefined;

  constructor(owner: StreamsOwner) {
    this.#owner = owner;
  }

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

  get writable(): WritableStream<OutgoingMessage> {
    if (this.#writable) return this.#writable;
    const held = this.#writableRef?.deref();
    if (held !== undefined) return held;
    const outcome = this.#writableOutcome;
    const ws = outcome === undefined ? this.#makeWritable() : rebuiltWritable(outcome);
    writableOwners.set(ws, this);
    const pipe = this.#inPipe;
    if (pipe !== undefined) {
      pipe.adoptWriter(ws.getWriter());
      this.#writableRef = new WeakRef(ws);
    } else {
      this.#writableRef = undefined;
      this.#writable = ws;
    }
    return ws;
  }

  #makeReadable(): ReadableStream<IncomingMessage> {
    const rs = new (streamClasses().ReadableStream)<IncomingMessage>(
      {
        pull: (c) => {
          this.#pinReadable();
          return this.#owner.nextMessage().then((m) => {
            if (m) c.enqueue(m);
            else c.close();
          });
        },
        cancel: () => {
          this.#pinReadable();
          this.#owner._closeQuietly(CloseCode.Normal);
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
        return this.#pipeTo(rs, dest as WritableStream<OutgoingMessage>, target, options);
      },
    });
    return rs;
  }

  #makeWritable(): WritableStream<OutgoingMessage> {
    return new (streamClasses().WritableStream)<OutgoingMessage>(
      {
        write: (msg) => {
          this.#pinWritable();
          return this.#owner._sendFromWritable(msg);
        },
        close: () => {
          this.#pinWritable();
          this.writableClosed();
        },
        abort: () => {
          this.#pinWritable();
          this.writableAborted();
        },
      },
      { highWaterMark: 1 },
    );
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

  #pipeTo(rs: ReadableStream<IncomingMessage>, dest: WritableStream<OutgoingMessage>, target: ConnectionStreams, options: StreamPipeOptions): Promise<void> {
    const pipe = new ConnectionPipe(this, target, rs.getReader(), dest.getWriter(), options);
    this.#outPipe = pipe;
    target.#inPipe = pipe;
    // Locked and never used, neither stream can change until the pipe ends: the pipe and the
    // connections hold them weakly, the user may hold them strongly.
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

  // ---- PipeEnd ----

  pollMessage(waiter: ConnectionPipe): IncomingMessage | undefined | null {
    return this.#owner._pollMessage(waiter);
  }

  readerTurnEnded(m: IncomingMessage | undefined): void {
    this.#owner._readerTurnEnded(m);
  }

  sendPiped(msg: IncomingMessage): Promise<void> | undefined {
    return this.#owner._sendPiped(msg);
  }

  writableClosed(): void {
    this.#owner._closeQuietly(CloseCode.Normal);
  }

  writableAborted(): void {
    this.#owner._closeQuietly(CloseCode.InternalError, 'Sender aborted');
  }

  cancelSource(code: number, reason: string): void {
    this.#owner._closeQuietly(code, reason);
  }

  outPipeEnded(): void {
    this.#outPipe = undefined;
    if (this.#readableRef === undefined) return;
    this.#readable = this.#readableRef.deref();
    this.#readableRef = undefined;
  }

  inPipeEnded(outcome: WritableOutcome | undefined): void {
    this.#inPipe = undefined;
    if (this.#writableRef === undefined) return;
    this.#writable = this.#writableRef.deref();
    this.#writableRef = undefined;
    if (this.#writable === undefined) this.#writableOutcome = outcome;
  }
}

/**
 * A writable in the state a pipe left the collected one in: closed, or errored with the pipe's
 * error. Nothing written to it reaches the connection, as nothing would have.
 */
function rebuiltWritable(outcome: WritableOutcome): WritableStream<OutgoingMessage> {
  const ws = new (streamClasses().WritableStream)<OutgoingMessage>({}, { highWaterMark: 1 });
  if (outcome.closed) {
    const w = ws.getWriter();
    void w.close();
    w.releaseLock();
  } else {
    void ws.abort(outcome.error).catch(noop);
  }
  return ws;
}
