// A connection handler given to `attach` or `handleUpgrade` may be async: its rejection is that
// connection's failure, as a throw is (reported to `onError`, the peer gets 1011), never an
// unhandled rejection that would take the process down.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { attach, handleUpgrade } from '../../lib/node/upgrade';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function listening(server: Server): Promise<number> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

/** The close code a ws client sees. */
function closeCodeSeen(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    ws.on('error', reject);
    ws.on('close', (code) => resolve(code));
  });
}

describe('an async connection handler that rejects', () => {
  it('attach: reported to onError, the connection closed with 1011', async () => {
    const errors: unknown[] = [];
    const server = createServer();
    attach(server, { onError: (e) => errors.push(e) }, async () => {
      await Promise.resolve();
      throw new Error('handler failed');
    });
    const port = await listening(server);
    expect(await closeCodeSeen(port)).toBe(1011);
    expect(errors.map((e) => (e as Error).message)).toEqual(['handler failed']);
  });

  it('handleUpgrade: reported to onError, the connection closed with 1011', async () => {
    const errors: unknown[] = [];
    const server = createServer();
    server.on('upgrade', (req, socket, head) =>
      handleUpgrade(req, socket, head, { onError: (e) => errors.push(e) }, async () => {
        throw new Error('handler failed');
      }),
    );
    const port = await listening(server);
    expect(await closeCodeSeen(port)).toBe(1011);
    expect(errors.map((e) => (e as Error).message)).toEqual(['handler failed']);
  });
});
