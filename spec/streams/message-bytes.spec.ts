import { WebSocketError } from '../../lib/streams/errors';
import { usingPonyfill } from '../../lib/streams/stream-classes';
import { concat } from '../helpers/connection-pair';
import { FakeClock } from '../helpers/fake-clock';
import { sentInOrder } from '../helpers/violations';
import { frameFrom, rawEndpoint, settledWithin, turns, type Role } from '../helpers/wire';

// `msg.bytes()` collects a message whole. What was already received is routed into the
// collector by the call itself, so a message that is all here resolves at once, and one found
// invalid while routing it rejects at once; a message still arriving waits for its last frame.
// Timers run on a fake clock that is never moved: nothing here waits for a timeout.

const ROLES: readonly Role[] = ['server', 'client'];
const enc = new TextEncoder();

describe(`msg.bytes() (${usingPonyfill ? 'ponyfill' : 'native'} streams)`, () => {
  describe.each(ROLES)('as the %s', (role) => {
    test('messages that came in one read, fragmented or not, each resolve whole and in order', async () => {
      const { conn, peer, peerRole } = rawEndpoint(role, { clock: new FakeClock() });
      peer.write([concat([
        frameFrom(peerRole, 0x2, new Uint8Array([1, 2, 3])),
        frameFrom(peerRole, 0x1, 'hel', { fin: false }),
        frameFrom(peerRole, 0x0, 'lo', { fin: false }),
        frameFrom(peerRole, 0x0, '!'),
        frameFrom(peerRole, 0x2, new Uint8Array(0)),
      ])]);
      await turns();
      const got: number[][] = [];
      for (let i = 0; i < 3; i++) {
        const m = (await conn.nextMessage())!;
        const bytes = await settledWithin(m.bytes(), 1);
        expect(bytes).not.toBe('pending');
        got.push(Array.from(bytes as Uint8Array));
      }
      expect(got).toEqual([[1, 2, 3], Array.from(enc.encode('hello!')), []]);
    });

    test('a message whose last frame has not come yet: bytes() waits for it', async () => {
      const { conn, peer, peerRole } = rawEndpoint(role, { clock: new FakeClock() });
      peer.write([frameFrom(peerRole, 0x2, new Uint8Array([1, 2]), { fin: false })]);
      const m = (await conn.nextMessage())!;
      const whole = m.bytes();
      expect(await settledWithin(whole)).toBe('pending');
      peer.write([frameFrom(peerRole, 0x0, new Uint8Array([3]))]);
      expect(Array.from(await whole)).toEqual([1, 2, 3]);
    });

    test('a text message already here that is not UTF-8: bytes() rejects at once and the peer gets 1007', async () => {
      const { conn, peer, peerRole, transport } = rawEndpoint(role, { clock: new FakeClock() });
      peer.write([frameFrom(peerRole, 0x1, new Uint8Array([0x68, 0x69, 0xc0, 0xaf]))]);
      await turns();
      const m = (await conn.nextMessage())!;
      const whole = m.bytes();
      const outcome = await settledWithin(whole.then(() => 'resolved', (e: unknown) => e), 1);
      expect(outcome).toBeInstanceOf(WebSocketError);
      expect(sentInOrder(transport.written)).toEqual(['close:1007']);
    });

    test('a message over maxMessageSize already here: bytes() rejects at once and the peer gets 1009', async () => {
      const { conn, peer, peerRole, transport } = rawEndpoint(role, { clock: new FakeClock(), maxMessageSize: 4 });
      peer.write([concat([
        frameFrom(peerRole, 0x2, new Uint8Array([1, 2, 3]), { fin: false }),
        frameFrom(peerRole, 0x0, new Uint8Array([4, 5])),
      ])]);
      await turns();
      const m = (await conn.nextMessage())!;
      const outcome = await settledWithin(m.bytes().then(() => 'resolved', (e: unknown) => e), 1);
      expect(outcome).toBeInstanceOf(WebSocketError);
      expect(sentInOrder(transport.written)).toEqual(['close:1009']);
    });

    test('a second bytes() on the same message rejects with a TypeError; the first still resolves', async () => {
      const { conn, peer, peerRole } = rawEndpoint(role, { clock: new FakeClock() });
      peer.write([frameFrom(peerRole, 0x2, new Uint8Array([9]))]);
      const m = (await conn.nextMessage())!;
      const first = m.bytes();
      await expect(m.bytes()).rejects.toBeInstanceOf(TypeError);
      expect(Array.from(await first)).toEqual([9]);
    });
  });
});
