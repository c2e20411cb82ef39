// maxFragments against ws sending a message in one-byte fragments over loopback TCP: the
// default lets DEFAULT_OPTIONS.maxFragments frames through and fails the connection with 1009
// (RFC 6455 §7.4.1: a message "too big for it to process") at the header of the frame past it.
import WebSocket from 'ws';
import { serve, type WebSocketServerHandle } from '../../lib/node/server';
import { DEFAULT_OPTIONS } from '../../lib/streams/connection-options';
import type { CloseInfo } from '../../lib/streams/errors';

/** The default chosen from bench/fragments.mjs (README "Limits and defaults"). */
const LIMIT = 16_384;

let server: WebSocketServerHandle | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A server that answers each message with its length; `closes` gets how each connection ended. */
async function lengthServer(options: { maxFragments?: number } = {}): Promise<{ url: string; closes: Promise<CloseInfo>[] }> {
  const closes: Promise<CloseInfo>[] = [];
  server = await serve({ host: '127.0.0.1', port: 0, ...options }, async (conn) => {
    closes.push(conn.closed);
    try {
      for await (const msg of conn) await conn.send(String((await msg.bytes()).length));
    } catch {
      // The message that broke the limit errors; `closed` says how the connection ended.
    }
  });
  return { url: server.url, closes };
}

async function open(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url);
  await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
  return ws;
}

/** Sends one binary message of `n` one-byte frames. */
function sendFragments(ws: WebSocket, n: number): void {
  const byte = Buffer.from([0x61]);
  for (let i = 0; i < n; i++) ws.send(byte, { binary: true, fin: i === n - 1, compress: false });
}

describe('maxFragments', () => {
  it('defaults to 16 384, as ws servers do', () => {
    expect(DEFAULT_OPTIONS.maxFragments).toBe(LIMIT);
  });

  it(`the default (${LIMIT}) takes a message of exactly that many frames`, async () => {
    const { url } = await lengthServer();
    const ws = await open(url);
    const reply = new Promise<string>((r) => ws.once('message', (d) => r(String(d))));
    sendFragments(ws, LIMIT);
    expect(await reply).toBe(String(LIMIT));
    ws.terminate();
  }, 30_000);

  it('the frame past the default fails the connection with 1009, seen by ws', async () => {
    const { url, closes } = await lengthServer();
    const ws = await open(url);
    const closed = new Promise<[number, string]>((r) => ws.once('close', (code, reason) => r([code, String(reason)])));
    sendFragments(ws, LIMIT + 1);
    expect(await closed).toEqual([1009, `Message has more than ${LIMIT} frames (maxFragments)`]);
    expect(await closes[0]).toMatchObject({ code: 1009, endedBy: 'protocol-error' });
  }, 30_000);

  it('a limit of its own is kept exactly: 10 frames pass, the 11th fails with 1009', async () => {
    const { url } = await lengthServer({ maxFragments: 10 });
    const ws = await open(url);
    const reply = new Promise<string>((r) => ws.once('message', (d) => r(String(d))));
    sendFragments(ws, 10);
    expect(await reply).toBe('10');
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    sendFragments(ws, 11);
    expect(await closed).toBe(1009);
  }, 30_000);
});
