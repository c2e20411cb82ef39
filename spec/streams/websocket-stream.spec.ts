import { WebSocketStream, type WebSocketDialer } from '../../lib/streams/websocket-stream';
import { WebSocketError } from '../../lib/streams/errors';
import type { Connection } from '../../lib/streams/connection';
import { connectionPair, rawServer } from '../helpers/connection-pair';

// The WebSocketStream facade over in-memory connections: backpressure both ways (the intent of
// wpt's websockets/stream backpressure tests, without their timers), the view of an open
// connection, dialing through a `dial` function and aborting it. What it observes against a
// real server, next to Chromium's own WebSocketStream, is spec/browser/websocket-stream-vs-chromium.spec.ts.

const KiB = 1024;
/** Lets in-memory deliveries and the pumps run: a bounded number of macrotask turns. */
const turns = async (n: number): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setTimeout(r, 0));
};
/** Turns until `done()` holds, at most `max` of them; whether it held. */
const until = async (done: () => boolean, max = 500): Promise<boolean> => {
  for (let i = 0; i < max && !done(); i++) await new Promise((r) => setTimeout(r, 0));
  return done();
};
const COUNT = 40;
const SIZE = 64 * KiB;
const message = (i: number, size = SIZE): Uint8Array => new Uint8Array(size).fill(i & 255);
/** Starts COUNT sends of 64 KiB (message i filled with i) at once; `completed()` counts those that resolved. */
function sendAll(send: (m: Uint8Array) => Promise<void>): { completed: () => number; all: Promise<unknown> } {
  let completed = 0;
  const all = Promise.all(Array.from({ length: COUNT }, (_, i) => send(message(i)).then(() => void completed++)));
  return { completed: () => completed, all };
}
/** Waits until the receiving side paused `transport` (its read-ahead is full), then a few turns for sends to settle where they are held. */
async function heldBack(transport: { paused: boolean }): Promise<void> {
  expect(await until(() => transport.paused)).toBe(true);
  await turns(5);
}
/** Which message `data` is (its fill byte and length), compared cheaply: toEqual on 64 KiB arrays is slow. */
const which = (data: unknown): string => (data instanceof Uint8Array
  ? `${data.length} × ${data.every((b) => b === data[0]) ? data[0] : 'mixed'}`
  : typeof data);

describe('WebSocketStream over a Connection', () => {
  it('wraps an open connection: opened resolves with its streams, protocol and extensions, url is its handshake URL', async () => {
    const { client, server } = connectionPair();
    const wss = new WebSocketStream(server);
    const info = await wss.opened;
    expect(Object.keys(info).sort()).toEqual(['extensions', 'protocol', 'readable', 'writable']);
    expect([info.protocol, info.extensions, wss.url]).toEqual(['', '', 'ws://test/']);
    await client.send('ping');
    const reader = info.readable.getReader();
    expect(await reader.read()).toEqual({ done: false, value: 'ping' });
    wss.close({ closeCode: 4000, reason: 'done' });
    expect(await wss.closed).toEqual({ closeCode: 4000, reason: 'done' });
    expect(await client.closed).toMatchObject({ code: 4000, reason: 'done', wasClean: true });
  });

  it('does not read the connection past its receive high-water mark while nobody reads: the sender is held back, then everything arrives in order', async () => {
    const { client, server, serverTransport } = connectionPair({ server: { receiveHighWaterMark: 256 * KiB } });
    const wss = new WebSocketStream(server);
    const { readable } = await wss.opened;
    const sends = sendAll((m) => client.send(m));
    // The server stops reading its transport once 256 KiB are unread: backpressure reached TCP.
    await heldBack(serverTransport);
    // 2.5 MiB were sent; held back at the mark, the sender got at most a few hundred KiB out.
    expect(sends.completed()).toBeLessThan(COUNT / 2);
    const reader = readable.getReader();
    for (let i = 0; i < COUNT; i++) expect(which((await reader.read()).value)).toBe(which(message(i)));
    await sends.all;
    expect(sends.completed()).toBe(COUNT);
    wss.close();
    await wss.closed;
  });

  it('holds writes back while the peer does not read: write() waits, writer.ready too, until the peer reads', async () => {
    const { client, server, clientTransport } = connectionPair({ client: { receiveHighWaterMark: 128 * KiB } });
    const wss = new WebSocketStream(server);
    const { writable } = await wss.opened;
    const writer = writable.getWriter();
    const writes = sendAll((m) => writer.write(m));
    await heldBack(clientTransport);
    expect(writes.completed()).toBeLessThan(COUNT / 2);
    expect(writer.desiredSize).toBeLessThanOrEqual(0);
    for (let i = 0; i < COUNT; i++) expect(which(await (await client.nextMessage())?.bytes())).toBe(which(message(i)));
    await writes.all;
    expect(writes.completed()).toBe(COUNT);
    await writer.close();
    expect(await wss.closed).toEqual({ closeCode: 1005, reason: '' });
  });

  it('a server closing its connection with a code pages may not send (1001): the view\'s closed reports it, readable ends', async () => {
    const { client, server } = connectionPair();
    const wss = new WebSocketStream(server);
    const { readable } = await wss.opened;
    await server.close(1001, 'going away');
    expect(await wss.closed).toEqual({ closeCode: 1001, reason: 'going away' });
    expect(await readable.getReader().read()).toEqual({ done: true, value: undefined });
    expect(await client.closed).toMatchObject({ code: 1001, wasClean: true });
  });

  it('a connection failed for the peer\'s invalid UTF-8 (1007): closed rejects with that WebSocketError, readable and writable error with it', async () => {
    // The raw peer never answers our close frame: a short closeTimeout ends the wait for it (the outcome is the same at any length).
    const { server, peer } = rawServer({ closeTimeout: 20 });
    const wss = new WebSocketStream(server);
    const { readable, writable } = await wss.opened;
    // A masked text frame (mask key 0) whose payload, 0xff, is no UTF-8.
    peer.write([new Uint8Array([0x81, 0x81, 0, 0, 0, 0, 0xff])]);
    const error = await wss.closed.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(WebSocketError);
    expect(error).toMatchObject({ closeCode: 1007, kind: 'CLOSED' });
    await expect(readable.getReader().read()).rejects.toBe(error);
    await expect(writable.getWriter().write('x')).rejects.toBe(error);
  });

  it('binary chunks are plain Uint8Arrays owning their buffer, text chunks strings', async () => {
    const { client, server } = connectionPair();
    const { readable } = await new WebSocketStream(server).opened;
    await client.send(new Uint8Array([1, 2, 3]));
    await client.send('text');
    const reader = readable.getReader();
    const bin = (await reader.read()).value as Uint8Array;
    expect(Object.getPrototypeOf(bin)).toBe(Uint8Array.prototype);
    expect([bin.byteOffset, bin.buffer.byteLength, Array.from(bin)]).toEqual([0, 3, [1, 2, 3]]);
    expect((await reader.read()).value).toBe('text');
  });
});

