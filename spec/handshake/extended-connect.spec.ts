import { buildClientRequest } from '../../lib/handshake/client-handshake';
import { buildExtendedConnectHeaders, validateExtendedConnect, validateExtendedConnectResponse } from '../../lib/handshake/extended-connect';
import type { HeaderMap } from '../../lib/handshake/header-values';
import { errorOf } from './error-of';
import { FakeFactory } from './fake-extension';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const connectRequest: HeaderMap = {
  ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https', ':path': '/chat', ':authority': 'server.example.com',
  'sec-websocket-version': '13',
};


describe('buildExtendedConnectHeaders', () => {
  it('buildExtendedConnectHeaders writes the RFC 8441 §5 pseudo-headers and drops the HTTP/1.1-only ones and the key', () => {
    const req = buildClientRequest('wss://server.example.com:8443/chat?x=1', { key: KEY, protocols: ['chat'], origin: 'https://example.com' });
    expect(buildExtendedConnectHeaders(req)).toEqual({
      ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https', ':path': '/chat?x=1', ':authority': 'server.example.com:8443',
      'sec-websocket-version': '13', origin: 'https://example.com', 'sec-websocket-protocol': 'chat',
    });
    expect(buildExtendedConnectHeaders(buildClientRequest('ws://h.example/', { key: KEY }))[':scheme']).toBe('http');
  });

  it('buildExtendedConnectHeaders puts a user Host in :authority and refuses connection-specific user headers', () => {
    const withHost = buildClientRequest('wss://10.0.0.1/', { key: KEY, headers: { Host: 'app.example', 'X-Trace': '1' } });
    expect(buildExtendedConnectHeaders(withHost)).toMatchObject({ ':authority': 'app.example', 'x-trace': '1' });
    expect(buildExtendedConnectHeaders(withHost).host).toBeUndefined();
    const keepAlive = buildClientRequest('wss://h.example/', { key: KEY, headers: { 'Keep-Alive': 'timeout=5' } });
    expect(() => buildExtendedConnectHeaders(keepAlive)).toThrow(new TypeError('Header Keep-Alive is connection-specific and cannot be sent over HTTP/2 (RFC 9113 §8.2.2)'));
  });
});

describe('validateExtendedConnect', () => {
  it('validateExtendedConnect accepts an RFC 8441 request and parses its subprotocols and extension offers', () => {
    expect(validateExtendedConnect({ ...connectRequest, 'sec-websocket-protocol': 'a, b', 'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits' })).toEqual({
      ok: true, version: 13, protocols: ['a', 'b'], extensions: [{ name: 'permessage-deflate', params: [['client_max_window_bits', true]] }],
    });
  });

  it('validateExtendedConnect refuses another method with 405 and Allow: CONNECT', () => {
    expect(validateExtendedConnect({ ...connectRequest, ':method': 'GET' })).toEqual({
      ok: false, status: 405, reason: 'A WebSocket over HTTP/2 is opened with CONNECT, not GET', headers: { Allow: 'CONNECT' },
    });
  });

  it('validateExtendedConnect refuses another :protocol and a missing :scheme, :path or :authority with 400', () => {
    expect(validateExtendedConnect({ ...connectRequest, ':protocol': 'webtransport' })).toMatchObject({ ok: false, status: 400, reason: 'The :protocol pseudo-header must be "websocket", got "webtransport"' });
    for (const name of [':scheme', ':path', ':authority']) {
      expect(validateExtendedConnect({ ...connectRequest, [name]: undefined })).toMatchObject({ ok: false, status: 400, reason: `The ${name} pseudo-header is missing` });
    }
  });

  it('validateExtendedConnect applies the version, subprotocol and extension rules of HTTP/1.1', () => {
    expect(validateExtendedConnect({ ...connectRequest, 'sec-websocket-version': '8' })).toEqual({
      ok: false, status: 400, reason: 'Unsupported Sec-WebSocket-Version "8": only 13 is spoken', headers: { 'Sec-WebSocket-Version': '13' },
    });
    expect(validateExtendedConnect({ ...connectRequest, 'sec-websocket-protocol': 'chat, chat' })).toMatchObject({ ok: false, status: 400 });
    expect(validateExtendedConnect({ ...connectRequest, 'sec-websocket-extensions': 'permessage-deflate; =' })).toMatchObject({ ok: false, status: 400 });
  });
});

describe('validateExtendedConnectResponse', () => {
  const factory = new FakeFactory('x-fake');
  const request = buildClientRequest('wss://h.example/', { key: KEY, protocols: ['chat'], extensions: [factory] });

  it('validateExtendedConnectResponse takes a 200 with an offered subprotocol and extension, without Sec-WebSocket-Accept', () => {
    const result = validateExtendedConnectResponse(request, 200, { ':status': '200', 'sec-websocket-protocol': 'chat', 'sec-websocket-extensions': 'x-fake; mode=a' });
    expect(result).toMatchObject({ protocol: 'chat', extensionsHeader: 'x-fake; mode=a', headers: { 'sec-websocket-protocol': 'chat', 'sec-websocket-extensions': 'x-fake; mode=a' } });
    expect(result.headers[':status']).toBeUndefined();
    expect(result.extensions.map((e) => e.name)).toEqual(['x-fake']);
  });

  it('validateExtendedConnectResponse refuses a status outside 2xx with UNEXPECTED_STATUS, status and headers', () => {
    for (const status of [101, 400, 404]) {
      expect(errorOf(() => validateExtendedConnectResponse(request, status, { 'sec-websocket-version': '13' }))).toMatchObject({
        kind: 'UNEXPECTED_STATUS', status, headers: { 'sec-websocket-version': '13' },
        message: `The server refused the WebSocket handshake over HTTP/2 with status ${status}`,
      });
    }
  });

  it('validateExtendedConnectResponse refuses a subprotocol or extension that was not offered, as for a 101', () => {
    expect(errorOf(() => validateExtendedConnectResponse(request, 200, { 'sec-websocket-protocol': 'other' })).kind).toBe('INVALID_PROTOCOL');
    expect(errorOf(() => validateExtendedConnectResponse(request, 200, { 'sec-websocket-extensions': 'x-other' })).kind).toBe('INVALID_EXTENSIONS');
  });
});
