import { HandshakeError } from '../handshake/errors';
import { BrowserConnection } from './browser-connection';
import { resolveBrowserOptions, type BrowserConnectOptions } from './browser-options';
import { PlainSocket } from './plain-socket';
import { StreamSocket } from './stream-socket';
import { webSocketStreamClass } from './web-socket-stream';
import { whenAborted } from '../streams/abort';

const aborted = (signal: AbortSignal): HandshakeError =>
  new HandshakeError('ABORTED', 'The WebSocket handshake was aborted', { cause: signal.reason });

/**
 * Opens a WebSocket connection with the browser's own API and resolves once it is open, with
 * the stream tier's surface (see `BrowserConnection`). Uses `WebSocketStream` where the
 * browser has it (real backpressure both ways), else `WebSocket`.
 *
 * Rejects with a `HandshakeError`: `'CONNECTION_FAILED'` when the browser could not open it
 * (it never says why: a refusal's HTTP status is not visible to script), `'ABORTED'` when
 * `options.signal` aborted first. An invalid URL or option throws the browser's `SyntaxError`
 * or our `RangeError`/`TypeError` at once.
 *
 * @example
 * ```ts
 * import { connect } from 'websocket-streams/browser';
 * const conn = await connect('wss://example.com/chat', { protocols: ['chat.v1'], signal: AbortSignal.timeout(10_000) });
 * ```
 */
export async function connect(url: string | URL, options: BrowserConnectOptions = {}): Promise<BrowserConnection> {
  const opts = resolveBrowserOptions(options);
  const signal = options.signal;
  if (signal?.aborted) throw aborted(signal);
  const href = String(url);
  const WebSocketStream = webSocketStreamClass();
  const socket = WebSocketStream !== undefined ? new StreamSocket(WebSocketStream, href, opts, signal) : new PlainSocket(href, opts);
  // WebSocketStream takes the signal itself; WebSocket is closed by hand.
  const stopListening = signal === undefined ? undefined : whenAborted(signal, () => (socket instanceof PlainSocket ? socket.abort() : undefined));
  try {
    await socket.opened;
  } catch (err) {
    throw signal?.aborted ? aborted(signal) : err;
  } finally {
    stopListening?.();
  }
  return new BrowserConnection(socket, href, opts);
}
