import {
  buildAcceptResponse, buildRejectionResponse, negotiateExtensions, validateUpgradeRequest,
} from '../../lib/handshake/server-handshake';
import type { HeaderMap } from '../../lib/handshake/header-values';
import { FakeFactory } from './fake-extension';

const good: HeaderMap = {
  host: 'server.example.com',
  upgrade: 'websocket',
  connection: 'Upgrade',
  'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
  'sec-websocket-version': '13',
};

const without = (name: string): HeaderMap => {
  const h: Record<string, HeaderMap[string]> = { ...good };
  delete h[name];
  return h;
};

describe('validateUpgradeRequest', () => {
  it('validateUpgradeRequest accepts the RFC 6455 §1.2 request', () => {
    expect(
      validateUpgradeRequest('GET', '1.1', {
        ...good,
        origin: 'http://example.com',
        'sec-websocket-protocol': 'chat, superchat',
      }),
    ).toEqual({ ok: true, key: 'dGhlIHNhbXBsZSBub25jZQ==', version: 13, protocols: ['chat', 'superchat'], extensions: [] });
  });

  it('validateUpgradeRequest returns the extension offers in header order', () => {
    const r = validateUpgradeRequest('GET', '1.1', { ...good, 'sec-websocket-extensions': 'a; x=1, b' });
    expect(r).toMatchObject({ ok: true, extensions: [{ name: 'a', params: [['x', '1']] }, { name: 'b', params: [] }] });
  });

  it('validateUpgradeRequest accepts HTTP/2.0 and mixed-case Upgrade and Connection lists', () => {
    expect(validateUpgradeRequest('GET', '2.0', { ...good, upgrade: 'WebSocket', connection: 'keep-alive, UPGRADE' }).ok).toBe(true);
  });

  it.each<[string, string, string, HeaderMap, number, string, Record<string, string>]>([
    ['POST', 'POST', '1.1', good, 405, 'The WebSocket handshake must use GET, not POST', { Allow: 'GET' }],
    ['HTTP/1.0', 'GET', '1.0', good, 400, 'The WebSocket handshake needs HTTP/1.1 or later, got HTTP/1.0', {}],
    ['no Host', 'GET', '1.1', without('host'), 400, 'The Host header is missing', {}],
    ['no Upgrade', 'GET', '1.1', without('upgrade'), 400, 'The Upgrade header must be "websocket", got ""', {}],
    ['Upgrade: h2c', 'GET', '1.1', { ...good, upgrade: 'h2c' }, 400, 'The Upgrade header must be "websocket", got "h2c"', {}],
    ['Upgrade with two protocols', 'GET', '1.1', { ...good, upgrade: 'websocket, h2c' }, 400,
      'The Upgrade header must be "websocket", got "websocket, h2c"', {}],
    ['no Connection', 'GET', '1.1', without('connection'), 400, 'The Connection header must contain the "upgrade" token, got ""', {}],
    ['Connection: keep-alive', 'GET', '1.1', { ...good, connection: 'keep-alive' }, 400,
      'The Connection header must contain the "upgrade" token, got "keep-alive"', {}],
    ['no key', 'GET', '1.1', without('sec-websocket-key'), 400, 'The Sec-WebSocket-Key header is missing', {}],
    ['a 15-byte key', 'GET', '1.1', { ...good, 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25j' }, 400,
      'Sec-WebSocket-Key must be base64 of 16 bytes, got "dGhlIHNhbXBsZSBub25j"', {}],
    ['two keys', 'GET', '1.1', { ...good, 'sec-websocket-key': ['dGhlIHNhbXBsZSBub25jZQ==', 'dGhlIHNhbXBsZSBub25jZQ=='] }, 400,
      'Sec-WebSocket-Key must be base64 of 16 bytes, got "dGhlIHNhbXBsZSBub25jZQ==, dGhlIHNhbXBsZSBub25jZQ=="', {}],
    ['no version', 'GET', '1.1', without('sec-websocket-version'), 400, 'The Sec-WebSocket-Version header is missing',
      { 'Sec-WebSocket-Version': '13' }],
    ['version 8', 'GET', '1.1', { ...good, 'sec-websocket-version': '8' }, 400, 'Unsupported Sec-WebSocket-Version "8": only 13 is spoken',
      { 'Sec-WebSocket-Version': '13' }],
    ['a malformed protocol list', 'GET', '1.1', { ...good, 'sec-websocket-protocol': 'chat, a b' }, 400,
      'Malformed Sec-WebSocket-Protocol header: "a b" is not a token', {}],
    ['a malformed extension header', 'GET', '1.1', { ...good, 'sec-websocket-extensions': 'a; p="x y"' }, 400,
      'Malformed Sec-WebSocket-Extensions header at character 5: a quoted value must be a token once unquoted in "a; p=\\"x y\\""', {}],
  ])('validateUpgradeRequest refuses %s', (_what, method, version, headers, status, reason, responseHeaders) => {
    expect(validateUpgradeRequest(method, version, headers)).toEqual({ ok: false, status, reason, headers: responseHeaders });
  });
});

describe('negotiateExtensions', () => {
  it('negotiateExtensions asks each factory with its offers only, in the client order', () => {
    const a = new FakeFactory('a', 0b100, [], ['2']);
    const offers = [
      { name: 'a', params: [['mode', '1']] as const },
      { name: 'b', params: [] },
      { name: 'a', params: [['mode', '2']] as const },
    ];
    const r = negotiateExtensions(offers, [a]);
    expect(a.seenOffers).toEqual([[offers[0], offers[2]]]);
    expect(r.header).toBe('a; mode=2');
    expect(r.extensions).toEqual([a.made[0]]);
  });

  it('negotiateExtensions orders the response by the server factories', () => {
    const a = new FakeFactory('a', 0b100);
    const b = new FakeFactory('b', 0b010);
    const offers = [{ name: 'b', params: [['mode', 'a']] as const }, { name: 'a', params: [['mode', 'a']] as const }];
    const r = negotiateExtensions(offers, [a, b]);
    expect(r.header).toBe('a; mode=a, b; mode=a');
    expect(r.extensions.map((e) => e.name)).toEqual(['a', 'b']);
  });

  it('negotiateExtensions leaves out declined extensions and factories nobody offered', () => {
    const a = new FakeFactory('a', 0b100, [], ['z']);
    const c = new FakeFactory('c', 0b001);
    const r = negotiateExtensions([{ name: 'a', params: [['mode', 'a']] }], [a, c]);
    expect(r).toEqual({ header: '', entries: [], extensions: [] });
    expect(c.seenOffers).toEqual([]);
  });

  it('negotiateExtensions declines an extension whose RSV bits an earlier one took, and closes it', () => {
    const a = new FakeFactory('a', 0b100);
    const b = new FakeFactory('b', 0b100);
    const r = negotiateExtensions([{ name: 'a', params: [['mode', 'a']] }, { name: 'b', params: [['mode', 'a']] }], [a, b]);
    expect(r.header).toBe('a; mode=a');
    expect(b.made[0].closed).toBe(true);
    expect(a.made[0].closed).toBe(false);
  });
});

describe('buildAcceptResponse', () => {
  it('buildAcceptResponse writes the RFC 6455 §1.3 response exactly', () => {
    expect(buildAcceptResponse({ accept: 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=', protocol: 'chat' })).toBe(
      'HTTP/1.1 101 Switching Protocols\r\n' +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n' +
        'Sec-WebSocket-Protocol: chat\r\n' +
        '\r\n',
    );
  });

  it('buildAcceptResponse adds extensions and user headers, repeated values as several lines', () => {
    expect(
      buildAcceptResponse({ accept: 'X', extensions: 'a; mode=1', headers: { 'Set-Cookie': ['a=1', 'b=2'], 'X-Id': 7 } }),
    ).toBe(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: X\r\n' +
        'Sec-WebSocket-Extensions: a; mode=1\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Id: 7\r\n\r\n',
    );
  });

  it('buildAcceptResponse refuses header injection through values and names', () => {
    expect(() => buildAcceptResponse({ accept: 'X', headers: { 'X-A': 'ok\r\nSet-Cookie: evil=1' } })).toThrow(
      new TypeError('Header X-A has a value with CR, LF or NUL'),
    );
    expect(() => buildAcceptResponse({ accept: 'X', headers: { 'X-A': 'ok\n' } })).toThrow(TypeError);
    expect(() => buildAcceptResponse({ accept: 'X', headers: { 'X-A\r\nB': 'ok' } })).toThrow(
      new TypeError('Header name "X-A\\r\\nB" is not a token'),
    );
  });

  it('buildAcceptResponse refuses headers that would replace the handshake', () => {
    expect(() => buildAcceptResponse({ accept: 'X', headers: { 'sec-websocket-accept': 'Y' } })).toThrow(
      new TypeError('Header sec-websocket-accept is set by the WebSocket handshake and cannot be given'),
    );
  });
});

describe('buildRejectionResponse', () => {
  it('buildRejectionResponse writes status, headers, Connection: close and Content-Length', () => {
    expect(buildRejectionResponse(403, { 'X-Reason': 'origin' }, 9)).toBe(
      'HTTP/1.1 403 Forbidden\r\nX-Reason: origin\r\nConnection: close\r\nContent-Length: 9\r\n\r\n',
    );
  });

  it('buildRejectionResponse uses a given reason phrase and keeps a given Connection header', () => {
    expect(buildRejectionResponse(499, { Connection: 'keep-alive' }, 0, 'Custom')).toBe(
      'HTTP/1.1 499 Custom\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n',
    );
  });

  it('buildRejectionResponse refuses a status outside 200–599 and a Content-Length header', () => {
    expect(() => buildRejectionResponse(101, undefined, 0)).toThrow(new RangeError('A handshake rejection needs a status from 200 to 599, got 101'));
    expect(() => buildRejectionResponse(400, { 'Content-Length': '5' }, 0)).toThrow(TypeError);
    expect(() => buildRejectionResponse(400, undefined, 0, 'Bad\r\nX: y')).toThrow(TypeError);
  });
});
