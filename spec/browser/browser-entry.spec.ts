import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as webStreams from 'node:stream/web';
import type { Browser, Page } from 'playwright-core';
import { serve, type WebSocketServerHandle } from '../../lib/node/server';
import type { Connection } from '../../lib/streams/connection';
import type { CloseInfo } from '../../lib/streams/errors';
import { bundleForBrowser, launchChromium, reexport, writeBrowserTsconfig } from '../helpers/browser-bundler';
import { BROWSER_ENTRY_PAGE } from './browser-entry-page';

// `websocket-streams/browser` in headless Chromium against our Node server (serve()), over
// both of its implementations: WebSocketStream (Chromium has it, unflagged) and the plain
// WebSocket (the page hides WebSocketStream first, as browsers without it are). The page
// reports what it observed; the server records what it received, byte for byte.

const MiB = 1024 * 1024;
// The backpressure specs: 24 messages of 4 MiB, 96 MiB in all, so that what the buffers between
// page and server hold (the kernel's socket buffers on loopback autotune to a few MiB here,
// tcp_rmem allows 32) is small beside it: the page may lead by at most LEAD_BOUND messages, and
// without backpressure leads by BP_COUNT (it resolves every send before the server has read one).
const BP_COUNT = 24;
const BP_SIZE = 4 * MiB;
const LEAD_BOUND = 12;

/** The bytes the page's pattern() makes. */
function pattern(seed: number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 13 + seed) & 255;
  return b;
}

interface Received { type: 'text' | 'binary'; data: Buffer }

/** What the server saw of one connection. */
interface Seen {
  path: string;
  protocol: string;
  received: Received[];
  closed: Promise<CloseInfo>;
  leads: number[];
}

type Scenario = (conn: Connection, seen: Seen) => Promise<void>;

