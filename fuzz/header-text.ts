// Header values shaped like the handshake's lists, for the handshake and permessage-deflate targets.
import fc from 'fast-check';
import { bytes } from './support';

const pieces = fc.constantFrom(
  'permessage-deflate', 'x-webkit-deflate-frame', 'client_max_window_bits', 'server_max_window_bits',
  'client_no_context_takeover', 'server_no_context_takeover', '8', '9', '10', '15', '16', '08', '7', 'chat', 'superchat',
  'websocket', 'Upgrade', 'keep-alive', '13', 'dGhlIHNhbXBsZSBub25jZQ==', 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
  ',', ', ', ',,', ';', '; ', '=', ' = ', '"', '"15"', '"a\\"b"', '\\', ' ', '\t', '', '\u00e9', '\u0000', '(', '/',
  // A byte node's parser lets through in a value (obs-text) that String.prototype.trim takes for
  // white space, though it is not OWS. (VT and FF would be too, but node refuses them with 400.)
  '\u00a0',
);

/** A header value made of the lists' words, separators and stray characters. */
export const headerValue: fc.Arbitrary<string> = fc.array(fc.oneof({ weight: 6, arbitrary: pieces }, { weight: 1, arbitrary: fc.string({ maxLength: 3 }) }), { maxLength: 10 })
  .map((parts) => parts.join(''));

const names = fc.constantFrom('sec-websocket-protocol', 'sec-websocket-extensions', 'sec-websocket-key', 'sec-websocket-version',
  'upgrade', 'connection', 'host', 'sec-websocket-accept');

/**
 * Inputs for the header targets: a first line (read by the target as its mode), then
 * `name: value` lines, newline-separated, latin1.
 */
export const headerLinesInput: fc.Arbitrary<Uint8Array> = fc.tuple(
  // The mode line: letters the targets read as switches (see each target).
  fc.subarray(['r', 'p', 'w', '2', 'P', '0', 's', 'c', 'b']).map((m) => m.join('')),
  fc.array(fc.tuple(names, headerValue), { maxLength: 6 }),
).map(([mode, lines]) => bytes([mode, ...lines.map(([n, v]) => `${n}: ${v}`)].join('\n')));

/** Header lines of the input after its first: name (lower case) → the values of its lines, in order. */
export function headerLines(text: string): { mode: string; lines: Map<string, string[]> } {
  const [mode = '', ...rest] = text.split('\n');
  const lines = new Map<string, string[]>();
  for (const line of rest) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    // As node's parser hands values over: leading and trailing SP and HTAB (OWS) removed, nothing else.
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    lines.set(name, [...(lines.get(name) ?? []), value]);
  }
  return { mode, lines };
}

const paramValue = fc.oneof(
  fc.constantFrom('8', '9', '10', '12', '15', '7', '16', '08', '1', '', 'x'),
  fc.constantFrom('8', '15', '16').map((v) => `"${v}"`),
);
const param = fc.tuple(
  fc.oneof({ weight: 8, arbitrary: fc.constantFrom('client_max_window_bits', 'server_max_window_bits', 'client_no_context_takeover', 'server_no_context_takeover') },
    { weight: 1, arbitrary: fc.constantFrom('mode', 'x') }),
  fc.option(paramValue, { nil: undefined }),
).map(([n, v]) => (v === undefined ? n : `${n}=${v}`));
const offer = fc.tuple(
  fc.oneof({ weight: 6, arbitrary: fc.constant('permessage-deflate') }, { weight: 1, arbitrary: fc.constantFrom('x-fake', 'permessage-Deflate') }),
  fc.array(param, { maxLength: 5 }),
).map(([name, params]) => [name, ...params].join('; '));

/** A mode line and one or two `Sec-WebSocket-Extensions` lines of permessage-deflate offers. */
export const extensionsInput: fc.Arbitrary<Uint8Array> = fc.tuple(
  fc.subarray(['s', 'c', 'w', 'b', 'r', 'p']).map((m) => m.join('')),
  fc.array(fc.array(offer, { minLength: 1, maxLength: 3 }).map((o) => `sec-websocket-extensions: ${o.join(', ')}`), { minLength: 1, maxLength: 2 }),
).map(([mode, lines]) => bytes([mode, ...lines].join('\n')));
