// An upgrade request pipelined behind a plain request on one keep-alive socket. RFC 9112 §9.6:
// a server that sends "close" "MUST NOT process any further requests received on that
// connection", so a 101 after serve's 426 (which says close) would switch a socket that is
// about to be torn down: the client would see a WebSocket that dies at once.
import { createServer } from 'node:http';
import { connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { serve, type WebSocketServerHandle } from '../../lib/node/server';
import { attach } from '../../lib/node/upgrade';
import { FakeConnection, RFC_ACCEPT, upgradeRequest } from './node-helpers';

jest.mock('../../lib/streams/connection', () => ({ Connection: jest.requireActual('./node-helpers').FakeConnection }));

const servers: WebSocketServerHandle[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  FakeConnection.made = [];
});

/** Writes `bytes` in one write and reads until the server closes the socket. */
function wholeAnswer(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket: Socket = netConnect({ host: '127.0.0.1', port });
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
    socket.write(bytes);
  });
}

const BODY = 'This is a WebSocket server: connect with a WebSocket client';

describe('serve with a pipelined upgrade', () => {
  it('serve answers a GET and an upgrade sent in one write with the 426 alone, then closes', async () => {
    const s = await serve({ host: '127.0.0.1', port: 0 }, () => undefined);
    servers.push(s);
    const text = await wholeAnswer(s.port, `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n${upgradeRequest('/')}`);
    expect(text).toMatch(/^HTTP\/1\.1 426 Upgrade Required\r\n/);
    expect(text).toContain('\r\nConnection: Upgrade, close\r\n');
    // Exactly one response: the 426 and its body, nothing after it (no 101).
    expect(text.endsWith(`\r\n\r\n${BODY}`)).toBe(true);
    expect(text.split('HTTP/1.1 ').length - 1).toBe(1);
    expect(FakeConnection.made).toHaveLength(0);
  });
});

describe('attach with a pipelined upgrade', () => {
  it('attach answers an upgrade pipelined behind a keep-alive request after that response, in order', async () => {
    const server = createServer((_req, res) => {
      // Answered later, as a slow handler would: the 101 must still come second.
      setImmediate(() => res.end('hello'));
    });
    attach(server, {}, () => undefined);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const socket = netConnect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port });
    try {
      let text = '';
      socket.setEncoding('latin1');
      const got101 = new Promise<void>((resolve, reject) => {
        socket.on('data', (chunk: string) => {
          text += chunk;
          // Once the 101 is in, whatever came before it is all that will: nothing may follow it.
          if (/HTTP\/1\.1 101 [^]*?\r\n\r\n/.test(text)) resolve();
        });
        socket.on('close', () => reject(new Error(`closed after ${JSON.stringify(text)}`)));
      });
      socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n${upgradeRequest('/')}`);
      await got101;
      expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nhello/);
      expect(text.slice(text.indexOf('hello') + 5)).toBe(
        `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${RFC_ACCEPT}\r\n\r\n`);
      expect(FakeConnection.made).toHaveLength(1);
    } finally {
      // The upgraded socket is no longer node's to close.
      socket.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
