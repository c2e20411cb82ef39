// Odd Sec-WebSocket-Protocol values, both ways, through real sockets. The rules (README,
// "Handshake edge cases"): a server ignores empty list elements (RFC 9110 §5.6.1.2: a
// recipient MUST accept and ignore them) and refuses a repeated value with 400 (RFC 6455 §4.1
// item 10: the values "MUST all be unique"); a client takes an empty value as no subprotocol
// and fails on anything but one offered value (§4.2.2 item 5: "a single value").
import { createHash } from 'node:crypto';
import { HandshakeError } from '../../lib/handshake/errors';
import { connect } from '../../lib/node/client';
import { serve, type WebSocketServerHandle } from '../../lib/node/server';
import { exchange, FakeConnection, parseHead, rawServer, requestHeader, upgradeRequest } from './node-helpers';

jest.mock('../../lib/streams/connection', () => ({ Connection: jest.requireActual('./node-helpers').FakeConnection }));

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  FakeConnection.made = [];
});

async function start(protocols: Parameters<typeof serve>[0]['protocols']): Promise<WebSocketServerHandle> {
  const s = await serve({ host: '127.0.0.1', port: 0, protocols }, () => undefined);
  cleanups.push(() => s.close());
  return s;
}

describe('serve with odd Sec-WebSocket-Protocol offers', () => {
  it('serve ignores empty list elements in "a,,b" and chooses among a and b', async () => {
    const seen: Array<readonly string[]> = [];
    const s = await start((offered) => {
      seen.push(offered);
      return 'b';
    });
    const { text, socket } = await exchange(s.port, upgradeRequest('/', ['Sec-WebSocket-Protocol: a,,b']));
    cleanups.push(() => void socket.destroy());
    expect(parseHead(text).statusLine).toBe('HTTP/1.1 101 Switching Protocols');
    expect(parseHead(text).headers['sec-websocket-protocol']).toBe('b');
    expect(seen).toEqual([['a', 'b']]);
  });

  it('serve takes an empty Sec-WebSocket-Protocol as no offer and answers 101 without one', async () => {
    const s = await start(['chat']);
    const { text, socket } = await exchange(s.port, upgradeRequest('/', ['Sec-WebSocket-Protocol: ']));
    cleanups.push(() => void socket.destroy());
    expect(parseHead(text).statusLine).toBe('HTTP/1.1 101 Switching Protocols');
    expect(parseHead(text).headers['sec-websocket-protocol']).toBeUndefined();
  });

  it.each([
    ['on one line', ['Sec-WebSocket-Protocol: chat, chat']],
    ['on two lines', ['Sec-WebSocket-Protocol: chat', 'Sec-WebSocket-Protocol: chat']],
  ])('serve refuses a subprotocol offered twice (%s) with 400', async (_how, lines) => {
    const s = await start(['chat']);
    const { text } = await exchange(s.port, upgradeRequest('/', lines));
    const head = parseHead(text);
    expect(head.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(head.body).toBe('Sec-WebSocket-Protocol offers "chat" more than once');
    expect(FakeConnection.made).toHaveLength(0);
  });
});

describe('connect with odd Sec-WebSocket-Protocol answers', () => {
  /** A raw server whose 101 carries `Sec-WebSocket-Protocol: <value>` as given. */
  async function answering(value: string): Promise<number> {
    const srv = await rawServer((req, socket) => {
      const accept = createHash('sha1').update(`${requestHeader(req, 'Sec-WebSocket-Key')}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: ${value}\r\n\r\n`);
    });
    cleanups.push(() => srv.close());
    return srv.port;
  }

  it('connect takes an empty Sec-WebSocket-Protocol as no subprotocol chosen', async () => {
    const port = await answering('');
    const conn = (await connect(`ws://127.0.0.1:${port}/`, { protocols: ['chat'] })) as unknown as FakeConnection;
    cleanups.push(() => void conn.transport.destroy());
    expect(conn.init.handshake.protocol).toBe('');
  });

  it.each([
    ['a,,b', 'The server chose subprotocol "a,,b", which is not one offered (a, b)'],
    ['a, b', 'The server chose subprotocol "a, b", which is not one offered (a, b)'],
    ['a, a', 'The server chose subprotocol "a, a", which is not one offered (a, b)'],
  ])('connect fails on the list %p: a 101 names a single subprotocol', async (value, message) => {
    const port = await answering(value);
    const err = await connect(`ws://127.0.0.1:${port}/`, { protocols: ['a', 'b'] }).then(
      (c) => {
        (c as unknown as FakeConnection).transport.destroy();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HandshakeError);
    expect((err as HandshakeError).kind).toBe('INVALID_PROTOCOL');
    expect((err as HandshakeError).message).toBe(message);
  });
});
