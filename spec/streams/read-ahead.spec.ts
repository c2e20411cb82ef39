import { once } from 'node:events';
import WebSocket from 'ws';
import { serve } from '../../lib/node/server';
import { usingPonyfill } from '../../lib/streams/stream-classes';
import type { Connection } from '../../lib/streams/connection';
import type { IncomingMessage } from '../../lib/streams/incoming-message';
import { connectionPair, concat } from '../helpers/connection-pair';
import { FakeClock } from '../helpers/fake-clock';
import { closeBody, describeFrames, frameFrom, rawEndpoint, settledWithin, turns, type Role } from '../helpers/wire';

// The connection parses what it received ahead of its consumer, up to `receiveHighWaterMark`
// of unread payload: data is queued in order, control frames behind it are acted on at once
// (pings answered, pongs reported, the peer's close answered). Only at the mark is the
// transport paused, and then control frames wait too. Every timer runs on a fake clock that
// is never moved: nothing here may wait for a timeout.

const dec = new TextDecoder();
const ROLES: readonly Role[] = ['server', 'client'];

/** Reads every message left, in order, as `type:text`. */
async function drain(conn: Connection, how: 'for-await' | 'readable' | 'nextMessage'): Promise<string[]> {
  const got: string[] = [];
  const take = async (m: IncomingMessage): Promise<void> => {
    got.push(`${m.type}:${await m.text()}`);
  };
  if (how === 'for-await') {
    for await (const m of conn) await take(m);
  } else if (how === 'readable') {
    for await (const m of conn.readable) await take(m);
  } else {
    for (let m = await conn.nextMessage(); m; m = await conn.nextMessage()) await take(m);
  }
  return got;
}

