import type { Socket } from 'node:net';
import { connectWS, listenWS, WebSocketClientFactory, WebSocketServerFactory } from '../../lib/node/autobahn';
import { WebSocketClientProtocol } from '../../lib/tiers/client-protocol';
import { WebSocketServerProtocol } from '../../lib/tiers/server-protocol';
import type { WebSocketProtocol } from '../../lib/tiers/websocket-protocol';
import { FakeClock } from '../helpers/fake-clock';
import { rawClient, rawWebSocketServer, readUntilClose } from '../helpers/raw-tcp-peer';
import { EXPECTED_ECHOES, messagesThenViolation, sentInOrder, violationsFor, type Violation } from '../helpers/violations';
import { rawEndpoint, settledWithin, turns, type Role } from '../helpers/wire';

// Failure in wire order on the Autobahn tier: an echo protocol (onMessage → sendMessage, and
// the frame-based onMessageBegin/onMessageFrame/onMessageEnd → beginMessage/sendMessageFrame/
// endMessage) is sent complete messages and, in the same chunk, a protocol violation. Its peer
// must receive the echoes first, then the close frame with the violation's code.

const ROLES: readonly Role[] = ['server', 'client'];
const CLOSE_TIMEOUT = 1000;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the TypeScript mixin pattern
type Ctor<T> = new (...args: any[]) => T;

/** onMessage → sendMessage. */
function messageEcho<B extends Ctor<WebSocketProtocol>>(base: B) {
  return class MessageEcho extends base {
    override onMessage(payload: Uint8Array, isBinary: boolean) {
      return this.sendMessage(payload, isBinary);
    }
  };
}

/** The frame-based tier: each frame echoed as it comes. */
function frameEcho<B extends Ctor<WebSocketProtocol>>(base: B) {
  return class FrameEcho extends base {
    override onMessageBegin(isBinary: boolean) {
      this.beginMessage(isBinary);
    }
    override onMessageFrame(payload: Uint8Array) {
      return this.sendMessageFrame(payload);
    }
    override onMessageEnd() {
      return this.endMessage();
    }
  };
}

/** onMessage never settles: the tier reads nothing more. */
function stuck<B extends Ctor<WebSocketProtocol>>(base: B) {
  return class Stuck extends base {
    override onMessage() {
      return new Promise<void>(() => undefined);
    }
  };
}

type Mixin = <B extends Ctor<WebSocketProtocol>>(base: B) => B;
const ECHOES: ReadonlyArray<[string, Mixin]> = [
  ['onMessage → sendMessage', messageEcho],
  ['onMessageFrame → sendMessageFrame (frame-based tier)', frameEcho],
];

const baseFor = (role: Role): Ctor<WebSocketServerProtocol | WebSocketClientProtocol> => (role === 'server' ? WebSocketServerProtocol : WebSocketClientProtocol);
const cases = (role: Role): Array<[string, Violation]> => violationsFor(role).map((v) => [v.name, v]);

describe('failure in wire order on the Autobahn tier', () => {
  describe.each(ROLES)('%s protocol, in memory (protocol.run(connection))', (role) => {
    describe.each(ECHOES)('echoing with %s', (_name, echo) => {
      it.each(cases(role))('complete messages, then %s in the same chunk: the echoes go out first, then the close', async (_v, v) => {
        const clock = new FakeClock();
        const { conn, peer, transport, peerRole } = rawEndpoint(role, { clock, closeTimeout: CLOSE_TIMEOUT });
        const Echo = echo(baseFor(role));
        const closes: unknown[] = [];
        const instance = new Echo();
        instance.onClose = (wasClean: boolean, code: number) => void closes.push([wasClean, code]);
        const running = instance.run(conn);
        peer.write([messagesThenViolation(peerRole, v)]);
        await turns();
        expect(sentInOrder(transport.written)).toEqual([...EXPECTED_ECHOES, `close:${v.code}`]);
        peer.end();
        expect(await settledWithin(running)).toBeUndefined();
        expect(closes).toEqual([[false, v.code]]);
        expect(clock.now()).toBe(0);
      });
    });
  });

  describe.each(ECHOES)('over real TCP, echoing with %s', (_name, echo) => {
    describe('WebSocketServerProtocol (listenWS), a raw client', () => {
      let server: Awaited<ReturnType<typeof listenWS>>;
      beforeAll(async () => {
        const factory = new WebSocketServerFactory('ws://127.0.0.1:0');
        factory.protocol = echo(WebSocketServerProtocol);
        server = await listenWS(factory);
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

    describe('WebSocketClientProtocol (connectWS), a raw server', () => {
      let raw: Awaited<ReturnType<typeof rawWebSocketServer>>;
      beforeAll(async () => {
        raw = await rawWebSocketServer();
      });
      afterAll(() => raw.close());

      it.each(cases('client'))('complete messages, then %s in the same chunk: the echoes first, then the close', async (_v, v) => {
        const factory = new WebSocketClientFactory(raw.url);
        factory.protocol = echo(WebSocketClientProtocol);
        const instance = await connectWS(factory);
        let socket: Socket | undefined;
        try {
          socket = await raw.nextSocket();
          const reading = readUntilClose(socket);
          socket.write(messagesThenViolation('server', v));
          expect(sentInOrder(await reading)).toEqual([...EXPECTED_ECHOES, `close:${v.code}`]);
          socket.end();
          expect(await instance.connection.closed).toMatchObject({ wasClean: false, code: v.code });
        } finally {
          socket?.destroy();
        }
      });
    });
  });

  describe.each(ROLES)('%s protocol whose onMessage never returns', (role) => {
    it.each(cases(role))('%s behind the messages: the close frame goes out at closeTimeout, not before', async (_v, v) => {
      const clock = new FakeClock();
      const { conn, peer, transport, peerRole } = rawEndpoint(role, { clock, closeTimeout: CLOSE_TIMEOUT });
      const Stuck = stuck(baseFor(role)); // holds the next callback back for ever
      void new Stuck().run(conn);
      peer.write([messagesThenViolation(peerRole, v)]);
      await turns();
      expect(transport.written).toEqual([]);
      await clock.tick(CLOSE_TIMEOUT - 1);
      expect(transport.written).toEqual([]);
      await clock.tick(1);
      expect(sentInOrder(transport.written)).toEqual([`close:${v.code}`]);
    });
  });
});
