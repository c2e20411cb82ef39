import { createServer as createHttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { WebSocketServer } from 'ws';
import { connect } from '../../lib/node/client';
import { serve, type WebSocketServerHandle } from '../../lib/node/server';
import { startTinyproxy, type Tinyproxy } from '../helpers/tinyproxy';
import { makeTestCertificate } from './node-helpers';

// connect through a real HTTP CONNECT proxy, tinyproxy, to ws: and wss: servers on loopback.
// The proxy's log shows each CONNECT and its target: that is how a spec knows the traffic
// went through it.

const connectsTo = (log: string, target: string): number => log.split('\n').filter((l) => l.includes(`CONNECT ${target} `)).length;

describe('connect through an HTTP CONNECT proxy (tinyproxy)', () => {
  const cert = makeTestCertificate();
  let plain: WebSocketServerHandle;
  let secure: { port: number; servernames: Array<string | false | null>; close(): Promise<void> };
  let proxy: Tinyproxy;
  let proxyUrl: string;

  beforeAll(async () => {
    plain = await serve({ host: '127.0.0.1', port: 0 }, (conn) => conn.readable.pipeTo(conn.writable));
    const https = createHttpsServer({ key: cert.key, cert: cert.cert });
    const wss = new WebSocketServer({ server: https });
    const servernames: Array<string | false | null> = [];
    wss.on('connection', (ws, req) => {
      servernames.push((req.socket as TLSSocket).servername);
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    secure = {
      port: (https.address() as { port: number }).port,
      servernames,
      close: async () => {
        for (const ws of wss.clients) ws.terminate();
        await new Promise((resolve) => wss.close(resolve));
        await new Promise((resolve) => https.close(resolve));
      },
    };
    proxy = await startTinyproxy({ connectPorts: [plain.port, secure.port], basicAuth: { user: 'alice', password: 's3cret' } });
    proxyUrl = `http://alice:s3cret@127.0.0.1:${proxy.port}`;
  });
  afterAll(async () => {
    await proxy?.stop();
    await plain?.close();
    await secure?.close();
  });

  const echo = async (url: string, options: Parameters<typeof connect>[1]): Promise<string> => {
    const conn = await connect(url, options);
    await conn.send('through the tunnel');
    const text = await (await conn.nextMessage())!.text();
    expect(await conn.close(1000)).toMatchObject({ wasClean: true, code: 1000 });
    return text;
  };

  it('opens ws: through the proxy, with the credentials of the proxy URL', async () => {
    const target = `127.0.0.1:${plain.port}`;
    const before = connectsTo(proxy.log(), target);
    expect(await echo(`${plain.url}/chat`, { proxy: proxyUrl })).toBe('through the tunnel');
    expect(connectsTo(proxy.log(), target)).toBe(before + 1);
  });

  it('runs TLS for wss: inside the tunnel, with the target host as SNI', async () => {
    const target = `localhost:${secure.port}`;
    const before = connectsTo(proxy.log(), target);
    expect(await echo(`wss://localhost:${secure.port}/`, { proxy: proxyUrl, tls: { ca: cert.cert } })).toBe('through the tunnel');
    expect(connectsTo(proxy.log(), target)).toBe(before + 1);
    expect(secure.servernames.at(-1)).toBe('localhost');
  });

  it('gives PROXY_REFUSED with 407 and the challenge when the proxy wants credentials', async () => {
    const err = await connect(plain.url, { proxy: `http://127.0.0.1:${proxy.port}` }).then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ name: 'HandshakeError', kind: 'PROXY_REFUSED', status: 407 });
    expect((err as { headers: Record<string, string> }).headers['proxy-authenticate']).toMatch(/^Basic/);
  });

  it('gives PROXY_REFUSED with 403 for a port the proxy does not tunnel to', async () => {
    await expect(connect(`ws://127.0.0.1:${proxy.port}/`, { proxy: proxyUrl })).rejects.toMatchObject({
      name: 'HandshakeError',
      kind: 'PROXY_REFUSED',
      status: 403,
    });
  });

  describe("with proxy: 'env'", () => {
    const saved = { ...process.env };
    afterEach(() => {
      for (const name of ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'no_proxy', 'NO_PROXY']) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    });

    it('takes HTTP_PROXY for ws: and HTTPS_PROXY for wss:', async () => {
      delete process.env.no_proxy;
      delete process.env.NO_PROXY;
      delete process.env.http_proxy;
      delete process.env.https_proxy;
      process.env.HTTP_PROXY = proxyUrl;
      process.env.HTTPS_PROXY = proxyUrl;
      const plainTarget = `127.0.0.1:${plain.port}`;
      const secureTarget = `localhost:${secure.port}`;
      const before = [connectsTo(proxy.log(), plainTarget), connectsTo(proxy.log(), secureTarget)];
      await echo(plain.url, { proxy: 'env' });
      await echo(`wss://localhost:${secure.port}/`, { proxy: 'env', tls: { ca: cert.cert } });
      expect([connectsTo(proxy.log(), plainTarget), connectsTo(proxy.log(), secureTarget)]).toEqual([before[0] + 1, before[1] + 1]);
    });

    it('goes direct for a host NO_PROXY names, and ignores the environment without the option', async () => {
      delete process.env.HTTP_PROXY;
      delete process.env.NO_PROXY;
      process.env.http_proxy = proxyUrl;
      const target = `127.0.0.1:${plain.port}`;
      const before = connectsTo(proxy.log(), target);
      process.env.no_proxy = `example.com, 127.0.0.1:${plain.port + 1}`;
      await echo(plain.url, { proxy: 'env' });
      expect(connectsTo(proxy.log(), target)).toBe(before + 1);
      process.env.no_proxy = `example.com, 127.0.0.1:${plain.port}`;
      await echo(plain.url, { proxy: 'env' });
      delete process.env.no_proxy;
      await echo(plain.url, {});
      expect(connectsTo(proxy.log(), target)).toBe(before + 1);
    });
  });
});
