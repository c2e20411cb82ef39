import type { Socket } from 'node:net';
import { connect } from '../../lib/node/client';
import { serve } from '../../lib/node/server';
import type { Connection } from '../../lib/streams/connection';
import { usingPonyfill } from '../../lib/streams/stream-classes';
import { FakeClock } from '../helpers/fake-clock';
import { rawClient, rawWebSocketServer, readUntilClose } from '../helpers/raw-tcp-peer';
import { EXPECTED_ECHOES, messagesThenViolation, sentInOrder, violationsFor, type Violation } from '../helpers/violations';
import { rawEndpoint, settledWithin, turns, type Role } from '../helpers/wire';

// Failure in wire order, on the stream tier: complete messages followed in the same chunk by a
// protocol violation. An echoing endpoint's peer must receive the echoes of the messages
// first, then the close frame with the violation's code (1002, or 1007 for UTF-8), as if the
// bytes had come one frame at a time. A consumer that never reads cannot hold the close back
// for longer than closeTimeout.

const ROLES: readonly Role[] = ['server', 'client'];
const CLOSE_TIMEOUT = 1000;

type Echo = (conn: Connection) => Promise<unknown>;
const ECHOES: ReadonlyArray<[string, Echo]> = [
  ['conn.readable.pipeTo(conn.writable)', (conn) => conn.readable.pipeTo(conn.writable)],
  ['for await (const m of conn) await conn.send(m)', async (conn) => {
    for await (const m of conn) await conn.send(m);
  }],
];

const cases = (role: Role): Array<[string, Violation]> => violationsFor(role).map((v) => [v.name, v]);

describe(`failure in wire order on the stream tier (${usingPonyfill ? 'ponyfill' : 'native'} streams)`, () => {
  describe.each(ROLES)('%s, in memory', (role) => {
    describe.each(ECHOES)('echoing with %s', (_name, echo) => {
      it.each(cases(role))('complete messages, then %s in the same chunk: the echoes go out first, then the close', async (_v, v) => {
        const clock = new FakeClock();
        const { conn, peer, transport, peerRole } = rawEndpoint(role, { clock, closeTimeout: CLOSE_TIMEOUT });
        const echoing = echo(conn).catch(() => undefined);
        peer.write([messagesThenViolation(peerRole, v)]);
        await turns();
        expect(sentInOrder(transport.written)).toEqual([...EXPECTED_ECHOES, `close:${v.code}`]);
        peer.end();
        expect(await settledWithin(conn.closed)).toMatchObject({ wasClean: false, code: v.code });
        await settledWithin(echoing);
        expect(clock.now()).toBe(0);
      });
    });
  });

  describe.each(ROLES)('%s, a consumer that never reads', (role) => {
    it.each(cases(role))('%s behind unread messages: the close frame goes out at closeTimeout, not before', async (_v, v) => {
      const clock = new FakeClock();
      const { conn, peer, transport, peerRole } = rawEndpoint(role, { clock, closeTimeout: CLOSE_TIMEOUT });
      peer.write([messagesThenViolation(peerRole, v)]);
      await turns();
      expect(transport.written).toEqual([]);
      await clock.tick(CLOSE_TIMEOUT - 1);
      expect(transport.written).toEqual([]);
      await clock.tick(1);
      expect(sentInOrder(transport.written)).toEqual([`close:${v.code}`]);
      peer.end();
      await clock.tick(CLOSE_TIMEOUT);
      expect(await settledWithin(conn.closed)).toMatchObject({ wasClean: false, code: v.code });
    });

    it('a consumer that reads part of the way: the close goes out once it asks past the messages before the violation', async () => {
      const clock = new FakeClock();
      const v = violationsFor(role)[0]!;
      const { conn, peer, transport, peerRole } = rawEndpoint(role, { clock, closeTimeout: CLOSE_TIMEOUT });
      peer.write([messagesThenViolation(peerRole, v)]);
      expect(await (await conn.nextMessage())!.text()).toBe('first message');
      await turns();
      expect(transport.written).toEqual([]);
      expect(await (await conn.nextMessage())!.text()).toBe('second message');
      await turns();
      expect(transport.written).toEqual([]);
      expect(await conn.nextMessage()).toBeUndefined();
      await turns();
      expect(sentInOrder(transport.written)).toEqual([`close:${v.code}`]);
      expect(clock.now()).toBe(0);
    });
  });

  describe('over real TCP (lib/node serve and connect, a raw peer)', () => {
    describe.each(ECHOES)('echoing with %s', (_name, echo) => {
      describe('server (serve), a raw client', () => {
        let server: Awaited<ReturnType<typeof serve>>;
        beforeAll(async () => {
          server = await serve({ host: '127.0.0.1', port: 0 }, (conn) => void echo(conn).catch(() => undefined));
        });
        afterAll(() => server.close());

        it.each(cases('server'))('complete messages, then %s in the same chunk: the echoes first, then the close', async (_v, v) => {
          const { socket, rest } = await rawClient(server.port);
          try {
            const reading = readUntilClose(socket, rest);
            socket.write(messagesThenViolation('client', v));
            expect(sentInOrder(await reading)).toEqual([...EXPECTED_ECHOES, `close:${v.code}`]);
          } finally {
            socket.destroy();
          }
        });
      });

      describe('client (connect), a raw server', () => {
        let raw: Awaited<ReturnType<typeof rawWebSocketServer>>;
        beforeAll(async () => {
          raw = await rawWebSocketServer();
        });
        afterAll(() => raw.close());

        it.each(cases('client'))('complete messages, then %s in the same chunk: the echoes first, then the close', async (_v, v) => {
          const conn = await connect(raw.url);
          const echoing = echo(conn).catch(() => undefined);
          let socket: Socket | undefined;
          try {
            socket = await raw.nextSocket();
            const reading = readUntilClose(socket);
            socket.write(messagesThenViolation('server', v));
            expect(sentInOrder(await reading)).toEqual([...EXPECTED_ECHOES, `close:${v.code}`]);
            socket.end();
            expect(await conn.closed).toMatchObject({ wasClean: false, code: v.code });
            await echoing;
          } finally {
            socket?.destroy();
          }
        });
      });
    });
  });
});
