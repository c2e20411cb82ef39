// What an adapter hands to `new Connection(transport, init)`.
import type { Extension } from '../protocol/extension';
import type { ProtocolLimits } from '../protocol/limits';
import type { Clock } from './clock';
import type { NativeUtf8Check } from '../codec/utf8-validator';
import type { UnsafeAllocator } from './growable-buffer';

/** Limits and timings of one connection: the protocol's limits and what the streams add. Every field has a documented default. */
export interface ConnectionOptions extends ProtocolLimits {
  /**
   * Bytes received and not yet read that the connection holds: it parses ahead of its
   * consumer up to this many bytes of unread data (acting on control frames found behind
   * them at once), then stops reading the transport. Default 1 MiB.
   */
  receiveHighWaterMark?: number;
  /** Bytes queued in the transport before `send()`/`write()` wait. Default 1 MiB. */
  sendHighWaterMark?: number;
  /**
   * How long to wait for the peer's close frame, then for TCP to end, before dropping it; also
   * the longest a failure's close frame waits for the consumer to read the messages received
   * before it. Default 5000 ms.
   */
  closeTimeout?: number;
  /**
   * Send a ping after this many ms without inbound traffic; 0 disables. Default 0. Checked once
   * per interval (receiving costs no clock read): the ping goes out after at least this long
   * without traffic, and less than twice this long.
   */
  autoPingInterval?: number;
  /** Abort (1006) when no inbound traffic for this long after an auto ping. Default = autoPingInterval. */
  autoPingTimeout?: number;
  /** Time and timers of the connection (heartbeat, close timeout), for tests. Default the runtime's. */
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
  /** The peer's IP address, when the transport has one. */
  readonly remoteAddress: string | undefined;
  /** The peer's TCP port, when the transport has one. */
  readonly remotePort: number | undefined;
  /**
   * Server role: the `context` the server's `onRequest` hook accepted the request with
   * (`undefined` when it gave none, and on clients). Typed in the handler of `serve`/`attach`
   * (see `AcceptedConnection`); `unknown` here.
   */
  readonly context?: unknown;
}

/**
 * Fast paths a runtime offers, passed by its adapter with each connection (never set
 * process-wide). Both are optional: without them the connection is plain, portable JavaScript.
 * The Node adapter passes `buffer.isUtf8` and `Buffer.allocUnsafeSlow`.
 */
export interface RuntimeHooks {
  /**
   * Native whole-buffer UTF-8 check, used on the complete part of text chunks of 512 bytes or
   * more; on `false` the JS validator still finds the exact first bad byte.
   */
  readonly isUtf8?: NativeUtf8Check;
  /**
   * Unzeroed memory for messages collected whole (`bytes()`, `text()`, the Autobahn tier's
   * `onMessage`): `size` bytes as a plain `Uint8Array` over an `ArrayBuffer` of exactly `size`
   * bytes (never a slice of a shared pool; anything else is not used). Every byte handed to
   * the user is written first, and the rest of the buffer zeroed.
   */
  readonly allocUnsafe?: UnsafeAllocator;
}

/** What an adapter hands `new Connection(transport, init)`: the outcome of the opening handshake and the options. */
export interface ConnectionInit {
  /** Which end this is: a client masks what it sends, a server requires masked frames. */
  readonly role: 'client' | 'server';
  /** The handshake, or a function that builds it, called once, when first asked for. */
  readonly handshake: HandshakeInfo | (() => HandshakeInfo);
  /** Extensions negotiated in the handshake, in the order of the response header. */
  readonly activeExtensions?: readonly Extension[];
  /** Limits, timeouts and the other options (see `DEFAULT_OPTIONS`). */
  readonly options?: ConnectionOptions;
  /** Bytes that arrived after the handshake in the same read (node's `head`), parsed first. */
  readonly head?: Uint8Array;
  /** The runtime's fast paths (see `RuntimeHooks`). Default none. */
  readonly runtime?: RuntimeHooks;
}
