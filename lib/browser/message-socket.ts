// What the browser connection needs of the browser's own WebSocket API, whichever it is:
// whole messages in, whole messages out, a close handshake the browser runs. Two
// implementations: stream-socket.ts (WebSocketStream: backpressure both ways) and
// plain-socket.ts (WebSocket: bufferedAmount polled on send, a bounded queue on receive).

/** A whole message as the browser hands it over or takes it. */
export type WireMessage = string | Uint8Array<ArrayBuffer>;

/** How the browser's socket ended, before the connection adds what it knows (its own failure). */
export interface SocketEnd {
  /** The browser says the closing handshake completed. */
  readonly wasClean: boolean;
  /** The peer's close code (1005 when its close frame had none), 1006 when lost. */
  readonly code: number;
  /** The close reason ('' when none). */
  readonly reason: string;
  /** What the browser reported, when it reported an error. */
  readonly error?: Error;
}

/** A failure of our own (a limit), as the connection reports it. */
export interface SocketFailure {
  /** The code `closed` reports (1009, 1011). */
  readonly code: number;
  /** Why, in words (also the close reason on the wire). */
  readonly reason: string;
}

/** The browser API under a `BrowserConnection`. */
export interface MessageSocket {
  /** Which API carries the connection. */
  readonly implementation: 'WebSocketStream' | 'WebSocket';
  /** Negotiated subprotocol. */
  readonly protocol: string;
  /** Negotiated extensions. */
  readonly extensions: string;
  /** Bytes handed to the browser and not yet sent on. */
  readonly bufferedAmount: number;
  /** The closing handshake started (either side) or the socket is closed. */
  readonly closing: boolean;
  /** Our failure, once the socket failed on its own (the receive queue overflowed). */
  readonly failure: SocketFailure | undefined;
  /** Resolves once the socket is closed. Never rejects. */
  readonly ended: Promise<SocketEnd>;
  /** Hands one whole message to the browser; resolves when the next may follow (backpressure). */
  send(data: WireMessage): Promise<void>;
  /** The next whole message, `undefined` once no more will come. Never rejects. */
  receive(): Promise<WireMessage | undefined>;
  /** Starts the closing handshake; unread messages and what still arrives are dropped. */
  close(code?: number, reason?: string): void;
  /** Fails the connection: closes with the wire form of `failure.code` (see `wireCloseCode`). */
  fail(failure: SocketFailure): void;
}

/**
 * The close code a page may send for one of ours. Browsers let script send only 1000 and
 * 3000–4999 (WebSockets Standard, `close()` step 1: anything else throws InvalidAccessError),
 * so a failure that `Connection` would send as 1009 or 1011 goes out as 4009 or 4011: 4000
 * plus its last three digits, in the range RFC 6455 §7.4.2 leaves to applications.
 */
export function wireCloseCode(code: number): number {
  return code === 1000 || (code >= 3000 && code <= 4999) ? code : 4000 + (code % 1000);
}

/** Whether a message holds more than `limit` bytes (a string: UTF-8, encoded only when it may matter). */
export function exceedsSize(data: WireMessage, limit: number): boolean {
  if (typeof data !== 'string') return data.byteLength > limit;
  // A UTF-16 code unit is 1 to 3 bytes of UTF-8 (a surrogate pair: 2 units, 4 bytes).
  if (data.length * 3 <= limit) return false;
  if (data.length > limit) return true;
  return new TextEncoder().encode(data).byteLength > limit;
}

/** Memory a held message takes, about: bytes, or 2 per UTF-16 code unit. */
export function heldSize(data: WireMessage): number {
  return typeof data === 'string' ? data.length * 2 : data.byteLength;
}