describe.each([['WebSocketStream'], ['WebSocket']] as const)('websocket-streams/browser in Chromium over %s', (impl) => {
  let browser: Browser;
  let http: Server;
  let wsServer: WebSocketServerHandle;
  let origin: string;
  let tmp: string;
  let page: Page;
  const seen: Seen[] = [];
  let serverSendsResolved = 0;
  let releaseSlow: (() => void) | undefined;
  let slowRequested: Promise<void>;
  let markSlowRequested: () => void;

  const scenarios: Record<string, Scenario> = {
    '/echo': async (conn, s) => {
      for await (const msg of conn) {
        const data = Buffer.from(await msg.bytes());
        s.received.push({ type: msg.type, data });
        await conn.send(msg.type === 'text' ? data.toString('utf8') : data);
      }
    },
    '/stream': async (conn) => {
      await conn.send(pattern(7, 4 * MiB));
      await conn.send('one frame of text');
      await conn.send(pattern(9, 256 * 1024));
      await conn.send('fourth');
      await conn.closed;
    },
    '/json': async (conn, s) => {
      await conn.send('{"op":"add","n":[1,2]}');
      await conn.send('not json');
      await conn.send(Buffer.from('\uFEFF{"binary":true}'));
      const msg = await conn.nextMessage();
      s.received.push({ type: msg!.type, data: Buffer.from(await msg!.bytes()) });
      await conn.close(4000, 'json done');
    },
    '/server-close': async (conn) => {
      await conn.send('one');
      await conn.send('two');
      await conn.close(4200, 'server bye');
    },
    '/record': async (conn, s) => {
      for await (const msg of conn) {
        const data = Buffer.from(await msg.bytes());
        s.received.push({ type: msg.type, data });
        if (data.toString() === 'ping') await conn.send('pong');
      }
    },
    // Reads a message only after asking the page how many of its sends have resolved.
    '/slow-reader': async (conn, s) => {
      let k = 0;
      for await (const msg of conn) {
        const resolved = await page.evaluate(() => (window as unknown as { state: { sendsResolved: number } }).state.sendsResolved);
        s.leads.push(resolved - k++);
        s.received.push({ type: msg.type, data: Buffer.from(await msg.bytes()) });
      }
    },
    // Sends BP_COUNT messages as fast as its sends resolve (the page asks how many did).
    '/fast-sender': async (conn) => {
      for (let k = 0; k < BP_COUNT; k++) {
        await conn.send(pattern(k, BP_SIZE));
        serverSendsResolved = k + 1;
      }
      await conn.closed;
    },
    '/flood': async (conn) => {
      for (let k = 0; k < 16; k++) void conn.send(pattern(k, MiB));
      await conn.closed;
    },
    '/big': async (conn) => {
      void conn.send(pattern(1, 2 * MiB));
      await conn.closed;
    },
    '/pipe': async (conn, s) => {
      for (const m of ['first', 'second']) await conn.send(m);
      await conn.send(pattern(5, 100_000));
      for (let k = 0; k < 3; k++) {
        const msg = await conn.nextMessage();
        s.received.push({ type: msg!.type, data: Buffer.from(await msg!.bytes()) });
      }
      await conn.close(4300, 'pipe done');
    },
  };

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'browser-entry-'));
    const bundle = await bundleForBrowser('browser', reexport('lib/browser/index.ts'), writeBrowserTsconfig(tmp, ['lib/browser/index.ts']), undefined);
    http = createServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (path === '/') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(BROWSER_ENTRY_PAGE);
      else if (path === '/browser.mjs') res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(bundle.code);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
    wsServer = await serve({
      host: '127.0.0.1',
      port: 0,
      protocols: ['chat.v1'],
      // /slow holds the handshake until the spec lets it go (the page aborts meanwhile), then
      // refuses it: no connection of it can reach a later test.
      onRequest: async (req) => {
        if (req.path === '/refuse') return { status: 403 };
        if (req.path !== '/slow') return true;
        markSlowRequested();
        await new Promise<void>((r) => (releaseSlow = r));
        return { status: 503 };
      },
    }, (conn) => {
      const path = conn.handshake.path;
      const s: Seen = { path, protocol: conn.protocol, received: [], closed: conn.closed, leads: [] };
      seen.push(s);
      void (scenarios[path] ?? (() => conn.close(4404, 'no scenario')))(conn, s).catch(() => undefined);
    });
    // playwright-core (test tooling) needs the runtime's stream globals, which the ponyfill
    // project removes (this spec is not run there; this keeps it working if it is).
    const g = globalThis as Record<string, unknown>;
    for (const name of ['ReadableStream', 'WritableStream', 'TransformStream'] as const) g[name] ??= webStreams[name];
    browser = await launchChromium();
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await wsServer?.close();
    if (http) await new Promise((r) => http.close(r));
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  beforeEach(async () => {
    seen.length = 0;
    serverSendsResolved = 0;
    slowRequested = new Promise((r) => (markSlowRequested = r));
    page = await browser.newPage();
    await page.exposeFunction('serverSendsResolved', () => serverSendsResolved);
    await page.goto(`${origin}/?impl=${impl}`);
    await page.waitForFunction(() => (window as unknown as { ready?: boolean }).ready === true);
  });

  afterEach(async () => {
    await page.close();
  });

  /** Runs `window.scenarios[name](ws URL of path, ...args)` in the page. */
  function run(name: string, path: string, ...args: unknown[]): Promise<unknown> {
    return page.evaluate(([n, a]) => (window as unknown as { scenarios: Record<string, (...x: unknown[]) => Promise<unknown>> }).scenarios[n as string]!(...(a as readonly unknown[])),
      [name, [`${wsServer.url}${path}`, ...args]] as const);
  }

  const onlySeen = (): Seen => {
    expect(seen).toHaveLength(1);
    return seen[0]!;
  };

  it('echoes text and binary messages; our server receives them byte for byte; close codes and reasons go both ways', async () => {
    const texts = ['', 'hello', 'ünïcödé 😀 and more', 'x'.repeat(70_000)];
    const sizes = [0, 1, 125, 126, 65_536, MiB];
    const result = await run('echo', '/echo', texts, sizes);
    expect(result).toEqual({
      opened: { implementation: impl, protocol: 'chat.v1', extensions: '', readyState: 1 },
      got: [...texts.map(() => ({ type: 'text', ok: true })), ...sizes.map((n) => ({ type: 'binary', length: n, ok: true }))],
      closed: { wasClean: true, code: 4100, reason: 'page done', endedBy: 'close-handshake' },
      readyState: 3,
    });
    const s = onlySeen();
    expect(s.protocol).toBe('chat.v1');
    expect(s.received.map((m) => m.type)).toEqual([...texts.map(() => 'text'), ...sizes.map(() => 'binary')]);
    texts.forEach((t, i) => expect(s.received[i]!.data.equals(Buffer.from(t))).toBe(true));
    sizes.forEach((n, i) => expect(s.received[texts.length + i]!.data.equals(pattern(n, n))).toBe(true));
    expect(await s.closed).toEqual({ wasClean: true, code: 4100, reason: 'page done', endedBy: 'close-handshake' });
  });

  it('msg.stream() gives a 4 MiB message chunk by chunk; a message is one frame; reading the next message discards the rest', async () => {
    const result = await run('streamAndFrames', '/stream', 4 * MiB);
    expect(result).toEqual({
      type: 'binary', total: 4 * MiB, ok: true, chunkCount: 64, largestChunk: 64 * 1024,
      again: { name: 'TypeError', message: expect.stringContaining('already being read') },
      frames: [{ fin: true, rsv: 0, opcode: 1, length: 17, text: 'one frame of text' }],
      first: 64 * 1024,
      discarded: { name: 'WebSocketError', kind: 'DISCARDED', message: expect.stringContaining('discarded') },
      last: 'fourth',
    });
  });

  it('json() parses text and binary messages; invalid JSON rejects with a SyntaxError and the connection goes on', async () => {
    const result = await run('json', '/json');
    expect(result).toEqual({
      value: { op: 'add', n: [1, 2] },
      invalid: { name: 'SyntaxError', message: expect.any(String) },
      fromBinary: { binary: true },
      closed: { wasClean: true, code: 4000, reason: 'json done', endedBy: 'close-handshake' },
    });
    expect(onlySeen().received.map((m) => m.data.toString())).toEqual(['still open']);
  });

  it('a close started by the server ends the page\'s loop after the messages sent before it, with the server\'s code and reason', async () => {
    expect(await run('serverCloses', '/server-close')).toEqual({
      texts: ['one', 'two'],
      closed: { wasClean: true, code: 4200, reason: 'server bye', endedBy: 'close-handshake' },
      readyState: 3,
    });
    expect(await onlySeen().closed).toMatchObject({ wasClean: true, code: 4200, reason: 'server bye' });
  });

  it('close() refuses codes a page may not send and reasons over 123 bytes, then closes with 1000; send() after close() rejects', async () => {
    expect(await run('badCloses', '/record')).toEqual({
      tries: ['RangeError', 'RangeError', 'RangeError', 'RangeError', 'TypeError'],
      readyState: 1,
      closed: { wasClean: true, code: 1000, reason: '', endedBy: 'close-handshake' },
      sendAfter: { name: 'InvalidStateError', message: expect.any(String) },
    });
    expect(await onlySeen().closed).toMatchObject({ wasClean: true, code: 1000 });
  });

  it('connect() with an aborted signal rejects with HandshakeError ABORTED and opens nothing', async () => {
    expect(await run('abortedConnect', '/record')).toEqual({ name: 'HandshakeError', kind: 'ABORTED', message: 'The WebSocket handshake was aborted' });
    expect(seen).toEqual([]);
  });

  it('connect() aborted during the opening handshake rejects with HandshakeError ABORTED', async () => {
    await page.evaluate((url) => (window as unknown as { scenarios: Record<string, (u: string) => void> }).scenarios.startSlowConnect!(url), `${wsServer.url}/slow`);
    await slowRequested;
    const result = await page.evaluate(() => (window as unknown as { scenarios: Record<string, () => Promise<unknown>> }).scenarios.abortSlowConnect!());
    releaseSlow?.();
    expect(result).toEqual({ name: 'HandshakeError', kind: 'ABORTED', message: 'The WebSocket handshake was aborted' });
  });

  it('connect() to a server that refuses the handshake rejects with HandshakeError CONNECTION_FAILED', async () => {
    expect(await run('refused', '/refuse')).toEqual({ name: 'HandshakeError', kind: 'CONNECTION_FAILED', message: expect.stringContaining('/refuse') });
    expect(seen).toEqual([]);
  });

  it('aborting writable fails the connection: closed reports 1011, the server sees 4011 after the messages written before', async () => {
    expect(await run('abortWritable', '/record')).toEqual({ wasClean: false, code: 1011, reason: 'Sender aborted', endedBy: 'protocol-error' });
    const s = onlySeen();
    expect(await s.closed).toMatchObject({ wasClean: true, code: 4011, reason: 'Sender aborted' });
    expect(s.received.map((m) => m.data.toString())).toEqual(['before']);
  });

  it('connect()\'s signal aborted once open changes nothing; an aborted nextMessage() leaves the next message for the next call; an aborted send() of a stream cancels it and sends nothing', async () => {
    expect(await run('abortedWaits', '/record')).toEqual({
      waitError: { name: 'string', message: 'stop waiting' },
      answer: 'pong',
      sendError: { name: 'string', message: 'enough' },
      cancelled: 'enough',
      readyState: 1,
      closed: { wasClean: true, code: 1000, reason: '', endedBy: 'close-handshake' },
    });
    // Nothing of the aborted stream reached the server: 'ping', then 'after'.
    expect(onlySeen().received.map((m) => m.data.toString())).toEqual(['ping', 'after']);
  });

  it('send() waits for a slow server: the page is never far ahead of what the server read, and every byte arrives', async () => {
    const result = await run('sendMany', '/slow-reader', BP_COUNT, BP_SIZE, {}) as { implementation: string; sendsResolved: number; maxBuffered: number };
    expect(result).toMatchObject({ implementation: impl, sendsResolved: BP_COUNT, closed: { wasClean: true, code: 1000 } });
    const s = onlySeen();
    expect(s.received).toHaveLength(BP_COUNT);
    s.received.forEach((m, k) => expect(m.data.equals(pattern(k, BP_SIZE))).toBe(true));
    // With backpressure the page is ahead by what the buffers in between hold: the browser's
    // (at most sendHighWaterMark over WebSocket), the kernel's, our server's read-ahead.
    const lead = Math.max(...s.leads);
    expect({ lead, bounded: lead <= LEAD_BOUND }).toEqual({ lead, bounded: true });
    if (impl === 'WebSocket') expect(result.maxBuffered).toBeLessThanOrEqual(MiB);
  });

  if (impl === 'WebSocketStream') {
    it('receiving has backpressure: the server\'s sends wait while the page does not read', async () => {
      const result = await run('readSlowly', '/fast-sender', BP_COUNT, BP_SIZE) as { leads: number[] };
      expect(result).toMatchObject({ implementation: impl, ok: true, closed: { wasClean: true, code: 1000 } });
      const lead = Math.max(...result.leads);
      expect({ lead, bounded: lead <= LEAD_BOUND }).toEqual({ lead, bounded: true });
    });
  } else {
    it('a page that does not read fails the connection with 1009 past maxReceiveBuffer; the server sees 4009', async () => {
      const result = await run('readNothing', '/flood', { maxReceiveBuffer: 4 * MiB });
      expect(result).toEqual({
        implementation: impl,
        closed: { wasClean: false, code: 1009, reason: `Over ${4 * MiB} bytes of messages received and not read`, endedBy: 'protocol-error' },
        next: true,
      });
      expect(await onlySeen().closed).toMatchObject({ wasClean: true, code: 4009, reason: `Over ${4 * MiB} bytes of messages received and not read` });
    });
  }

  it('a received message over maxMessageSize fails the connection with 1009; the server sees 4009', async () => {
    expect(await run('readOne', '/big', { maxMessageSize: MiB })).toEqual({
      implementation: impl,
      next: true,
      closed: { wasClean: false, code: 1009, reason: `Message over maxMessageSize (${MiB} bytes)`, endedBy: 'protocol-error' },
    });
    expect(await onlySeen().closed).toMatchObject({ code: 4009, reason: `Message over maxMessageSize (${MiB} bytes)` });
  });

  it('a stream or Blob to send over maxMessageSize rejects with a RangeError, sends nothing, and the connection goes on', async () => {
    expect(await run('sendTooBig', '/record', 256 * 1024)).toEqual({
      tooBig: { name: 'RangeError', message: expect.stringContaining('maxMessageSize (262144 bytes)') },
      cancelled: 'RangeError',
      tooBigBlob: { name: 'RangeError', message: expect.stringContaining('maxMessageSize (262144 bytes)') },
      closed: { wasClean: true, code: 1000, reason: '', endedBy: 'close-handshake' },
    });
    const got = onlySeen().received;
    expect(got.map((m) => m.type)).toEqual(['binary', 'text']);
    expect(got[0]!.data.equals(pattern(3, 256 * 1024))).toBe(true);
    expect(got[1]!.data.toString()).toBe('typed text');
  });

  it('conn.readable piped to conn.writable echoes the server\'s messages back', async () => {
    expect(await run('pipeEcho', '/pipe')).toEqual({
      closed: { wasClean: true, code: 4300, reason: 'pipe done', endedBy: 'close-handshake' },
      readyState: 3,
    });
    const got = onlySeen().received;
    expect(got.map((m) => m.type)).toEqual(['text', 'text', 'binary']);
    expect(got.map((m) => m.data.length)).toEqual([5, 6, 100_000]);
    expect(got[2]!.data.equals(pattern(5, 100_000))).toBe(true);
  });
});
