import type { ExtensionOffer } from '../protocol/extension';
import { HandshakeError } from './errors';

/** A header as runtimes hand it over: one string, several lines, or absent. */
export type HeaderValue = string | readonly string[] | undefined;

/** Request or response headers with lower-case names (node's `IncomingHttpHeaders` fits). */
export type HeaderMap = Readonly<Record<string, HeaderValue>>;

// RFC 7230 §3.2.6: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." /
// "^" / "_" / "`" / "|" / "~" / DIGIT / ALPHA. A table beats a regex in the parse loop.
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

const isTchar = (code: number): boolean => code < 128 && TCHAR[code] === 1;
const isOws = (code: number): boolean => code === 0x20 || code === 0x09;

/**
 * Whether `s` is an RFC 7230 `token`: one or more visible ASCII characters other than
 * separators. Subprotocol names and extension names and parameters must be tokens.
 *
 * @example
 * ```ts
 * isToken('chat.v2'); // true
 * isToken('a b');     // false
 * ```
 */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!isTchar(s.charCodeAt(i))) return false;
  return true;
}

/**
 * One string for a header that may have come as several lines. RFC 7230 §3.2.2: several
 * lines of a list-valued header are equivalent to one line joined with commas.
 */
export function joinHeader(value: HeaderValue): string | undefined {
  if (value === undefined || typeof value === 'string') return value;
  return value.length === 0 ? undefined : value.join(', ');
}

/**
 * Whether a comma-separated header (`Connection`, `Upgrade`) contains `token`, compared
 * ASCII case-insensitively (RFC 7230 §6.1: connection options are case-insensitive).
 *
 * @example
 * ```ts
 * hasToken('keep-alive, Upgrade', 'upgrade'); // true
 * ```
 */
export function hasToken(value: HeaderValue, token: string): boolean {
  const s = joinHeader(value);
  if (s === undefined) return false;
  const wanted = token.toLowerCase();
  for (const part of s.split(',')) if (trimOws(part).toLowerCase() === wanted) return true;
  return false;
}

/**
 * `s` without leading and trailing OWS (RFC 9110 §5.6.3: SP and HTAB only). Not
 * `String.prototype.trim`, which also strips bytes a field value may carry, such as 0xA0.
 */
export function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isOws(s.charCodeAt(a))) a++;
  while (b > a && isOws(s.charCodeAt(b - 1))) b--;
  return s.slice(a, b);
}

/**
 * Parses a `1#token` list such as `Sec-WebSocket-Protocol` (RFC 6455 §4.3). Empty list
 * elements are skipped (RFC 7230 §7: a recipient "MUST parse and ignore a reasonable
 * number of empty list elements"). A non-token element throws a `HandshakeError`
 * with code `MALFORMED_HEADER`.
 *
 * @example
 * ```ts
 * parseTokenList('chat, superchat', 'Sec-WebSocket-Protocol'); // ['chat', 'superchat']
 * ```
 */
export function parseTokenList(value: HeaderValue, headerName: string): string[] {
  const s = joinHeader(value);
  if (s === undefined) return [];
  const out: string[] = [];
  for (const part of s.split(',')) {
    const item = trimOws(part);
    if (item.length === 0) continue;
    if (!isToken(item)) {
      throw new HandshakeError('MALFORMED_HEADER', `Malformed ${headerName} header: ${JSON.stringify(clip(item))} is not a token`);
    }
    out.push(item);
  }
  return out;
}

const clip = (s: string): string => (s.length > 64 ? `${s.slice(0, 64)}…` : s);

/**
 * Parses `Sec-WebSocket-Extensions` (RFC 6455 §9.1) into offers, in header order:
 *
 * ```
 * extension-list = 1#extension
 * extension      = extension-token *( ";" extension-param )
 * extension-param = token [ "=" (token | quoted-string) ]
 * ```
 *
 * Whitespace is allowed around `,` `;` and `=` (the implied `*LWS` of RFC 2616 that §9.1 is
 * written against). Quoted values are unescaped and, per §9.1, must then be tokens.
 * Duplicated entries and parameters are kept, so negotiation can refuse them. Anything
 * else throws a `HandshakeError` with code `MALFORMED_HEADER`.
 *
 * @example
 * ```ts
 * parseExtensions('permessage-deflate; client_max_window_bits, x-foo; a="1"');
 * // [{ name: 'permessage-deflate', params: [['client_max_window_bits', true]] },
 * //  { name: 'x-foo', params: [['a', '1']] }]
 * ```
 */
export function parseExtensions(value: HeaderValue): ExtensionOffer[] {
  const s = joinHeader(value);
  if (s === undefined) return [];
  return new ExtensionHeaderParser(s).parse();
}

