import { HandshakeError } from '../handshake/errors';
import { wireCloseCode, type MessageSocket, type SocketEnd, type SocketFailure, type WireMessage } from './message-socket';
import type { ResolvedBrowserOptions } from './browser-options';
import type { WebSocketStreamClass, WebSocketStreamLike, WebSocketStreamOpen } from './web-socket-stream';

const noop = (): void => undefined;

/**
 * A `MessageSocket` over `WebSocketStream`: backpressure both ways, as the browser gives it.
 * A message is read from the browser only when the connection asks for one, so a page that
 * does not read stops the browser reading the socket (and TCP stops the peer); `send()`
 * resolves when the browser's writer has taken the message.
 */
export class StreamSocket implements MessageSocket {
  readonly implementation = 'WebSocketStream';
  /** Settles with the opening handshake: a `HandshakeError` if the browser could not open it. */
  readonly opened: Promise<void>;
  readonly ended: Promise<SocketEnd>;
  readonly #wss: WebSocketStreamLike;
  #open: WebSocketStreamOpen | undefined;
  #reader: ReadableStreamDefaultReader<string | Uint8Array | ArrayBuffer> | undefined;
  #writer: WritableStreamDefaultWriter<string | BufferSource> | undefined;
  #unsent = 0;
  #closing = false;
  #ended = false;
  #draining = false;
  #failure: SocketFailure | undefined;

  constructor(WebSocketStream: WebSocketStreamClass, url: string, opts: ResolvedBrowserOptions, signal: AbortSignal | undefined) {
    const wss = (this.#wss = new WebSocketStream(url, { protocols: opts.protocols, signal }));
    this.opened = wss.opened.then(
      (open) => {
        this.#open = open;
        this.#reader = open.readable.getReader();
        this.#writer = open.writable.getWriter();
      },
      (err: unknown) => {
        throw new HandshakeError('CONNECTION_FAILED', `The browser could not open ${url} (it does not say why: refused, an HTTP status, a failed handshake)`, { cause: err });
      },
    );
    this.ended = wss.closed.finally(() => (this.#ended = true)).then(
      (info): SocketEnd => ({ wasClean: true, code: info.closeCode ?? 1005, reason: info.reason ?? '' }),
      (err: unknown): SocketEnd => {
        const e = err as { closeCode?: number; reason?: string };
        return { wasClean: false, code: e?.closeCode ?? 1006, reason: e?.reason ?? '', error: err instanceof Error ? err : new Error(String(err)) };
      },
    );
  }

  get protocol(): string {
    return this.#open?.protocol ?? '';
  }
  get extensions(): string {
    return this.#open?.extensions ?? '';
  }
  get bufferedAmount(): number {
    return this.#unsent;
  }
  get closing(): boolean {
    return this.#closing || this.#ended;
  }
  get failure(): SocketFailure | undefined {
    return this.#failure;
  }

  send(data: WireMessage): Promise<void> {
    const size = typeof data === 'string' ? data.length : data.byteLength;
    this.#unsent += size;
    return this.#writer!.write(data).finally(() => (this.#unsent -= size));
  }

  async receive(): Promise<WireMessage | undefined> {
    if (this.#closing) return undefined;
    try {
      const r = await this.#reader!.read();
      if (r.done || this.#closing) return undefined;
      const v = r.value;
      return typeof v === 'string' ? v : v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(v.buffer as ArrayBuffer, v.byteOffset, v.byteLength);
    } catch {
      return undefined; // the end, reported by `ended`
    }
  }

  close(code?: number, reason?: string): void {
    this.#closing = true;
    this.#wss.close(code === undefined ? undefined : { closeCode: code, reason });
    this.#drain();
  }

  fail(failure: SocketFailure): void {
    if (this.#failure !== undefined || this.#closing) return;
    this.#failure = failure;
    this.close(wireCloseCode(failure.code), failure.reason);
  }

  /**
   * After close(), reads and drops what still arrives: the peer's close frame may be behind
   * messages nobody will read, and a stream nobody reads would hold it back (the closing
   * handshake would then wait for the browser's timeout).
   */
  #drain(): void {
    const reader = this.#reader;
    if (this.#draining || reader === undefined) return;
    this.#draining = true;
    const next = (): void => void reader.read().then((r) => (r.done ? undefined : next()), noop);
    next();
  }
}