describe('WebSocketStream dialed through a dial function', () => {
  it('passes the normalised URL and the protocols to dial, and opens with what it resolves', async () => {
    const { client, server } = connectionPair();
    const calls: Array<{ url: string; protocols: readonly string[] }> = [];
    const dial: WebSocketDialer = async (url, { protocols }) => {
      calls.push({ url: url.href, protocols });
      return client;
    };
    const wss = new WebSocketStream('http://example.test/chat?x=1', { protocols: ['a', 'b'], dial });
    expect(wss.url).toBe('ws://example.test/chat?x=1');
    const { writable } = await wss.opened;
    expect(calls).toEqual([{ url: 'ws://example.test/chat?x=1', protocols: ['a', 'b'] }]);
    await writable.getWriter().write('hi');
    expect(await (await server.nextMessage())?.text()).toBe('hi');
  });

  it('aborting the signal during the handshake aborts dial and rejects opened and closed with the reason; a connection that still comes is closed', async () => {
    const { client } = connectionPair();
    let dialSignal: AbortSignal | undefined;
    let deliver!: (c: Connection) => void;
    const dial: WebSocketDialer = (_url, { signal }) => {
      dialSignal = signal;
      return new Promise((resolve) => (deliver = resolve));
    };
    const controller = new AbortController();
    const wss = new WebSocketStream('ws://example.test/', { signal: controller.signal, dial });
    const reason = new Error('stop');
    controller.abort(reason);
    expect(dialSignal?.aborted).toBe(true);
    await expect(wss.opened).rejects.toBe(reason);
    await expect(wss.closed).rejects.toBe(reason);
    deliver(client);
    expect(await client.closed).toMatchObject({ wasClean: true, code: 1005 });
  });

  it('close() during the handshake fails it: dial is aborted, opened rejects with a WebSocketError, closed with 1006', async () => {
    let dialSignal: AbortSignal | undefined;
    const dial: WebSocketDialer = (_url, { signal }) => new Promise((_resolve, reject) => {
      dialSignal = signal;
      signal.addEventListener('abort', () => reject(new Error('aborted')));
    });
    const wss = new WebSocketStream('ws://example.test/', { dial });
    wss.close({ closeCode: 4000 });
    expect(dialSignal?.aborted).toBe(true);
    await expect(wss.opened).rejects.toMatchObject({ name: 'WebSocketError', closeCode: null });
    await expect(wss.closed).rejects.toMatchObject({ name: 'WebSocketError', closeCode: 1006, reason: '' });
  });

  it('without dial, a URL is a TypeError (the core cannot dial); a bad URL is a SyntaxError DOMException first', () => {
    expect(() => new WebSocketStream('ws://example.test/')).toThrow(TypeError);
    expect(() => new WebSocketStream('mailto:x@example.test')).toThrow(expect.objectContaining({ name: 'SyntaxError' }));
  });
});

describe('WebSocketError, the WHATWG constructor beside the library\'s own', () => {
  it('with a kind, keeps any close code (as the library makes them); without one, validates as the standard says', () => {
    expect(new WebSocketError('lost', { kind: 'CONNECTION_LOST', closeCode: 1006 })).toMatchObject({ closeCode: 1006, kind: 'CONNECTION_LOST' });
    expect(new WebSocketError('m', { closeCode: 4000, reason: 'r' })).toMatchObject({ closeCode: 4000, reason: 'r', kind: 'APPLICATION', message: 'm' });
    expect(new WebSocketError('m', { reason: 'r' }).closeCode).toBe(1000);
    expect(new WebSocketError().closeCode).toBeNull();
    expect(() => new WebSocketError('m', { closeCode: 1006 })).toThrow(expect.objectContaining({ name: 'InvalidAccessError' }));
    expect(() => new WebSocketError('m', { reason: 'x'.repeat(124) })).toThrow(expect.objectContaining({ name: 'SyntaxError' }));
    expect(() => new WebSocketError('m', { closeCode: 70000 })).toThrow(TypeError);
  });
});