class ExtensionHeaderParser {
  readonly #s: string;
  #i = 0;

  constructor(s: string) {
    this.#s = s;
  }

  parse(): ExtensionOffer[] {
    const s = this.#s;
    const out: ExtensionOffer[] = [];
    for (;;) {
      this.#skipOws();
      if (this.#i >= s.length) return out;
      if (s.charCodeAt(this.#i) === 0x2c /* , */) {
        this.#i++; // an empty list element
        continue;
      }
      const name = this.#token('an extension name');
      const params: Array<readonly [string, string | true]> = [];
      this.#skipOws();
      while (this.#i < s.length && s.charCodeAt(this.#i) === 0x3b /* ; */) {
        this.#i++;
        this.#skipOws();
        const param = this.#token('a parameter name');
        this.#skipOws();
        let paramValue: string | true = true;
        if (this.#i < s.length && s.charCodeAt(this.#i) === 0x3d /* = */) {
          this.#i++;
          this.#skipOws();
          paramValue = s.charCodeAt(this.#i) === 0x22 /* " */ ? this.#quoted() : this.#token('a parameter value');
          this.#skipOws();
        }
        params.push([param, paramValue]);
      }
      if (this.#i < s.length && s.charCodeAt(this.#i) !== 0x2c) this.#fail(`expected "," or ";"`);
      out.push({ name, params });
    }
  }

  #skipOws(): void {
    const s = this.#s;
    while (this.#i < s.length && isOws(s.charCodeAt(this.#i))) this.#i++;
  }

  #token(what: string): string {
    const s = this.#s;
    const start = this.#i;
    while (this.#i < s.length && isTchar(s.charCodeAt(this.#i))) this.#i++;
    if (this.#i === start) this.#fail(`expected ${what}`);
    return s.slice(start, this.#i);
  }

  /** RFC 7230 §3.2.6: quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE. */
  #quoted(): string {
    const s = this.#s;
    const start = this.#i;
    this.#i++; // opening quote
    let out = '';
    for (;;) {
      if (this.#i >= s.length) {
        this.#i = start;
        this.#fail('unterminated quoted string');
      }
      const c = s.charCodeAt(this.#i);
      if (c === 0x22) break;
      if (c === 0x5c /* \ */) {
        this.#i++;
        if (this.#i >= s.length) continue; // reported as unterminated above
        out += s[this.#i];
      } else {
        out += s[this.#i];
      }
      this.#i++;
    }
    this.#i++; // closing quote
    // RFC 6455 §9.1: "When using the quoted-string syntax variant, the value after
    // quoted-string unescaping MUST conform to the 'token' ABNF."
    if (!isToken(out)) {
      this.#i = start;
      this.#fail('a quoted value must be a token once unquoted');
    }
    return out;
  }

  #fail(detail: string): never {
    throw new HandshakeError(
      'MALFORMED_HEADER',
      `Malformed Sec-WebSocket-Extensions header at character ${this.#i}: ${detail} in ${JSON.stringify(clip(this.#s))}`,
    );
  }
}

/**
 * Writes extension entries as a `Sec-WebSocket-Extensions` value. Names and values must be
 * tokens (RFC 6455 §9.1), so values are written bare; anything else throws a `TypeError`.
 *
 * @example
 * ```ts
 * serializeExtensions([{ name: 'permessage-deflate', params: [['server_max_window_bits', '10']] }]);
 * // 'permessage-deflate; server_max_window_bits=10'
 * ```
 */
export function serializeExtensions(entries: readonly ExtensionOffer[]): string {
  let out = '';
  for (const entry of entries) {
    if (!isToken(entry.name)) throw new TypeError(`Extension name ${JSON.stringify(entry.name)} is not a token`);
    if (out.length > 0) out += ', ';
    out += entry.name;
    for (const [name, value] of entry.params) {
      if (!isToken(name)) throw new TypeError(`Extension parameter name ${JSON.stringify(name)} is not a token`);
      out += `; ${name}`;
      if (value === true) continue;
      if (!isToken(value)) throw new TypeError(`Extension parameter ${name} has value ${JSON.stringify(value)}, which is not a token`);
      out += `=${value}`;
    }
  }
  return out;
}

/**
 * A header map with every value as one string (several lines joined with `, `), absent
 * values dropped: the shape `HandshakeInfo` and `HandshakeError.headers` carry.
 */
export function flattenHeaders(headers: HeaderMap): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(headers)) {
    const v = joinHeader(headers[name]);
    if (v !== undefined) out[name] = v;
  }
  return out;
}
