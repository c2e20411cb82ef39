// Fuzz target: the opening handshake's checks and header-value parsers (lib/handshake/*):
// validateUpgradeRequest, validateServerResponse, parseTokenList, parseExtensions. node's own
// HTTP parser (llhttp) reads the request and response heads; these take the headers it hands over.
import { computeAcceptSync } from '../lib/node/http-util';
import { buildClientRequest, validateServerResponse } from '../lib/handshake/client-handshake';
import { HandshakeError } from '../lib/handshake/errors';
import { isToken, parseExtensions, parseTokenList, serializeExtensions, type HeaderValue } from '../lib/handshake/header-values';
import { validateUpgradeRequest } from '../lib/handshake/server-handshake';
import { PerMessageDeflate } from '../lib/extensions/permessage-deflate/permessage-deflate';
import type { DeflateEngine } from '../lib/extensions/permessage-deflate/deflate-engine';
import fc from 'fast-check';
import { extensionsInput, headerLines, headerLinesInput } from './header-text';
import { check, onlyThrows, sameOutcome, text, type FuzzTarget } from './support';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
/** RFC 9110 §5.5: leading and trailing white space of a field value is OWS, SP and HTAB only. */
const owsTrim = (s: string | undefined): string | undefined => s?.replace(/^[ \t]+|[ \t]+$/g, '');
const one = (v: HeaderValue): string | undefined => (v === undefined || typeof v === 'string' ? v : v.join(', '));
/** Negotiation never compresses: an engine that is never asked for a codec. */
export const noEngine: DeflateEngine = {
  createDeflater: () => { throw new Error('not in a handshake'); },
  createInflater: () => { throw new Error('not in a handshake'); },
} as unknown as DeflateEngine;

/** A list header's outcome: the parsed value or the HandshakeError's kind. */
function listOutcome(parse: () => unknown): unknown {
  const r = onlyThrows('a header-value parser', parse, HandshakeError);
  return r instanceof HandshakeError ? { error: r.kind } : r;
}

/** The same list sent as one line, as several (split at commas outside quotes), must parse alike (RFC 9110 §5.3). */
function splitAtCommas(value: string): string[] {
  if (value.includes('"')) return [value];
  return value.split(',');
}

function checkLists(lines: Map<string, string[]>): void {
  for (const [name, parse] of [
    ['sec-websocket-protocol', (v: HeaderValue) => parseTokenList(v, 'Sec-WebSocket-Protocol')],
    ['sec-websocket-extensions', (v: HeaderValue) => parseExtensions(v)],
  ] as const) {
    const values = lines.get(name);
    if (values === undefined) continue;
    const joined = values.join(', ');
    const whole = listOutcome(() => parse(joined));
    sameOutcome(`${name} as several lines`, whole, listOutcome(() => parse(values)));
    // RFC 9110 §5.6.1.2: a recipient MUST accept empty list elements (and they count for nothing).
    sameOutcome(`${name} with empty list elements`, whole, listOutcome(() => parse(`,${joined}, ,`)));
    const split = values.flatMap(splitAtCommas);
    sameOutcome(`${name} split at its commas`, whole, listOutcome(() => parse(split)));
    if (Array.isArray(whole)) {
      if (name === 'sec-websocket-protocol') check(whole.every((p) => isToken(p as string)), 'a protocol that is not a token');
      else {
        // What parses serializes, and parses back the same (quoted values come back bare tokens).
        const again = listOutcome(() => parseExtensions(serializeExtensions(whole as never)));
        sameOutcome('extensions serialized and parsed again', whole, again);
      }
    }
  }
}

function checkRequest(mode: string, lines: Map<string, string[]>): void {
  const headers: Record<string, HeaderValue> = {
    host: 'example.com', upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': KEY, 'sec-websocket-version': '13',
  };
  for (const [name, values] of lines) headers[name] = values.length === 1 ? values[0] : values;
  const method = mode.includes('P') ? 'POST' : 'GET';
  const version = mode.includes('0') ? '1.0' : '1.1';
  const r = onlyThrows('validateUpgradeRequest', () => validateUpgradeRequest(method, version, headers));
  check(!(r instanceof Error), 'unreachable');
  if (!r.ok) {
    check(r.status === 400 || r.status === 405, `a refusal with status ${r.status}`);
    check(r.status !== 405 || method !== 'GET', 'a GET refused with 405');
    check(r.reason.length > 0 && !/[\r\n]/.test(JSON.stringify(r.headers)), 'a refusal without a reason, or with a header that breaks a line');
    return;
  }
  check(method === 'GET' && version === '1.1', 'a POST or HTTP/1.0 handshake accepted');
  check(owsTrim(one(headers.upgrade))?.toLowerCase() === 'websocket', () => `Upgrade ${JSON.stringify(one(headers.upgrade))} accepted as websocket`);
  check(r.protocols.every(isToken) && new Set(r.protocols).size === r.protocols.length, 'accepted protocols that are not unique tokens');
  check(r.extensions.every((e) => isToken(e.name)), 'an accepted extension name that is not a token');
}

function checkResponse(mode: string, lines: Map<string, string[]>): void {
  const protocols = mode.includes('p') ? ['chat', 'superchat'] : [];
  const request = buildClientRequest('ws://example.com/', { key: KEY, protocols, extensions: [new PerMessageDeflate(noEngine, { serverMaxWindowBits: mode.includes('w') ? 10 : undefined })] });
  const headers: Record<string, HeaderValue> = { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-accept': computeAcceptSync(KEY) };
  for (const [name, values] of lines) headers[name] = values.length === 1 ? values[0] : values;
  const status = mode.includes('2') ? 200 : 101;
  const r = onlyThrows('validateServerResponse', () => validateServerResponse(request, computeAcceptSync(KEY), status, headers), HandshakeError);
  if (r instanceof Error) {
    check(r.message.length > 0, 'a HandshakeError without a message');
    check(status !== 101 || (r as HandshakeError).kind !== 'UNEXPECTED_STATUS', 'a 101 refused for its status');
    return;
  }
  check(status === 101, 'a handshake completed without a 101');
  check(owsTrim(one(headers.upgrade))?.toLowerCase() === 'websocket', () => `Upgrade ${JSON.stringify(one(headers.upgrade))} accepted as websocket`);
  check(r.protocol === (owsTrim(one(headers['sec-websocket-protocol'])) ?? ''), () => `Sec-WebSocket-Protocol ${JSON.stringify(one(headers['sec-websocket-protocol']))} taken as ${JSON.stringify(r.protocol)}`);
  check(r.protocol === '' || protocols.includes(r.protocol), `subprotocol ${JSON.stringify(r.protocol)} was not offered`);
  check(r.extensions.length <= 1, 'two extensions from one offer');
  for (const ext of r.extensions) ext.close();
}

export const target: FuzzTarget = {
  name: 'handshake',
  inputs: fc.oneof({ weight: 3, arbitrary: headerLinesInput }, { weight: 1, arbitrary: extensionsInput }),
  fuzz(input: Uint8Array): void {
    const { mode, lines } = headerLines(text(input));
    checkLists(lines);
    if (mode.includes('r')) checkResponse(mode, lines);
    else checkRequest(mode, lines);
  },
};
