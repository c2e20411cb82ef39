import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Browser } from 'playwright-core';
import { attach } from '../../lib/node/upgrade';
import type { Connection } from '../../lib/streams/connection';
import type { CloseInfo } from '../../lib/streams/errors';
import { launchChromium } from '../helpers/chromium';
import { PAGE } from './exchange-page';

describe('interop with headless Chromium', () => {
  let browser: Browser;
  let http: Server;
  const closes: Array<Promise<CloseInfo>> = [];
  const deflateCloses: Array<Promise<CloseInfo>> = [];
  const sockets: Socket[] = [];
  const deflateSeen: Array<{ extensions: string; compressed: boolean[] }> = [];

  beforeAll(async () => {
    http = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE));
    attach(http, { path: '/echo', maxMessageSize: 64 * 1024 * 1024 }, (conn: Connection) => {
      closes.push(conn.closed);
      void conn.readable.pipeTo(conn.writable).catch(() => undefined);
    });
    http.on('connection', (socket: Socket) => sockets.push(socket));
    attach(http, { path: '/deflate', maxMessageSize: 64 * 1024 * 1024, perMessageDeflate: true }, (conn: Connection) => {
      deflateSeen.push({ extensions: conn.extensions, compressed: [] });
      const seen = deflateSeen[deflateSeen.length - 1];
      deflateCloses.push(conn.closed);
      void (async () => {
        for await (const msg of conn.readable) {
          seen.compressed.push(msg.compressed);
          await conn.send(msg);
        }
      })().catch(() => undefined);
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await new Promise((r) => http.close(r));
    http.closeAllConnections?.();
  });

  it('Chromium exchanges text and binary messages up to 32 MiB with our server and closes with a code and reason', async () => {
    const port = (http.address() as { port: number }).port;
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    const sizes = [0, 1, 125, 126, 65_536, 1024 * 1024, 32 * 1024 * 1024];
    const result = await page.evaluate(([url, s]) => (window as unknown as { runExchange(u: string, s: number[]): Promise<unknown> }).runExchange(url as string, s as number[]),
      [`ws://127.0.0.1:${port}/echo`, sizes] as const) as { got: Array<{ type: string; length: number; ok: boolean }>; code: number; reason: string; wasClean: boolean; extensions: string };
    const expected = sizes.flatMap((n) => [{ type: 'text', length: n, ok: true }, { type: 'binary', length: n, ok: true }]);
    expect(result.got).toEqual(expected);
    // The close the browser started is echoed: its close event sees our echo of its code and reason.
    expect(result).toMatchObject({ code: 4100, reason: 'browser done', wasClean: true });
    expect(await closes[0]).toEqual({ wasClean: true, code: 4100, reason: 'browser done', endedBy: 'close-handshake' });
    await page.close();
  }, 120_000);

  it('Chromium negotiates permessage-deflate with our server and exchanges compressed messages up to 32 MiB', async () => {
    const port = (http.address() as { port: number }).port;
    const before = sockets.length;
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${port}/`);
    const sizes = [0, 1, 125, 65_536, 1024 * 1024, 32 * 1024 * 1024];
    const result = await page.evaluate(([url, s]) => (window as unknown as { runExchange(u: string, s: number[]): Promise<unknown> }).runExchange(url as string, s as number[]),
      [`ws://127.0.0.1:${port}/deflate`, sizes] as const) as { got: Array<{ type: string; length: number; ok: boolean }>; code: number; reason: string; wasClean: boolean; extensions: string };
    const expected = sizes.flatMap((n) => [{ type: 'text', length: n, ok: true }, { type: 'binary', length: n, ok: true }]);
    expect(result.got).toEqual(expected);
    // Chromium offers `permessage-deflate; client_max_window_bits`; we accept it as offered.
    expect(result.extensions).toBe('permessage-deflate');
    expect(deflateSeen[0].extensions).toBe('permessage-deflate');
    // Chromium compressed what it sent (all but possibly the tiniest), and so did we: 66 MiB of
    // payload went back in far fewer bytes.
    expect(deflateSeen[0].compressed.slice(-6)).toEqual([true, true, true, true, true, true]);
    const written = Math.max(...sockets.slice(before).map((x) => x.bytesWritten));
    expect(written).toBeLessThan(4 * 1024 * 1024);
    expect(result).toMatchObject({ code: 4100, reason: 'browser done', wasClean: true });
    expect(await deflateCloses[0]).toEqual({ wasClean: true, code: 4100, reason: 'browser done', endedBy: 'close-handshake' });
    await page.close();
  }, 120_000);
});
