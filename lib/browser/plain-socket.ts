import { CloseCode } from '../codec/constants';
import { HandshakeError } from '../handshake/errors';
import { BUFFERED_AMOUNT_POLL_MS, type ResolvedBrowserOptions } from './browser-options';
import { heldSize, wireCloseCode, type MessageSocket, type SocketEnd, type SocketFailure, type WireMessage } from './message-socket';

/** Each queued message counts at least this much, so a flood of empty messages is bounded too (as `Connection`'s read-ahead entries). */
const MIN_ENTRY_SIZE = 64;

/**
 * A `MessageSocket` over the plain `WebSocket`, where `WebSocketStream` is missing. It has no
 * backpressure of its own: on send, `bufferedAmount` is polled against `sendHighWaterMark`;
 * on receive, the browser delivers every message as it arrives whether or not anyone reads,
 * so messages wait here, at most `maxReceiveBuffer` bytes of them: one more fails the
 * connection with 1009 rather than grow without bound.
 */
export class PlainSocket implements MessageSocket {
  readonly implementation = 'WebSocket';
  readonly ended: Promise<SocketEnd>;
  /** Settles with the opening handshake: a `HandshakeError` if the browser could not open it. */
  readonly opened: Promise<void>;
  readonly #ws: WebSocket;
  readonly #opts: ResolvedBrowserOptions;
  readonly #queue: WireMessage[] = [];
  #queued = 0;
  #waiter: ((m: WireMessage | undefined) => void) | undefined;
  #over = false;
  #error: Error | undefined;
  #failure: SocketFailure | undefined;

  /** Opens the socket; `opened` settles with the handshake. */
  constructor(url: string, opts: ResolvedBrowserOptions) {
    this.#opts = opts;
    const ws = (this.#ws = new WebSocket(url, opts.protocols));
    ws.binaryType = 'arraybuffer';
    let resolveEnded!: (end: SocketEnd) => void;
    this.ended = new Promise((r) => (resolveEnded = r));
    this.opened = new Promise((resolve, reject) => {
      ws.onopen = () => resolve();
      ws.onerror = () => {
        this.#error ??= new Error('The browser reported a WebSocket error (it does not say which)');
        reject(new HandshakeError('CONNECTION_FAILED', `The browser could not open ${url} (it does not say why: refused, an HTTP status, a failed handshake)`));
      };
      ws.onclose = (e) => {
        reject(new HandshakeError('CONNECTION_FAILED', `The browser could not open ${url} (closed with ${e.code})`));
        this.#over = true;
        this.#wake();
        resolveEnded(this.#error === undefined
          ? { wasClean: e.wasClean, code: e.code, reason: e.reason }
          : { wasClean: e.wasClean, code: e.code, reason: e.reason, error: this.#error });
      };
    });
    ws.onmessage = (e: MessageEvent<string | ArrayBuffer>) => this.#received(typeof e.data === 'string' ? e.data : new Uint8Array(e.data));
  }

  get protocol(): string {
    return this.#ws.protocol;
  }
  get extensions(): string {
    return this.#ws.extensions;
  }
  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }
  get closing(): boolean {
    return this.#ws.readyState >= WebSocket.CLOSING;
  }
  get failure(): SocketFailure | undefined {
    return this.#failure;
  }

  /** Gives up opening (an aborted `connect()`). */
  abort(): void {
    this.#ws.close();
  }

  send(data: WireMessage): Promise<void> {
    // Throws InvalidStateError once closing; the connection checks its state first.
    this.#ws.send(data);
    if (this.#ws.bufferedAmount <= this.#opts.sendHighWaterMark) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        // A closed socket sends nothing more: bufferedAmount then never drops (WebSockets
        // Standard), and nothing waits for it.
        if (this.#ws.bufferedAmount <= this.#opts.sendHighWaterMark || this.#ws.readyState >= WebSocket.CLOSING) resolve();
        else setTimeout(check, BUFFERED_AMOUNT_POLL_MS);
      };
      setTimeout(check, BUFFERED_AMOUNT_POLL_MS);
    });
  }

  receive(): Promise<WireMessage | undefined> {
    const m = this.#queue.shift();
    if (m !== undefined) {
      this.#queued -= Math.max(heldSize(m), MIN_ENTRY_SIZE);
      return Promise.resolve(m);
    }
    if (this.#over) return Promise.resolve(undefined);
    return new Promise((resolve) => (this.#waiter = resolve));
  }

  close(code?: number, reason?: string): void {
    this.#drop();
    if (code === undefined) this.#ws.close();
    else this.#ws.close(code, reason);
  }

  fail(failure: SocketFailure): void {
    if (this.#failure !== undefined || this.#ws.readyState >= WebSocket.CLOSING) return;
    this.#failure = failure;
    this.#drop();
    this.#ws.close(wireCloseCode(failure.code), failure.reason);
  }

  #received(m: WireMessage): void {
    if (this.#over) return; // after close() or a failure: discarded
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#waiter = undefined;
      waiter(m);
      return;
    }
    this.#queue.push(m);
    this.#queued += Math.max(heldSize(m), MIN_ENTRY_SIZE);
    if (this.#queued > this.#opts.maxReceiveBuffer) {
      this.fail({
        code: CloseCode.MessageTooBig,
        reason: `Over ${this.#opts.maxReceiveBuffer} bytes of messages received and not read`,
      });
    }
  }

  /** Unread messages go, and so does whatever still arrives. */
  #drop(): void {
    this.#over = true;
    this.#queue.length = 0;
    this.#queued = 0;
    this.#wake();
  }

  #wake(): void {
    if (this.#queue.length > 0) return;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.(undefined);
  }
}
