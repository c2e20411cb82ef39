// What an adapter hands to `new Connection(transport, init)`.
import type { Extension } from '../protocol/extension';
import type { Clock } from './clock';

/** Limits and timings of one connection. Every field has a documented default. */
export interface ConnectionOptions {
  /**
   * Largest frame payload accepted, checked from the header (1009). Default 64 MiB.
   * `Infinity` (with `maxMessageSize: Infinity`) also accepts frames declared longer than
   * 2^53 − 1 bytes, up to RFC 6455's 2^63 − 1: their `IncomingFrame.length` is a `bigint`.
   */
  maxFrameSize?: number;
  /** Largest message accepted, counted as it streams in, after decompression (1009). Default 64 MiB. `Infinity` for none. */
  maxMessageSize?: number;
  /** Most frames one message may have (1009 past it): bounds per-frame overhead. Default 100 000. */
  maxFragments?: number;
  /** Bytes read from the peer and held unread before the transport is paused. Default 1 MiB. */
  receiveHighWaterMark?: number;
  /** Bytes queued in the transport before `send()`/`write()` wait. Default 1 MiB. */
  sendHighWaterMark?: number;
  /** How long to wait for the peer's close frame, then for TCP to end, before dropping it. Default 5000 ms. */
  closeTimeout?: number;
  /**
   * Send a ping after this many ms without inbound traffic; 0 disables. Default 0. Checked once
   * per interval (receiving costs no clock read): the ping goes out after at least this long
   * without traffic, and less than twice this long.
   */
  autoPingInterval?: number;
  /** Abort (1006) when no inbound traffic for this long after an auto ping. Default = autoPingInterval. */
  autoPingTimeout?: number;
  /** Answer pings with pongs automatically. Default true. */
  autoPong?: boolean;
  /** RSV bits the user accepts on incoming data frames without an extension owning them. Default 0. */
  allowReservedBits?: number;
  /** Reserved opcodes the user accepts as data messages without an extension defining them. Default none. */
  allowReservedOpcodes?: readonly number[];
  /** Injectable mask-key source for byte-exact tests (client role). Default crypto.getRandomValues. */
  maskKeySource?: () => Uint8Array;
  /**
   * Timers and time for this connection (heartbeat and close timeout); for tests. Default
   * the global `setTimeout`/`Date.now`.
   */
  clock?: Clock;
}

/** Everything a connection knows from its opening handshake. */
export interface HandshakeInfo {
  /** Request target of the upgrade (`/chat?room=1`). */
  readonly path: string;
  /** URL the client connected to (client role), or built from Host + path (server role). */
  readonly url: string;
  /** Negotiated subprotocol, `''` when none. */
  readonly protocol: string;
  /** Negotiated `Sec-WebSocket-Extensions` value as sent in the 101, `''` when none. */
  readonly extensions: string;
  /** Request headers, lower-case names. */
  readonly requestHeaders: Readonly<Record<string, string>>;
  /** Response headers of the 101, lower-case names. */
  readonly responseHeaders: Readonly<Record<string, string>>;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
}

export interface ConnectionInit {
  readonly role: 'client' | 'server';
  /** The handshake, or a function that builds it, called once, when first asked for. */
  readonly handshake: HandshakeInfo | (() => HandshakeInfo);
  /** Extensions negotiated in the handshake, in the order of the response header. */
  readonly activeExtensions?: readonly Extension[];
  readonly options?: ConnectionOptions;
  /** Bytes that arrived after the handshake in the same read (node's `head`), parsed first. */
  readonly head?: Uint8Array;
}
