import type { Connection } from '../../lib/streams/connection';
import { usingPonyfill } from '../../lib/streams/stream-classes';
import { concat, connectionPair } from '../helpers/connection-pair';
import { FakeClock } from '../helpers/fake-clock';
import { closeBody, describeFrames, frameFrom, rawEndpoint, settledWithin, turns, type Role } from '../helpers/wire';

// Leaving `for await (const msg of conn)` early closes the connection (1000), exactly as
// leaving `for await (const msg of conn.readable)` does (ReadableStream's iterator cancels its
// stream, and cancelling `readable` closes); `conn.values({ preventCancel: true })` leaves it
// open, as `ReadableStream.values({ preventCancel: true })` would.

const ROLES: readonly Role[] = ['server', 'client'];

type Form = 'conn' | 'conn.readable' | 'conn.values()';
const FORMS: readonly Form[] = ['conn', 'conn.readable', 'conn.values()'];

function iterable(conn: Connection, form: Form): AsyncIterable<import('../../lib/streams/incoming-message').IncomingMessage> {
  if (form === 'conn') return conn;
  if (form === 'conn.readable') return conn.readable;
  return conn.values();
}

/** A connection with three messages waiting, from a raw peer. */
function withMessages(role: Role) {
  const clock = new FakeClock();
  const ends = rawEndpoint(role, { clock });
  ends.peer.write([concat([frameFrom(ends.peerRole, 1, 'one'), frameFrom(ends.peerRole, 1, 'two'), frameFrom(ends.peerRole, 1, 'three')])]);
  return { ...ends, clock };
}

describe(`iterating a connection's messages (${usingPonyfill ? 'ponyfill' : 'native'} streams)`, () => {
  describe.each(ROLES)('%s', (role) => {
    it.each(FORMS)('break out of for await (const m of %s) closes the connection with 1000', async (form) => {
      const { conn, peer, transport, peerRole, clock } = withMessages(role);
      const got: string[] = [];
      for await (const m of iterable(conn, form)) {
        got.push(await m.text());
        if (got.length === 2) break;
      }
      expect(got).toEqual(['one', 'two']);
      await turns();
      expect(describeFrames(transport.written)).toEqual(['close:1000']);
      peer.write([frameFrom(peerRole, 8, closeBody(1000))]);
      peer.end();
      expect(await settledWithin(conn.closed)).toMatchObject({ wasClean: true, code: 1000, reason: '' });
      expect(clock.now()).toBe(0);
    });

    it.each(FORMS)('a throw out of for await (const m of %s) closes it with 1000 too', async (form) => {
      const { conn, transport } = withMessages(role);
      const looping = (async () => {
        for await (const m of iterable(conn, form)) throw new Error(`stop at ${await m.text()}`);
      })();
      await expect(looping).rejects.toThrow('stop at one');
      await turns();
      expect(describeFrames(transport.written)).toEqual(['close:1000']);
    });

    it('conn.values({ preventCancel: true }): break leaves the connection open, and the next loop goes on where it stopped', async () => {
      const { conn, transport } = withMessages(role);
      for await (const m of conn.values({ preventCancel: true })) {
        expect(await m.text()).toBe('one');
        break;
      }
      await turns();
      expect(conn.readyState).toBe(1);
      expect(transport.written).toEqual([]);
      const rest: string[] = [];
      for await (const m of conn.values({ preventCancel: true })) {
        rest.push(await m.text());
        if (rest.length === 2) break;
      }
      expect(rest).toEqual(['two', 'three']);
      await turns();
      expect(conn.readyState).toBe(1);
      expect(transport.written).toEqual([]);
      // An explicit return() with preventCancel leaves it open as well.
      const it = conn.values({ preventCancel: true });
      expect(await it.return!()).toEqual({ done: true, value: undefined });
      await turns();
      expect(transport.written).toEqual([]);
    });
  });

  it('break out of for await (const m of conn) with a responsive peer: close() completes cleanly on both sides, no timer moved', async () => {
    const clock = new FakeClock();
    const { client, server } = connectionPair({ client: { clock }, server: { clock } });
    await client.send('a');
    await client.send('b');
    for await (const m of server) {
      expect(await m.text()).toBe('a');
      break;
    }
    expect(await settledWithin(server.closed)).toMatchObject({ wasClean: true, code: 1000, reason: '' });
    expect(await settledWithin(client.closed)).toMatchObject({ wasClean: true, code: 1000, reason: '' });
    expect(clock.now()).toBe(0);
  });

  describe.each(ROLES)('%s: return after the end', (role) => {
    it.each(FORMS)('the messages of %s end with the peer\'s close; return() then is a no-op and next() stays done', async (form) => {
      const { conn, peer, transport, peerRole } = withMessages(role);
      peer.write([frameFrom(peerRole, 8, closeBody(4000, 'done'))]);
      peer.end();
      const source = iterable(conn, form);
      const it = source[Symbol.asyncIterator]();
      const got: string[] = [];
      for (let r = await it.next(); !r.done; r = await it.next()) got.push(await r.value.text());
      expect(got).toEqual(['one', 'two', 'three']);
      expect(await it.return!()).toEqual({ done: true, value: undefined });
      expect(await it.next()).toEqual({ done: true, value: undefined });
      await turns();
      // Only the echo of the peer's close went out: return() after the end closed nothing.
      expect(describeFrames(transport.written)).toEqual(['close:4000']);
      expect(await settledWithin(conn.closed)).toMatchObject({ wasClean: true, code: 4000, reason: 'done' });
    });
  });

  it('a loop over conn ends when the connection closes while it waits', async () => {
    const clock = new FakeClock();
    const { client, server } = connectionPair({ client: { clock }, server: { clock } });
    const got: string[] = [];
    const looping = (async () => {
      for await (const m of server) got.push(await m.text());
      return 'ended';
    })();
    await client.send('x');
    await turns();
    expect(await settledWithin(client.close(1000))).toMatchObject({ wasClean: true, code: 1000, reason: '' });
    expect(await settledWithin(looping)).toBe('ended');
    expect(got).toEqual(['x']);
  });
});
