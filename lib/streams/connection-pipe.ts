import { CloseCode } from '../codec/constants';
import type { IncomingMessage } from './incoming-message';
import type { OutgoingMessage } from './outgoing';

const resolved = Promise.resolve();
const noop = (): void => undefined;

/**
 * Pipes to resume in the next microtask: one reaction on a settled promise for all of them
 * (node's queueMicrotask costs an AsyncResource and a bind), and no closure per pipe.
 */
let toResume: ConnectionPipe[] = [];
function resumeAll(): void {
  const list = toResume;
  toResume = [];
  for (let i = 0; i < list.length; i++) list[i]!._resume();
}

/** What the pipe did to the destination writable at its end, for a writable rebuilt later. */
export type WritableOutcome = { readonly closed: true } | { readonly closed: false; readonly error: unknown };

/** A connection's stream facade, as a pipe between two of them sees it (see `ConnectionStreams`). */
export interface PipeEnd {
  /** The reader's turn with `m` is over (see `MessageWaiter.reportsTurns`). */
  readerTurnEnded(m: IncomingMessage | undefined): void;
  /** The next message, `undefined` at the end, or `null`: then `waiter.resolve` is called later. */
  pollMessage(waiter: ConnectionPipe): IncomingMessage | undefined | null;
  /** Sends a piped message: `undefined` when it was sent whole at once, else the promise to wait for. */
  sendPiped(msg: IncomingMessage): Promise<void> | undefined;
  /** What closing the writable does to the connection. */
  writableClosed(): void;
  /** What aborting the writable does to the connection. */
  writableAborted(): void;
  /** Cancels the readable's source: closes the connection. */
  cancelSource(code: number, reason: string): void;
  outPipeEnded(): void;
  inPipeEnded(outcome: WritableOutcome | undefined): void;
}

/**
 * `source.readable.pipeTo(target.writable)` between two connections (an echo server, a proxy):
 * the loop of `for (m of source) await target.send(m)` without a stream read and write nor a
 * promise per message. A message already received is taken at once, one forwarded whole at
 * once is not waited for, and waiting for the next message is this object's `resolve`, resumed
 * in a microtask (as a promise would resume it).
 *
 * The pipe locks both streams as the standard pipeTo does, but holds its reader and writer
 * weakly: an idle echo connection would otherwise keep two WHATWG streams, a reader and a
 * writer alive (about 8 KB in Node) that nobody can use while they are locked. Whoever holds
 * a stream (the user, or the connection once one of the stream's algorithms ran) keeps it and
 * its lock alive; a stream nobody holds is unobservable, so the pipe then applies its close
 * or abort to the connection directly, and the connection rebuilds a stream in that state if
 * one is asked for later.
 */
export class ConnectionPipe {
  /** A pipe takes each message up in its own turn, and says when that turn is over. */
  readonly reportsTurns = true;
  /** Settles as the standard pipeTo's promise does. */
  readonly promise: Promise<void>;
  readonly #source: PipeEnd;
  readonly #target: PipeEnd;
  readonly #preventClose: boolean;
  readonly #preventAbort: boolean;
  readonly #preventCancel: boolean;
  #reader: WeakRef<ReadableStreamDefaultReader<IncomingMessage>>;
  #writer: WeakRef<WritableStreamDefaultWriter<OutgoingMessage>>;
  #resolvePromise!: () => void;
  #rejectPromise!: (err: unknown) => void;
  #settled = false;
  #arrived: IncomingMessage | undefined;
  #outcome: WritableOutcome | undefined;
  // Made on first use: an idle pipe allocates none of them.
  #onSent: (() => void) | undefined;
  #onSendFailed: ((err: unknown) => void) | undefined;

  constructor(
    source: PipeEnd,
    target: PipeEnd,
    reader: ReadableStreamDefaultReader<IncomingMessage>,
    writer: WritableStreamDefaultWriter<OutgoingMessage>,
    options: StreamPipeOptions,
  ) {
    this.#source = source;
    this.#target = target;
    this.#preventClose = options.preventClose === true;
    this.#preventAbort = options.preventAbort === true;
    this.#preventCancel = options.preventCancel === true;
    this.#reader = new WeakRef(reader);
    this.#writer = new WeakRef(writer);
    this.promise = new Promise<void>((resolve, reject) => {
      this.#resolvePromise = resolve;
      this.#rejectPromise = reject;
    });
  }

  /** Takes the first message (or starts waiting for it). */
  start(): void {
    this.#next();
  }

  /** A readable rebuilt during the pipe is locked again by this reader. */
  adoptReader(reader: ReadableStreamDefaultReader<IncomingMessage>): void {
    this.#reader = new WeakRef(reader);
  }

  /** A writable rebuilt during the pipe is locked again by this writer. */
  adoptWriter(writer: WritableStreamDefaultWriter<OutgoingMessage>): void {
    this.#writer = new WeakRef(writer);
  }

  /** The source's message waiter: the next message, or `undefined` at its end. */
  resolve(m: IncomingMessage | undefined): void {
    this.#arrived = m;
    if (toResume.push(this) === 1) void resolved.then(resumeAll);
  }

  /** @internal Resumed in a microtask, as a promise would resume it. */
  _resume(): void {
    const m = this.#arrived;
    this.#arrived = undefined;
    try {
      this.#pipe(m);
    } catch (err) {
      this.#done(err);
    }
    this.#source.readerTurnEnded(m);
  }

  #next(): void {
    try {
      this.#pipe(this.#source.pollMessage(this));
    } catch (err) {
      this.#done(err);
    }
  }

  #pipe(first: IncomingMessage | undefined | null): void {
    for (let m = first; m !== null; m = this.#source.pollMessage(this)) {
      if (m === undefined) {
        this.#ended();
        return;
      }
      let sent: Promise<void> | undefined;
      try {
        sent = this.#target.sendPiped(m);
      } catch (err) {
        this.#failed(err);
        return;
      }
      if (sent !== undefined) {
        sent.then(this.#onSent ??= () => this.#next(), this.#onSendFailed ??= (err: unknown) => this.#failed(err));
        return;
      }
    }
  }

  #failed(err: unknown): void {
    if (!this.#preventCancel) this.#source.cancelSource(CloseCode.InternalError, 'Pipe destination failed');
    if (!this.#preventAbort) {
      const writer = this.#writer.deref();
      if (writer !== undefined) {
        void writer.abort(err).catch(noop);
      } else {
        // What aborting the (collected) writable would have done.
        this.#target.writableAborted();
        this.#outcome = { closed: false, error: err };
      }
    }
    this.#done(err);
  }

  #ended(): void {
    if (this.#preventClose) {
      this.#done();
      return;
    }
    const writer = this.#writer.deref();
    if (writer !== undefined) {
      writer.close().then(() => this.#done(), (err: unknown) => this.#done(err));
      return;
    }
    // What closing the (collected) writable would have done; it was never used, so its
    // close could not have failed.
    this.#target.writableClosed();
    this.#outcome = { closed: true };
    void resolved.then(() => this.#done());
  }

  #done(err?: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#reader.deref()?.releaseLock();
    this.#writer.deref()?.releaseLock();
    this.#source.outPipeEnded();
    this.#target.inPipeEnded(this.#outcome);
    if (err === undefined) this.#resolvePromise();
    else this.#rejectPromise(err);
  }
}
