import { createSecureServer, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { attach } from '../../lib/node/upgrade';
import type { Connection } from '../../lib/streams/connection';
import type { CloseInfo } from '../../lib/streams/errors';
import { launchChromium } from '../helpers/chromium';
import { echoRecordingCompression, makeTestCertificate } from '../node/node-helpers';
import { PAGE, type Exchange } from './exchange-page';

// Headless Chromium as the client of WebSockets over HTTP/2 (RFC 8441). Chromium opens a
// WebSocket as an extended CONNECT only on an HTTP/2 connection it already has to the origin,
// whose SETTINGS enable the extended CONNECT protocol: so the page itself is served by the
// same h2 server (TLS with a test certificate, which the browser context is told to accept).

describe('Chromium as a client of WebSockets over HTTP/2', () => {
  const cert = makeTestCertificate();
  let browser: Browser;
  let h2: Http2SecureServer;
  let port: number;
  /** How each WebSocket handshake reached the server: `CONNECT` (RFC 8441) or `GET` (HTTP/1.1). */
  const methods: string[] = [];
  const pageVersions: string[] = [];
  const sessions: ServerHttp2Session[] = [];
  const closes: Array<Promise<CloseInfo>> = [];
  const compressed: boolean[] = [];
  let deflateExtensions = '';

  beforeAll(async () => {
    h2 = createSecureServer({ key: cert.key, cert: cert.cert, allowHTTP1: true }, (req: Http2ServerRequest, res: Http2ServerResponse) => {
      pageVersions.push(req.httpVersion);
      res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    });
    h2.on('session', (s: ServerHttp2Session) => sessions.push(s));
    const onRequest = (info: { method: string }): true => {
      methods.push(info.method);
      return true;
    };
    attach(h2, { path: '/echo', onRequest, maxMessageSize: 64 * 1024 * 1024 }, (conn: Connection) => {
      closes.push(conn.closed);
      void conn.readable.pipeTo(conn.writable).catch(() => undefined);
    });
    attach(h2, { path: '/deflate', onRequest, perMessageDeflate: true, maxMessageSize: 64 * 1024 * 1024 }, (conn: Connection) => {
      deflateExtensions = conn.extensions;
      closes.push(conn.closed);
      echoRecordingCompression(conn, compressed);
    });
    await new Promise<void>((r) => h2.listen(0, '127.0.0.1', r));
    port = (h2.address() as AddressInfo).port;
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    const closed = new Promise((r) => h2.close(r));
    for (const s of sessions) s.destroy();
    await closed;
  });

  async function exchange(path: string, sizes: number[]): Promise<Exchange> {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    try {
      await page.goto(`https://127.0.0.1:${port}/`);
      return await page.evaluate(([url, s]) => (window as unknown as { runExchange(u: string, s: number[]): Promise<unknown> }).runExchange(url as string, s as number[]),
        [`wss://127.0.0.1:${port}${path}`, sizes] as const) as Exchange;
    } finally {
      await context.close();
    }
  }

  it('Chromium opens the WebSocket as an extended CONNECT on the page\'s HTTP/2 connection and exchanges text and binary messages', async () => {
    const sizes = [0, 1, 125, 126, 65_536, 1024 * 1024, 8 * 1024 * 1024];
    const result = await exchange('/echo', sizes);
    expect(pageVersions[0]).toBe('2.0');
    expect(methods).toEqual(['CONNECT']); // RFC 8441, not an HTTP/1.1 GET upgrade
    expect(result.got).toEqual(sizes.flatMap((n) => [{ type: 'text', length: n, ok: true }, { type: 'binary', length: n, ok: true }]));
    expect(result).toMatchObject({ code: 4100, reason: 'browser done', wasClean: true });
    expect(await closes[0]).toEqual({ wasClean: true, code: 4100, reason: 'browser done', endedBy: 'close-handshake' });
  }, 120_000);

  it('Chromium negotiates permessage-deflate over HTTP/2 and exchanges compressed messages', async () => {
    const sizes = [0, 1, 125, 65_536, 1024 * 1024, 8 * 1024 * 1024];
    const result = await exchange('/deflate', sizes);
    expect(methods.slice(1)).toEqual(['CONNECT']);
    expect(result.got).toEqual(sizes.flatMap((n) => [{ type: 'text', length: n, ok: true }, { type: 'binary', length: n, ok: true }]));
    expect(result.extensions).toBe('permessage-deflate');
    expect(deflateExtensions).toBe('permessage-deflate');
    // Chromium compressed what it sent (all but possibly the tiniest), and we answered compressed.
    expect(compressed.slice(-6)).toEqual([true, true, true, true, true, true]);
    expect(result).toMatchObject({ code: 4100, reason: 'browser done', wasClean: true });
    expect(await closes[1]).toEqual({ wasClean: true, code: 4100, reason: 'browser done', endedBy: 'close-handshake' });
  }, 120_000);
});
