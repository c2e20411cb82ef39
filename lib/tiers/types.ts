/** What a server protocol's `onConnect` sees of the opening request (Autobahn's ConnectionRequest). */
export interface ConnectionRequest {
  readonly path: string;
  readonly url: string;
  readonly origin: string | undefined;
  /** Request headers, lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  /** Subprotocols the client offers, in its order. */
  readonly protocols: readonly string[];
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
}

/** What a client protocol's `onConnect` sees of the server's 101 (Autobahn's ConnectionResponse). */
export interface ConnectionResponse {
  readonly url: string;
  /** Response headers, lower-case names. */
  readonly headers: Readonly<Record<string, string>>;
  /** The subprotocol the server chose, `''` for none. */
  readonly protocol: string;
  /** The extensions header of the 101, `''` for none. */
  readonly extensions: string;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
}

/** What `onConnect` may return to accept: a subprotocol, and headers for the 101 (Autobahn's ConnectionAccept). */
export interface ConnectionAccept {
  readonly subprotocol?: string;
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
  override readonly name = 'ConnectionDeny';
  static readonly BAD_REQUEST = 400;
  static readonly FORBIDDEN = 403;
  static readonly NOT_FOUND = 404;
  static readonly NOT_ACCEPTABLE = 406;
  static readonly REQUEST_TIMEOUT = 408;
  static readonly INTERNAL_SERVER_ERROR = 500;
  static readonly NOT_IMPLEMENTED = 501;
  static readonly SERVICE_UNAVAILABLE = 503;
  constructor(
    readonly code: number,
    readonly reason = '',
  ) {
    super(`Connection denied (${code})${reason ? `: ${reason}` : ''}`);
  }
}