describe(`reading ahead of the consumer (${usingPonyfill ? 'ponyfill' : 'native'} streams)`, () => {
  describe('a server whose handler only sends, never reads', () => {
    it('answers every ping after the peer sent it a message, and the peer\'s close() completes cleanly without the close timeout', async () => {
      const clock = new FakeClock();
      const { client, server } = connectionPair({ client: { clock }, server: { clock } });
      // The server's handler: it sends, and never asks for a message.
      await server.send('welcome');
      const pongs: string[] = [];
      client.onPong = (d) => pongs.push(dec.decode(d));
      await client.send('hello, unread');
      client.ping('p1');
      await turns();
      expect(pongs).toEqual(['p1']);
      await client.send('another, unread');
      client.ping('p2');
      await turns();
      expect(pongs).toEqual(['p1', 'p2']);
      expect(await (await client.nextMessage())!.text()).toBe('welcome');
      expect(await settledWithin(client.close(1000, 'bye'))).toMatchObject({ wasClean: true, code: 1000, reason: 'bye' });
      expect(await settledWithin(server.closed)).toMatchObject({ wasClean: true, code: 1000, reason: 'bye' });
      expect(clock.now()).toBe(0);
      expect(clock.pending).toBe(0);
    });

    it('over real TCP with ws as the client: pong after an unread message, then a clean close (1000)', async () => {
      let serverConn: Connection | undefined;
      const server = await serve({ host: '127.0.0.1', port: 0 }, (conn) => {
        serverConn = conn;
        void conn.send('welcome');
      });
      try {
        const ws = new WebSocket(server.url, { perMessageDeflate: false });
        const welcome = once(ws, 'message');
        await once(ws, 'open');
        expect(String((await welcome)[0])).toBe('welcome');
        ws.send('hello, unread');
        const pong = once(ws, 'pong');
        ws.ping('are you there');
        expect(String((await pong)[0])).toBe('are you there');
        const closed = once(ws, 'close');
        ws.close(1000, 'done');
        const [code, reason] = await closed;
        expect([code, String(reason)]).toEqual([1000, 'done']);
        expect(await serverConn!.closed).toMatchObject({ wasClean: true, code: 1000, reason: 'done' });
      } finally {
        await server.close();
      }
    });
  });

  describe('a local close() with received data unread', () => {
    it('client: await close(1000) with one received message unread resolves {wasClean: true, code: 1000} without the clock moving', async () => {
      const clock = new FakeClock();
      const { client, server } = connectionPair({ client: { clock }, server: { clock } });
      const serverReading = server.nextMessage();
      await server.send('never read');
      await turns();
      expect(await settledWithin(client.close(1000))).toMatchObject({ wasClean: true, code: 1000, reason: '' });
      expect(await settledWithin(server.closed)).toMatchObject({ wasClean: true, code: 1000, reason: '' });
      expect(await serverReading).toBeUndefined();
      // The unread message was discarded with the close.
      expect(await client.nextMessage()).toBeUndefined();
      expect(clock.now()).toBe(0);
      expect(clock.pending).toBe(0);
    });

    it.each(ROLES)('%s: close() completes in one round trip though unread data filled the receive mark and paused the transport', async (role) => {
      const clock = new FakeClock();
      const mark = 4096;
      const { conn, peer, transport, peerRole } = rawEndpoint(role, { clock, receiveHighWaterMark: mark });
      const big = new Uint8Array(3000).fill(0x61);
      peer.write([concat([frameFrom(peerRole, 2, big), frameFrom(peerRole, 2, big), frameFrom(peerRole, 2, big)])]);
      await turns();
      expect(transport.paused).toBe(true);
      const closing = conn.close(1000);
      await turns();
      expect(describeFrames(transport.written)).toEqual(['close:1000']);
      // The peer answers (behind two more data messages of its own, sent before it saw our close).
      peer.write([concat([frameFrom(peerRole, 1, 'late'), frameFrom(peerRole, 1, 'later'), frameFrom(peerRole, 8, closeBody(1000))])]);
      peer.end();
      expect(await settledWithin(closing)).toMatchObject({ wasClean: true, code: 1000, reason: '' });
      expect(await conn.nextMessage()).toBeUndefined();
      expect(clock.now()).toBe(0);
    });
  });

  describe.each(ROLES)('%s: messages received before the peer\'s close', (role) => {
    it.each(['for-await', 'readable', 'nextMessage'] as const)('stay readable after it, in order, then %s ends', async (how) => {
      const clock = new FakeClock();
      const { conn, peer, transport, peerRole } = rawEndpoint(role, { clock });
      peer.write([concat([
        frameFrom(peerRole, 1, 'one'),
        frameFrom(peerRole, 2, 'two', { fin: false }), frameFrom(peerRole, 0, '+more'),
        frameFrom(peerRole, 1, 'three'),
        frameFrom(peerRole, 8, closeBody(1000, 'bye')),
      ])]);
      await turns();
      // Nobody has read anything, and the peer's close was answered already.
      expect(describeFrames(transport.written)).toEqual(['close:1000']);
      peer.end();
      expect(await settledWithin(conn.closed)).toMatchObject({ wasClean: true, code: 1000, reason: 'bye' });
      expect(await settledWithin(drain(conn, how))).toEqual(['text:one', 'binary:two+more', 'text:three']);
      expect(clock.now()).toBe(0);
    });
  });

  describe.each(ROLES)('%s: unread data up to receiveHighWaterMark', (role) => {
    it('pauses the transport only at the mark; pings behind data below it are answered, pings behind data at it wait for the consumer', async () => {
      const clock = new FakeClock();
      const mark = 1000;
      const { conn, peer, transport, peerRole } = rawEndpoint(role, { clock, receiveHighWaterMark: mark });
      const pongs = (): string[] => describeFrames(transport.written).filter((f) => f.startsWith('pong:'));
      const data = (n: number, fill: number): Uint8Array => frameFrom(peerRole, 2, new Uint8Array(n).fill(fill));

      peer.write([concat([data(600, 1), frameFrom(peerRole, 9, 'a')])]);
      await turns();
      expect(transport.paused).toBe(false);
      expect(pongs()).toEqual(['pong:a']);

      // One byte short of the mark, in several messages: still flowing.
      peer.write([concat([data(300, 2), data(99, 3), frameFrom(peerRole, 9, 'b')])]);
      await turns();
      expect(transport.paused).toBe(false);
      expect(pongs()).toEqual(['pong:a', 'pong:b']);

      // The last byte to the mark: paused, and the ping behind it is not parsed.
      peer.write([concat([data(1, 4), frameFrom(peerRole, 9, 'c')])]);
      await turns();
      expect(transport.paused).toBe(true);
      expect(pongs()).toEqual(['pong:a', 'pong:b']);
      // What the peer sees: what it sends now is not taken.
      peer.write([frameFrom(peerRole, 9, 'd')]);
      await turns();
      expect(transport.incomingBytes).toBeGreaterThan(0);
      expect(pongs()).toEqual(['pong:a', 'pong:b']);

      // The consumer reads the first message (600 of the 1000 unread bytes): the ping behind
      // the data is reached, and below half the mark the transport resumes.
      const first = (await conn.nextMessage())!;
      expect((await first.bytes()).length).toBe(600);
      await turns();
      expect(transport.paused).toBe(false);
      expect(transport.incomingBytes).toBe(0);
      expect(pongs().slice(0, 2)).toEqual(['pong:a', 'pong:b']);
      // c and d are answered now (RFC 6455 §5.5.3 lets pongs to c and d be coalesced into d's).
      expect([['pong:c', 'pong:d'], ['pong:d']]).toContainEqual(pongs().slice(2));

      // Everything unread is still there, intact and in order.
      const sizes: number[] = [];
      for (let i = 0; i < 3; i++) {
        const m = (await conn.nextMessage())!;
        const b = await m.bytes();
        expect(b.every((x) => x === i + 2)).toBe(true);
        sizes.push(b.length);
      }
      expect(sizes).toEqual([300, 99, 1]);
      expect(clock.now()).toBe(0);
    });
  });

  describe.each(ROLES)('%s: unread messages without payload', (role) => {
    it('are bounded by their number, not only their bytes: 5,000 unread empty messages pause the transport after 512 (at a 32 KiB mark), none is lost', async () => {
      const clock = new FakeClock();
      const mark = 32 * 1024; // 512 entries: an empty message is two (its frame's start and end)
      const { conn, peer, transport, peerRole } = rawEndpoint(role, { clock, receiveHighWaterMark: mark });
      const empty = frameFrom(peerRole, 2, new Uint8Array(0));
      peer.write([concat(new Array<Uint8Array>(5000).fill(empty))]);
      await turns();
      expect(transport.paused).toBe(true);
      // Every one is still there, in order, once read.
      for (let i = 0; i < 5000; i++) {
        const m = await conn.nextMessage();
        expect(m).toBeDefined();
        expect((await m!.bytes()).length).toBe(0);
      }
      await turns();
      expect(transport.paused).toBe(false);
      expect(clock.now()).toBe(0);
    });
  });

  describe.each(ROLES)('%s: pongs while a message is unread', (role) => {
    it('delivers each pong to onPong at once; the message stays readable', async () => {
      const clock = new FakeClock();
      const { conn, peer, peerRole } = rawEndpoint(role, { clock });
      const got: string[] = [];
      conn.onPong = (d) => got.push(dec.decode(d));
      peer.write([concat([frameFrom(peerRole, 1, 'unread', { fin: false }), frameFrom(peerRole, 0xa, 'x'), frameFrom(peerRole, 0, '!')])]);
      peer.write([concat([frameFrom(peerRole, 1, 'second'), frameFrom(peerRole, 0xa, 'y')])]);
      await turns();
      expect(got).toEqual(['x', 'y']);
      expect(await (await conn.nextMessage())!.text()).toBe('unread!');
      expect(await (await conn.nextMessage())!.text()).toBe('second');
    });
  });
});
