import { constants, type Http2Stream } from 'node:http2';
import { SocketTransport, type SocketTransportOptions } from './socket-transport';

/**
 * The HTTP/2 stream was reset by the peer (RST_STREAM), or its session went away, before the
 * WebSocket closing handshake ended it. `code` is the HTTP/2 error code (RFC 9113 §7):
 * 8 (`CANCEL`) is how RFC 8441 §5 says an endpoint aborts a WebSocket.
 */
class Http2StreamResetError extends Error {
  override readonly name = 'Http2StreamResetError';
  readonly code: number;
  constructor(code: number) {
    super(`The HTTP/2 stream was reset with error code ${code}${code === constants.NGHTTP2_CANCEL ? ' (CANCEL)' : ''}`);
    this.code = code;
  }
}

/**
 * A `ByteTransport` over one HTTP/2 stream of a session (RFC 8441): a WebSocket opened with
 * an extended CONNECT. It is a `SocketTransport` (the stream is a duplex with the same
 * read, write, pause and half-close semantics), with the two ways a stream ends that RFC 8441
 * §5 names: `end()` sends END_STREAM, the orderly close that stands for TCP's FIN, and
 * `destroy()` resets the stream with RST_STREAM `CANCEL`, which stands for a TCP reset. Either
 * way only this stream ends: the session and its other streams go on.
 *
 * Backpressure is HTTP/2 flow control: while the connection does not read, node stops
 * acknowledging this stream's data (no WINDOW_UPDATE), so the peer stops sending on it once
 * its window is used up; our writes wait in the stream while the peer's window is closed, and
 * `write()` returns false once the sending high-water mark is reached, as on a socket.
 *
 * @example
 * ```ts
 * server.on('stream', (stream) => {
 *   stream.respond({ ':status': 200 });
 *   const conn = new Connection(new Http2StreamTransport(stream), { role: 'server', runtime: nodeRuntime });
 * });
 * ```
 */
export class Http2StreamTransport extends SocketTransport {
  readonly #stream: Http2Stream;
  /** We reset the stream ourselves: the reset is no error to report. */
  #resetByUs = false;
  /** The stream closed: its end, if still to be reported, is not. */
  #closeSeen = false;

  constructor(stream: Http2Stream, options: SocketTransportOptions = {}) {
    super(stream, options);
    this.#stream = stream;
  }

  /** Resets the stream with RST_STREAM `CANCEL` (RFC 8441 §5), discarding what is queued. */
  override destroy(): void {
    const stream = this.#stream;
    if (stream.destroyed || stream.closed) return;
    this.#resetByUs = true;
    stream.close(constants.NGHTTP2_CANCEL);
  }

  /**
   * @internal The peer's END_STREAM, reported one turn later. node ends the readable side of a
   * stream the peer reset before it says so ('aborted', then 'close' with the code): reported
   * at once, the end would make the connection reset the stream itself and take the reset
   * for its own.
   */
  override _onEnd(): void {
    setImmediate(() => {
      if (!this.#closeSeen) super._onEnd();
    });
  }

  /** @internal A stream the peer reset (or a session that died) ends with an error, as a TCP reset does. */
  override _onClose(): void {
    this.#closeSeen = true;
    const code = this.#stream.rstCode;
    if (!this.#resetByUs && code !== undefined && code !== constants.NGHTTP2_NO_ERROR) this._onError(new Http2StreamResetError(code));
    super._onClose();
  }
}
