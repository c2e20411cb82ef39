import type { IncomingMessage } from '../../lib/streams/incoming-message';
import { usingPonyfill } from '../../lib/streams/stream-classes';
import { concat } from '../helpers/connection-pair';
import { FakeClock } from '../helpers/fake-clock';
import { frameFrom, rawEndpoint, settledWithin, turns, type Role } from '../helpers/wire';

// `nextMessage()`: messages come out in wire order, whether they were already received (many in
// one read) or come later, and a second call while one waits is refused without disturbing it.
// Timers run on a fake clock that is never moved: nothing here waits for a timeout.

const dec = new TextDecoder();
const ROLES: readonly Role[] = ['server', 'client'];

describe(`nextMessage() (${usingPonyfill ? 'ponyfill' : 'native'} streams)`, () => {
  describe.each(ROLES)('as the %s', (role) => {
    test('messages that came in one read are handed out in order, then a later one', async () => {
      const { conn, peer, peerRole } = rawEndpoint(role, { clock: new FakeClock() });
      const texts = Array.from({ length: 40 }, (_, i) => `message ${i}`);
      peer.write([concat(texts.map((t) => frameFrom(peerRole, 0x1, t)))]);
      const got: string[] = [];
      for (let i = 0; i < texts.length; i++) got.push(await (await conn.nextMessage())!.text());
      expect(got).toEqual(texts);
      const later = conn.nextMessage();
      expect(await settledWithin(later)).toBe('pending');
      peer.write([frameFrom(peerRole, 0x2, new Uint8Array([1, 2, 3]))]);
      const m = (await later)!;
      expect(m.opcode).toBe(0x2);
      expect(Array.from(await m.bytes())).toEqual([1, 2, 3]);
    });

    test('a second call while one waits rejects with a TypeError; the waiting one gets the message', async () => {
      const { conn, peer, peerRole } = rawEndpoint(role, { clock: new FakeClock() });
      const first = conn.nextMessage();
      const second = conn.nextMessage();
      await expect(second).rejects.toThrow(new TypeError('nextMessage() is already waiting for a message'));
      peer.write([frameFrom(peerRole, 0x1, 'hello')]);
      expect(dec.decode(await (await first)!.bytes())).toBe('hello');
    });

    test('a message already here resolves the call without waiting for more input', async () => {
      const { conn, peer, peerRole } = rawEndpoint(role, { clock: new FakeClock() });
      peer.write([concat([frameFrom(peerRole, 0x1, 'a'), frameFrom(peerRole, 0x1, 'b')])]);
      await turns();
      const a = await settledWithin(conn.nextMessage());
      expect(a).not.toBe('pending');
      expect(await (a as IncomingMessage).text()).toBe('a');
      const b = await settledWithin(conn.nextMessage());
      expect(await (b as IncomingMessage).text()).toBe('b');
      expect(await settledWithin(conn.nextMessage())).toBe('pending');
    });

    test('after the peer closes, the messages before its close, then undefined', async () => {
      const { conn, peer, peerRole } = rawEndpoint(role, { clock: new FakeClock() });
      peer.write([concat([frameFrom(peerRole, 0x1, 'last'), frameFrom(peerRole, 0x8, new Uint8Array([0x03, 0xe8]))])]);
      expect(await (await conn.nextMessage())!.text()).toBe('last');
      expect(await conn.nextMessage()).toBeUndefined();
    });
  });
});
