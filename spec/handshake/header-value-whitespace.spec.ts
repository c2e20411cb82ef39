// A field value loses only its OWS (SP, HTAB: RFC 9110 §5.6.3) at the ends. node's parser lets
// 0xA0 through (obs-text), and String.prototype.trim() would strip it: "\xa0websocket" then
// passed for "websocket", and a 101 naming "\xa0chat" for an offered "chat". Found by the
// handshake fuzz target (fuzz/corpus/handshake/*-nbsp.txt).
import { buildClientRequest, validateServerResponse } from '../../lib/handshake/client-handshake';
import { HandshakeError } from '../../lib/handshake/errors';
import { validateUpgradeRequest } from '../../lib/handshake/server-handshake';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';
const request = { host: 'h', connection: 'Upgrade', 'sec-websocket-key': KEY, 'sec-websocket-version': '13' };
const ok101 = { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-accept': ACCEPT };

function kindOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    if (err instanceof HandshakeError) return err.kind;
    throw err;
  }
}

describe('header values keep bytes that are not OWS', () => {
  it('validateUpgradeRequest refuses Upgrade: 0xA0 websocket with 400, and accepts OWS around websocket', () => {
    expect(validateUpgradeRequest('GET', '1.1', { ...request, upgrade: '\xa0websocket' })).toMatchObject({ ok: false, status: 400 });
    expect(validateUpgradeRequest('GET', '1.1', { ...request, upgrade: 'websocket\xa0' })).toMatchObject({ ok: false, status: 400 });
    expect(validateUpgradeRequest('GET', '1.1', { ...request, upgrade: ' \twebsocket\t ' })).toMatchObject({ ok: true });
  });

  it('validateServerResponse refuses a 101 whose Upgrade is 0xA0 websocket', () => {
    const req = buildClientRequest('ws://h/', { key: KEY });
    expect(kindOf(() => validateServerResponse(req, ACCEPT, 101, { ...ok101, upgrade: 'websocket\xa0' }))).toBe('INVALID_UPGRADE');
  });

  it('validateServerResponse refuses a 101 naming 0xA0 chat when chat was offered, and accepts OWS around chat', () => {
    const req = buildClientRequest('ws://h/', { key: KEY, protocols: ['chat'] });
    expect(kindOf(() => validateServerResponse(req, ACCEPT, 101, { ...ok101, 'sec-websocket-protocol': '\xa0chat' }))).toBe('INVALID_PROTOCOL');
    expect(validateServerResponse(req, ACCEPT, 101, { ...ok101, 'sec-websocket-protocol': '\tchat ' }).protocol).toBe('chat');
  });
});
