import { computeAccept } from '../../lib/handshake/accept-key';
import { buildClientRequest, parseWebSocketUrl, validateServerResponse } from '../../lib/handshake/client-handshake';
import type { HeaderMap } from '../../lib/handshake/header-values';
import { errorOf } from './error-of';
import { FakeFactory } from './fake-extension';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';
const ok101: HeaderMap = { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-accept': ACCEPT };


describe('parseWebSocketUrl', () => {
  it('parseWebSocketUrl keeps ws: and wss: URLs and maps http(s): to them', () => {
    expect(parseWebSocketUrl('ws://a.example/x?y=1').href).toBe('ws://a.example/x?y=1');
    expect(parseWebSocketUrl(new URL('wss://a.example')).href).toBe('wss://a.example/');
    expect(parseWebSocketUrl('http://a.example:81/').href).toBe('ws://a.example:81/');
    expect(parseWebSocketUrl('https://a.example/').href).toBe('wss://a.example/');
  });

  it('parseWebSocketUrl refuses other schemes, fragments and garbage with SyntaxError', () => {
    expect(() => parseWebSocketUrl('ftp://a.example/')).toThrow(new SyntaxError('A WebSocket URL must use ws: or wss:, got ftp: in "ftp://a.example/"'));
    expect(() => parseWebSocketUrl('ws://a.example/#frag')).toThrow(new SyntaxError('A WebSocket URL may not have a fragment: "ws://a.example/#frag"'));
    expect(() => parseWebSocketUrl('ws://a.example/#')).toThrow(SyntaxError);
    expect(() => parseWebSocketUrl('not a url')).toThrow(new SyntaxError('Invalid WebSocket URL "not a url"'));
    expect(() => parseWebSocketUrl(42 as unknown as string)).toThrow(TypeError);
  });
});

describe('buildClientRequest', () => {
  it('buildClientRequest writes the handshake headers in order', () => {
    const req = buildClientRequest('ws://server.example.com/chat?x=1', { key: KEY, protocols: ['chat', 'superchat'], origin: 'http://example.com' });
    expect(req.path).toBe('/chat?x=1');
    expect(Object.entries(req.headers)).toEqual([
      ['Host', 'server.example.com'],
      ['Upgrade', 'websocket'],
      ['Connection', 'Upgrade'],
      ['Sec-WebSocket-Key', KEY],
      ['Sec-WebSocket-Version', '13'],
      ['Origin', 'http://example.com'],
      ['Sec-WebSocket-Protocol', 'chat, superchat'],
    ]);
  });

  it('buildClientRequest puts a non-default port in Host and leaves the default one out', () => {
    expect(buildClientRequest('ws://h.example:8080/', { key: KEY }).headers.Host).toBe('h.example:8080');
    expect(buildClientRequest('ws://h.example:80/', { key: KEY }).headers.Host).toBe('h.example');
    expect(buildClientRequest('wss://h.example:443/', { key: KEY }).headers.Host).toBe('h.example');
    expect(buildClientRequest('wss://[::1]:9000/', { key: KEY }).headers.Host).toBe('[::1]:9000');
  });

  it('buildClientRequest writes the offers of every extension factory', () => {
    const a = new FakeFactory('a', 0b100, [{ name: 'a', params: [['mode', 'x']] }, { name: 'a', params: [] }]);
    const b = new FakeFactory('b', 0b010);
    const req = buildClientRequest('ws://h/', { key: KEY, extensions: [a, b] });
    expect(req.headers['Sec-WebSocket-Extensions']).toBe('a; mode=x, a, b; mode=a');
    expect(req.offers.map((o) => o.name)).toEqual(['a', 'a', 'b']);
  });

  it('buildClientRequest adds custom headers, lets Host be replaced, and sends URL credentials as Basic', () => {
    const req = buildClientRequest('ws://us%C3%A9r:p%40ss@h/', { key: KEY, headers: { 'X-Token': 't', host: 'other' } });
    expect(req.headers['X-Token']).toBe('t');
    expect(req.headers.host).toBe('other');
    expect(req.headers.Host).toBeUndefined();
    expect(req.headers.Authorization).toBe(`Basic ${Buffer.from('usér:p@ss').toString('base64')}`);
  });

  it('buildClientRequest refuses bad protocols and headers with TypeError', () => {
    expect(() => buildClientRequest('ws://h/', { key: KEY, protocols: ['a b'] })).toThrow(new TypeError('Subprotocol "a b" is not a token'));
    expect(() => buildClientRequest('ws://h/', { key: KEY, protocols: ['a', 'a'] })).toThrow(new TypeError('Subprotocol "a" is offered twice'));
    expect(() => buildClientRequest('ws://h/', { key: KEY, headers: { 'X-A': 'v\r\nEvil: 1' } })).toThrow(
      new TypeError('Header X-A has a value with CR, LF or NUL'),
    );
    expect(() => buildClientRequest('ws://h/', { key: KEY, headers: { 'Sec-WebSocket-Key': 'x' } })).toThrow(
      new TypeError('Header Sec-WebSocket-Key is set by the WebSocket handshake and cannot be given'),
    );
  });
});

describe('validateServerResponse', () => {
  const request = (protocols: string[] = [], extensions: FakeFactory[] = []) => buildClientRequest('ws://h/', { key: KEY, protocols, extensions });

  it('validateServerResponse accepts the RFC 6455 §1.3 response', async () => {
    expect(await computeAccept(KEY)).toBe(ACCEPT);
    const r = validateServerResponse(request(['chat']), ACCEPT, 101, { ...ok101, 'sec-websocket-protocol': 'chat' });
    expect(r).toEqual({ protocol: 'chat', extensionsHeader: '', extensions: [], headers: { ...ok101, 'sec-websocket-protocol': 'chat' } });
  });

  it('validateServerResponse accepts mixed case Upgrade and a Connection list', () => {
    expect(validateServerResponse(request(), ACCEPT, 101, { ...ok101, upgrade: 'WebSocket', connection: 'keep-alive, upgrade' }).protocol).toBe('');
  });

  it('validateServerResponse accepts no subprotocol when some were offered', () => {
    expect(validateServerResponse(request(['chat']), ACCEPT, 101, ok101).protocol).toBe('');
  });

  it.each<[string, number, HeaderMap, string, string, string[]?]>([
    ['a 401', 401, { 'www-authenticate': 'Basic' }, 'UNEXPECTED_STATUS', 'The server refused the WebSocket handshake with status 401'],
    ['a 200', 200, ok101, 'UNEXPECTED_STATUS', 'The server refused the WebSocket handshake with status 200'],
    ['no Upgrade', 101, { ...ok101, upgrade: undefined }, 'INVALID_UPGRADE', 'The 101 response\'s Upgrade header must be "websocket", got ""'],
    ['Upgrade: h2c', 101, { ...ok101, upgrade: 'h2c' }, 'INVALID_UPGRADE', 'The 101 response\'s Upgrade header must be "websocket", got "h2c"'],
    ['no Connection upgrade', 101, { ...ok101, connection: 'keep-alive' }, 'INVALID_CONNECTION',
      'The 101 response\'s Connection header must contain "upgrade", got "keep-alive"'],
    ['no accept', 101, { ...ok101, 'sec-websocket-accept': undefined }, 'INVALID_ACCEPT', 'The 101 response has no Sec-WebSocket-Accept header'],
    ['a wrong accept', 101, { ...ok101, 'sec-websocket-accept': 'AAAA' }, 'INVALID_ACCEPT',
      `Sec-WebSocket-Accept "AAAA" does not match the key (expected "${ACCEPT}")`],
    ['a subprotocol nobody offered', 101, { ...ok101, 'sec-websocket-protocol': 'chat' }, 'INVALID_PROTOCOL',
      'The server chose subprotocol "chat" but none was offered'],
    ['a subprotocol not offered', 101, { ...ok101, 'sec-websocket-protocol': 'other' }, 'INVALID_PROTOCOL',
      'The server chose subprotocol "other", which is not one offered (chat, v2)', ['chat', 'v2']],
    ['two subprotocols', 101, { ...ok101, 'sec-websocket-protocol': 'chat, v2' }, 'INVALID_PROTOCOL',
      'The server chose subprotocol "chat, v2", which is not one offered (chat, v2)', ['chat', 'v2']],
    ['an extension not offered', 101, { ...ok101, 'sec-websocket-extensions': 'x-unknown' }, 'INVALID_EXTENSIONS',
      'The server accepted extension "x-unknown", which was not offered'],
    ['a malformed extension header', 101, { ...ok101, 'sec-websocket-extensions': 'a;' }, 'INVALID_EXTENSIONS',
      'Malformed Sec-WebSocket-Extensions header at character 2: expected a parameter name in "a;"'],
  ])('validateServerResponse refuses %s', (_what, status, headers, code, message, protocols = []) => {
    const err = errorOf(() => validateServerResponse(request(protocols), ACCEPT, status, headers));
    expect(err.kind).toBe(code);
    expect(err.message).toBe(message);
    expect(err.status).toBe(status);
    expect(err.headers).toEqual(Object.fromEntries(Object.entries(headers).filter(([, v]) => v !== undefined)));
  });

  it('validateServerResponse completes offered extensions in response order', () => {
    const a = new FakeFactory('a', 0b100);
    const b = new FakeFactory('b', 0b010);
    const r = validateServerResponse(request([], [a, b]), ACCEPT, 101, { ...ok101, 'sec-websocket-extensions': 'b; mode=a, a; mode=z' });
    expect(r.extensionsHeader).toBe('b; mode=a, a; mode=z');
    expect(r.extensions).toEqual([b.made[0], a.made[0]]);
    expect(a.seenResponses).toEqual([{ name: 'a', params: [['mode', 'z']] }]);
  });

  it('validateServerResponse refuses an extension accepted twice and closes what was completed', () => {
    const a = new FakeFactory('a');
    const err = errorOf(() => validateServerResponse(request([], [a]), ACCEPT, 101, { ...ok101, 'sec-websocket-extensions': 'a; mode=a, a; mode=a' }));
    expect(err.kind).toBe('INVALID_EXTENSIONS');
    expect(err.message).toBe('The server accepted extension "a" twice');
    expect(a.made.map((e) => e.closed)).toEqual([true]);
  });

  it('validateServerResponse fails with EXTENSION_REJECTED when a factory refuses the response', () => {
    const a = new FakeFactory('a', 0b100);
    const b = new FakeFactory('b', 0b010);
    const err = errorOf(() => validateServerResponse(request([], [a, b]), ACCEPT, 101, { ...ok101, 'sec-websocket-extensions': 'a, b; mode=bad' }));
    expect(err.kind).toBe('EXTENSION_REJECTED');
    expect(err.message).toBe("Extension b refused the server's response: mode=bad is not acceptable");
    expect((err.cause as Error).message).toBe('mode=bad is not acceptable');
    expect(a.made[0].closed).toBe(true);
  });

  it('validateServerResponse refuses two extensions claiming the same RSV bit', () => {
    const a = new FakeFactory('a', 0b100);
    const b = new FakeFactory('b', 0b100);
    const err = errorOf(() => validateServerResponse(request([], [a, b]), ACCEPT, 101, { ...ok101, 'sec-websocket-extensions': 'a, b' }));
    expect(err.message).toBe('Extensions accepted by the server claim the same RSV bits (b)');
    expect([...a.made, ...b.made].map((e) => e.closed)).toEqual([true, true]);
  });
});
