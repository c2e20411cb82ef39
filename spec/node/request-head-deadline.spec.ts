// A client that never completes its request head (slowloris: trickling it, or sending part of
// it and nothing more) is bound by `handshakeTimeout` too. The handshake's own timer starts at
// node's 'upgrade' event, once the head is complete; before that, `serve` hands the same
// deadline to node's HTTP server, which answers 408 and closes the socket.
import { connect as netConnect, type Socket } from 'node:net';
import { serve, type WebSocketServerHandle } from '../../lib/node/server';

const servers: WebSocketServerHandle[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

/** What the server sent on `socket` until it closed it. */
function answerUntilClosed(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => (text += c));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(text));
  });
}

describe('the request head deadline of serve()', () => {
  it('a request head never completed is answered 408 and closed (handshakeTimeout 300 ms, where node alone waits 60–90 s)', async () => {
    const server = await serve({ host: '127.0.0.1', port: 0, handshakeTimeout: 300 }, () => undefined);
    servers.push(server);
    const socket = netConnect(server.port, '127.0.0.1');
    const answer = answerUntilClosed(socket);
    socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n'); // and never the rest
    expect(await answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('handshakeTimeout: 0 leaves node\'s own defaults in place', async () => {
    const server = await serve({ host: '127.0.0.1', port: 0, handshakeTimeout: 0 }, () => undefined);
    servers.push(server);
    expect([server.server.headersTimeout, server.server.requestTimeout]).toEqual([60_000, 300_000]);
  });

  it('the default deadline is the handshake\'s, 10 s', async () => {
    const server = await serve({ host: '127.0.0.1', port: 0 }, () => undefined);
    servers.push(server);
    expect([server.server.headersTimeout, server.server.requestTimeout]).toEqual([10_000, 10_000]);
  });
});
