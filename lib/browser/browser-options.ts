import { checkSize } from '../streams/connection-options';

/** Options of the browser entry's `connect()`. */
export interface BrowserConnectOptions {
  /** Subprotocols to offer (`Sec-WebSocket-Protocol`), in order of preference. */
  readonly protocols?: string | readonly string[];
  /**
   * Aborts the opening handshake: `connect()` rejects with a `HandshakeError` of kind
   * `'ABORTED'` (its `cause` is `signal.reason`). Once open, the signal has no effect.
   */
  readonly signal?: AbortSignal;
  /**
   * Largest message received or sent, in bytes (default 64 MiB, as `Connection`'s). A larger
   * received message fails the connection with 1009 (the peer sees 4009: see `BrowserConnection`);
   * a larger one to send (a stream or Blob is collected first: browsers send whole messages)
   * rejects the send with a `RangeError` and the connection goes on.
   */
  readonly maxMessageSize?: number;
  /**
   * Over the plain `WebSocket` only: `send()` resolves once `bufferedAmount` is at most this
   * many bytes (default 1 MiB), looked at every 10 ms while a send waits: the browser has no
   * event for it.
   */
  readonly sendHighWaterMark?: number;
  /**
   * Over the plain `WebSocket` only: bytes of received messages held for the application before
   * it asks for them (default 64 MiB; each message counts at least 64 bytes). A plain WebSocket
   * cannot stop the peer, so past this the connection fails with 1009 instead of growing.
   */
  readonly maxReceiveBuffer?: number;
}

/** The defaults of `BrowserConnectOptions`. */
export const BROWSER_DEFAULTS = {
  /** Largest message received or sent: 64 MiB, as `Connection`'s. */
  maxMessageSize: 64 * 1024 * 1024,
  /** Over `WebSocket`: `bufferedAmount` at which `send()` waits: 1 MiB. */
  sendHighWaterMark: 1024 * 1024,
  /** Over `WebSocket`: received bytes held unread before the connection fails with 1009: 64 MiB. */
  maxReceiveBuffer: 64 * 1024 * 1024,
} as const;

/** How often a send waiting on the plain WebSocket's `bufferedAmount` looks at it again, in ms. */
// No event tells when bufferedAmount drops; 10 ms keeps a 1 MiB mark flowing at well over
// 100 MiB/s while costing an idle page nothing (no timer runs unless a send waits).
export const BUFFERED_AMOUNT_POLL_MS = 10;

/** What the browser connection works with: every option filled in and checked. */
export interface ResolvedBrowserOptions {
  readonly protocols: string[];
  readonly maxMessageSize: number;
  readonly sendHighWaterMark: number;
  readonly maxReceiveBuffer: number;
}

/** Fills in defaults and refuses nonsense at once (a RangeError or TypeError naming the option). */
export function resolveBrowserOptions(options: BrowserConnectOptions = {}): ResolvedBrowserOptions {
  const p = options.protocols ?? [];
  const protocols = typeof p === 'string' ? [p] : [...p];
  for (const x of protocols) {
    if (typeof x !== 'string' || x === '') throw new TypeError(`Option protocols must hold non-empty strings, got ${JSON.stringify(x)}`);
  }
  return {
    protocols,
    maxMessageSize: checkSize('maxMessageSize', options.maxMessageSize ?? BROWSER_DEFAULTS.maxMessageSize, 1, true),
    sendHighWaterMark: checkSize('sendHighWaterMark', options.sendHighWaterMark ?? BROWSER_DEFAULTS.sendHighWaterMark, 0),
    maxReceiveBuffer: checkSize('maxReceiveBuffer', options.maxReceiveBuffer ?? BROWSER_DEFAULTS.maxReceiveBuffer, 1, true),
  };
}
