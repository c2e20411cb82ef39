/** What a server protocol's `onConnect` sees of the opening request (Autobahn's ConnectionRequest). */
export interface ConnectionRequest {
  /** Request target as sent (`/chat?room=1`). */
  readonly path: string;
  /** `ws://` or `wss://` + Host + path. */
  readonly url: string;
  /** `Origin` header, if any (check it to refuse cross-site browser pages, RFC 6455 §10.2). */
  readonly origin: string | undefined;
  /** Request headers, lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  /** Subprotocols the client offers, in its order. */
  readonly protocols: readonly string[];
  /** The client's IP address. */
  readonly remoteAddress: string | undefined;
  /** The client's TCP port. */
  readonly remotePort: number | undefined;
}

/** What a client protocol's `onConnect` sees of the server's 101 (Autobahn's ConnectionResponse). */
export interface ConnectionResponse {
  /** The URL connected to. */
  readonly url: string;
  /** Response headers, lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  /** The subprotocol the server chose, `''` for none. */
  readonly protocol: string;
  /** The extensions header of the 101, `''` for none. */
  readonly extensions: string;
  /** The server's IP address. */
  readonly remoteAddress: string | undefined;
  /** The server's TCP port. */
  readonly remotePort: number | undefined;
}

/** What `onConnect` may return to accept: a subprotocol, and headers for the 101 (Autobahn's ConnectionAccept). */
export interface ConnectionAccept {
  /** The subprotocol to accept; one the client offered. */
  readonly subprotocol?: string;
  /** Headers to add to the 101. */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Thrown from `onConnect` to refuse the connection with an HTTP status (Autobahn's
 * ConnectionDeny).
 *
 * @example
 * ```ts
 * override onConnect(request: ConnectionRequest) {
 *   if (request.origin !== 'https://example.com') throw new ConnectionDeny(403, 'Origin not allowed');
 *   return 'chat.v1';
 * }
 * ```
 */
export class ConnectionDeny extends Error {
  /** Always `'ConnectionDeny'`, to tell it apart without `instanceof`. */
  override readonly name = 'ConnectionDeny';
  /** 400 Bad Request. */
  static readonly BAD_REQUEST = 400;
  /** 403 Forbidden (e.g. an origin not allowed). */
  static readonly FORBIDDEN = 403;
  /** 404 Not Found (no endpoint at this path). */
  static readonly NOT_FOUND = 404;
  /** 406 Not Acceptable (e.g. no subprotocol in common). */
  static readonly NOT_ACCEPTABLE = 406;
  /** 408 Request Timeout. */
  static readonly REQUEST_TIMEOUT = 408;
  /** 500 Internal Server Error. */
  static readonly INTERNAL_SERVER_ERROR = 500;
  /** 501 Not Implemented. */
  static readonly NOT_IMPLEMENTED = 501;
  /** 503 Service Unavailable (e.g. overloaded). */
  static readonly SERVICE_UNAVAILABLE = 503;
  constructor(
    /** The HTTP status the handshake is refused with. */
    readonly code: number,
    /** The explanation sent as the refusal's body. */
    readonly reason = '',
  ) {
    super(`Connection denied (${code})${reason ? `: ${reason}` : ''}`);
  }
}
