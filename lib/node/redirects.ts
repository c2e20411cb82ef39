// Following HTTP redirects of the opening handshake, opt in (`followRedirects`), as ws does.
import { HandshakeError } from '../handshake/errors';

/** Statuses that redirect (RFC 9110 §15.4); 300 and 304 do not name one target. */
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

/** ws's default `maxRedirects`. */
export const DEFAULT_MAX_REDIRECTS = 10;

/** Headers that carry credentials: not sent to another origin (as curl ≥ 7.77 and ws do). */
const CREDENTIAL_HEADERS: ReadonlySet<string> = new Set(['authorization', 'cookie', 'host']);

/** Whether `status` is a redirect this client can follow. */
export const isRedirect = (status: number): boolean => REDIRECT_STATUSES.has(status);

/**
 * The error for a 3xx when redirects are not followed (or after it is decided they are): kind
 * `REDIRECT`, with the status, the headers (`location` among them) and the body.
 */
export function redirectError(status: number, headers: Record<string, string>, body: Uint8Array, from: URL): HandshakeError {
  const location = headers.location;
  return new HandshakeError(
    'REDIRECT',
    `The server redirected the WebSocket handshake for ${from.href} (${status}) to ${JSON.stringify(location ?? '')}; pass followRedirects: true to follow it`,
    { status, headers, body },
  );
}

const sameOrigin = (a: URL, b: URL): boolean => a.protocol === b.protocol && a.host === b.host;

/** Where one redirect leads, and whether it keeps the original origin. */
export interface RedirectHop {
  /** The `ws:`/`wss:` URL to request next. */
  readonly url: URL;
  /** Whether `url` has the origin of the first request (credentials may go there). */
  readonly sameOriginAsFirst: boolean;
  /** Whether `url` has the origin of the request redirected (a socket path still applies). */
  readonly sameOriginAsCurrent: boolean;
}

/**
 * Follows the redirects of one `connect`: resolves each `Location` against the URL it answers,
 * maps `http:`/`https:` to `ws:`/`wss:`, and refuses loops and more than `maxRedirects` hops.
 */
export class RedirectFollower {
  readonly #first: URL;
  readonly #max: number;
  readonly #visited = new Set<string>();
  #count = 0;
  #leftOrigin = false;

  constructor(first: URL, maxRedirects: number) {
    this.#first = first;
    this.#max = maxRedirects;
    this.#visited.add(first.href);
  }

  /** Whether some hop so far left the first origin: credentials stay dropped from then on. */
  get leftOrigin(): boolean {
    return this.#leftOrigin;
  }

  /** The next hop for the redirect `err` (kind `REDIRECT`) answering `current`; throws a `HandshakeError` when it cannot be followed. */
  follow(current: URL, err: HandshakeError): RedirectHop {
    const details = { status: err.status, headers: err.headers as Record<string, string>, body: err.body, cause: err };
    const location = err.headers?.location;
    if (location === undefined || location === '') {
      throw new HandshakeError('INVALID_REDIRECT', `The ${err.status} redirect from ${current.href} has no Location header`, details);
    }
    let url: URL;
    try {
      url = new URL(location, current);
    } catch {
      throw new HandshakeError('INVALID_REDIRECT', `The ${err.status} redirect from ${current.href} has a malformed Location ${JSON.stringify(location)}`, details);
    }
    if (url.protocol === 'http:') url.protocol = 'ws:';
    else if (url.protocol === 'https:') url.protocol = 'wss:';
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
      throw new HandshakeError('INVALID_REDIRECT', `The ${err.status} redirect from ${current.href} leads to ${url.protocol}, not a WebSocket or HTTP URL`, details);
    }
    // RFC 6455 §3: no fragment in a WebSocket URL; RFC 9110 §10.2.2 lets a Location carry one.
    url.hash = '';
    this.#count++;
    if (this.#count > this.#max) {
      throw new HandshakeError('TOO_MANY_REDIRECTS', `More than ${this.#max} redirects (maxRedirects) starting from ${this.#first.href}`, details);
    }
    const sameAsFirst = sameOrigin(url, this.#first);
    if (!sameAsFirst) this.#leftOrigin = true;
    // A relative Location inherits the userinfo of the URL it answers: it stays within the origin.
    if (this.#leftOrigin) {
      url.username = '';
      url.password = '';
    }
    if (this.#visited.has(url.href)) {
      throw new HandshakeError('REDIRECT_LOOP', `The redirect from ${current.href} leads back to ${url.href}, already requested`, details);
    }
    this.#visited.add(url.href);
    return { url, sameOriginAsFirst: sameAsFirst, sameOriginAsCurrent: sameOrigin(url, current) };
  }

  /** The user's headers for the next hop: without `Authorization`, `Cookie` and `Host` once the first origin was left. */
  headersFor(headers: Readonly<Record<string, string>> | undefined): Readonly<Record<string, string>> | undefined {
    if (!this.#leftOrigin || headers === undefined) return headers;
    return Object.fromEntries(Object.entries(headers).filter(([name]) => !CREDENTIAL_HEADERS.has(name.toLowerCase())));
  }
}
