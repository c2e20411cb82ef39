import { serve, type WebSocketServerHandle } from '../../lib/node/server';
import { WebSocketStream } from '../../lib/node/websocket-stream';
import { WebSocketStream as CoreWebSocketStream } from '../../lib/streams/websocket-stream';
import type { Connection } from '../../lib/streams/connection';

// The Node entry's WebSocketStream: a URL dialed with connect() (and any of its options), and a
// server's accepted connection seen through the same API.

describe('WebSocketStream in Node', () => {
  let server: WebSocketServerHandle;
  const seen: Array<{ headers: Readonly<Record<string, string>>; extensions: string }> = [];

  beforeAll(async () => {
    server = await serve({ host: '127.0.0.1', port: 0, perMessageDeflate: true }, async (conn: Connection) => {
      seen.push({ headers: conn.handshake.requestHeaders, extensions: conn.extensions });
      // The server side through the WHATWG API too: an echo made of the accepted connection's view.
      const { readable, writable } = await new WebSocketStream(conn).opened;
      await readable.pipeTo(writable).catch(() => undefined);
    });
  });
  afterAll(() => server.close());

  it('dials with connect() and its options (headers, permessage-deflate), and talks to a server using the view', async () => {
    const wss = new WebSocketStream(server.url, { perMessageDeflate: true, headers: { 'x-test': 'yes' } });
    expect(wss).toBeInstanceOf(CoreWebSocketStream);
    const { readable, writable, extensions } = await wss.opened;
    expect(extensions).toBe('permessage-deflate');
    expect(seen.at(-1)).toMatchObject({ headers: { 'x-test': 'yes' }, extensions: 'permessage-deflate' });
    const writer = writable.getWriter();
    const reader = readable.getReader();
    await writer.write('x'.repeat(10_000));
    await writer.write(new Uint8Array([5, 6, 7]));
    expect((await reader.read()).value).toBe('x'.repeat(10_000));
    expect((await reader.read()).value).toEqual(new Uint8Array([5, 6, 7]));
    wss.close({ closeCode: 4010, reason: 'bye' });
    expect(await wss.closed).toEqual({ closeCode: 4010, reason: 'bye' });
  });

  it('offers no extension unless asked (connect()\'s default), unlike a browser', async () => {
    const wss = new WebSocketStream(server.url);
    expect((await wss.opened).extensions).toBe('');
    wss.close();
    expect(await wss.closed).toEqual({ closeCode: 1005, reason: '' });
  });

  it('bad connect() options throw from the constructor, as connect() does', () => {
    expect(() => new WebSocketStream(server.url, { handshakeTimeout: -1 })).toThrow(RangeError);
  });
});
