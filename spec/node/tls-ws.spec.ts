import { once } from 'node:events';
import { createServer } from 'node:https';
import WebSocket, { WebSocketServer } from 'ws';
import { connect } from '../../lib/node/client';
import { serve } from '../../lib/node/server';
import { makeTestCertificate } from './node-helpers';

// TLS against a real peer in both roles, with a certificate made for the test (openssl).
describe('TLS with ws as the peer', () => {
  const cert = makeTestCertificate();

  it('serve over TLS echoes to a ws client that trusts the test certificate', async () => {
    const server = await serve({ host: '127.0.0.1', port: 0, tls: cert }, (conn) => conn.readable.pipeTo(conn.writable));
    try {
      expect(server.url.startsWith('wss://')).toBe(true);
      const ws = new WebSocket(server.url, { ca: cert.cert });
      await once(ws, 'open');
      ws.send(Buffer.alloc(70_000, 7));
      const [data, isBinary] = await once(ws, 'message');
      expect(isBinary).toBe(true);
      expect((data as Buffer).length).toBe(70_000);
      expect((data as Buffer).every((x) => x === 7)).toBe(true);
      ws.close(1000, 'tls done');
      const [code] = await once(ws, 'close');
      expect(code).toBe(1000);
    } finally {
      await server.close();
    }
  });

  it('connect over wss talks to a ws server on https and refuses an untrusted certificate', async () => {
    const https = createServer({ key: cert.key, cert: cert.cert });
    const wss = new WebSocketServer({ server: https });
    wss.on('connection', (s) => s.on('message', (d, bin) => s.send(d, { binary: bin })));
    await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
    const url = `wss://127.0.0.1:${(https.address() as { port: number }).port}/`;
    try {
      const conn = await connect(url, { tls: { ca: cert.cert, servername: 'localhost' } });
      await conn.send('secret');
      expect(await (await conn.nextMessage())!.text()).toBe('secret');
      expect(await conn.close(1000)).toMatchObject({ wasClean: true, code: 1000 });
      await expect(connect(url)).rejects.toMatchObject({ name: 'HandshakeError', kind: 'CONNECTION_FAILED' });
    } finally {
      await new Promise((r) => wss.close(r));
      await new Promise((r) => https.close(r));
    }
  });
});
