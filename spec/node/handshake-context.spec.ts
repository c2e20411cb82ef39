// What `onRequest` learnt from the upgrade request reaches the connection handler as
// `conn.handshake.context`: the very object, typed from onRequest's answer (this file
// type-checks `.user.name` without a cast). ws is the client, sending an Authorization header.
import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { attach, type UpgradeRequestInfo } from '../../lib/node/upgrade';
import { serve } from '../../lib/node/server';

interface User { readonly name: string }
const users = new Map<string, User>([['Bearer alice-token', { name: 'alice' }]]);

/** Resolves once ws is open, or with the HTTP status of the refusal. */
function wsOutcome(url: string, authorization: string): Promise<{ ws?: WebSocket; status?: number }> {
  const ws = new WebSocket(url, { headers: { authorization } });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode });
      ws.terminate();
    });
    ws.once('error', (err) => reject(err));
  });
}

describe('handshake context from onRequest to the handler', () => {
  it('serve: the handler sees the very object onRequest returned; a refused request never reaches it', async () => {
    const given: User[] = [];
    const handled: Array<{ context: { user: User }; name: string; auth: string | undefined; url: string; remoteAddress: string | undefined }> = [];
    const server = await serve({
      host: '127.0.0.1',
      port: 0,
      onRequest: (req: UpgradeRequestInfo) => {
        const user = users.get(req.headers.authorization ?? '');
        if (user === undefined) return { status: 401 };
        given.push(user);
        return { context: { user } };
      },
    }, (conn) => {
      handled.push({
        context: conn.handshake.context,
        name: conn.handshake.context.user.name,
        auth: conn.handshake.requestHeaders.authorization,
        url: conn.handshake.url,
        remoteAddress: conn.handshake.remoteAddress,
      });
    });
    try {
      const refused = await wsOutcome(`${server.url}/chat`, 'Bearer wrong');
      expect(refused.status).toBe(401);
      const { ws } = await wsOutcome(`${server.url}/chat`, 'Bearer alice-token');
      await new Promise((r) => setImmediate(r));
      expect(handled).toHaveLength(1);
      expect(handled[0]!.context.user).toBe(given[0]);
      expect(handled[0]).toMatchObject({
        name: 'alice', auth: 'Bearer alice-token', url: `${server.url}/chat`, remoteAddress: '127.0.0.1',
      });
      ws!.terminate();
    } finally {
      await server.close();
    }
  });

  it('attach: the context comes through an async onRequest too; accepting without one gives undefined', async () => {
    const http = createServer();
    const contexts: unknown[] = [];
    const token = { session: 7 };
    attach(http, { onRequest: async (req) => (req.headers.authorization === 'Bearer s7' ? { context: token } : true) }, (conn) => {
      contexts.push(conn.handshake.context);
    });
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    const url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/`;
    try {
      const a = await wsOutcome(url, 'Bearer s7');
      const b = await wsOutcome(url, 'none');
      await new Promise((r) => setImmediate(r));
      expect(contexts).toHaveLength(2);
      expect(contexts[0]).toBe(token);
      expect(contexts[1]).toBeUndefined();
      a.ws!.terminate();
      b.ws!.terminate();
    } finally {
      http.closeAllConnections();
      await new Promise((r) => http.close(r));
    }
  });
});
