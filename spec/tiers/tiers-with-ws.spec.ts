// Each tier's callbacks, in order and with their arguments, on both the server and the client
// protocol, with the `ws` package as the peer: a single-frame message, then a three-frame
// message with a ping between its frames. A ping is acted on as soon as it is parsed, which
// may be before the tier has delivered the messages ahead of it: its place among the message
// callbacks is not fixed, only that it is reported once, before onClose.
import { once } from 'node:events';
import WebSocket, { WebSocketServer } from 'ws';
import { connectWS, listenWS, WebSocketClientFactory, WebSocketServerFactory } from '../../lib/node/autobahn';
import { WebSocketClientProtocol } from '../../lib/tiers/client-protocol';
import { WebSocketServerProtocol } from '../../lib/tiers/server-protocol';
import { recorder } from '../helpers/tier-recorder';

const TIERS: Array<[string, string[], unknown[][]]> = [
  ['basic', ['onMessage', 'onPing'], [
    ['onMessage', 'one', false],
    ['onPing', 'p'],
    ['onMessage', 'abcde', true],
  ]],
  ['frame-based', ['onMessageBegin', 'onMessageFrame', 'onMessageEnd', 'onPing'], [
    ['onMessageBegin', false, 1], ['onMessageFrame', 'one'], ['onMessageEnd'],
    ['onMessageBegin', true, 2], ['onMessageFrame', 'ab'], ['onPing', 'p'], ['onMessageFrame', 'cd'], ['onMessageFrame', 'e'], ['onMessageEnd'],
  ]],
  ['streaming', ['onMessageBegin', 'onMessageFrameBegin', 'onMessageFrameData', 'onMessageFrameEnd', 'onMessageEnd', 'onPing'], [
    ['onMessageBegin', false, 1], ['onMessageFrameBegin', 3, 0], ['onMessageFrameData', 'one'], ['onMessageFrameEnd'], ['onMessageEnd'],
    ['onMessageBegin', true, 2],
    ['onMessageFrameBegin', 2, 0], ['onMessageFrameData', 'ab'], ['onMessageFrameEnd'],
    ['onPing', 'p'],
    ['onMessageFrameBegin', 2, 0], ['onMessageFrameData', 'cd'], ['onMessageFrameEnd'],
    ['onMessageFrameBegin', 1, 0], ['onMessageFrameData', 'e'], ['onMessageFrameEnd'],
    ['onMessageEnd'],
  ]],
];

/** What the ws peer sends; then it closes with 4000 "done". */
function sendScript(ws: WebSocket): void {
  ws.send('one');
  ws.send(Buffer.from('ab'), { binary: true, fin: false });
  ws.ping('p');
  ws.send(Buffer.from('cd'), { binary: true, fin: false });
  ws.send(Buffer.from('e'), { binary: true, fin: true });
  ws.close(4000, 'done');
}

/** The message callbacks in order, the ping once among them, and onClose last. */
function expectInOrder(log: unknown[][], expected: unknown[][]): void {
  const isPing = (e: unknown[]) => e[0] === 'onPing';
  expect(log.filter((e) => !isPing(e))).toEqual([...expected.filter((e) => !isPing(e)), ['onClose', true, 4000, 'done']]);
  expect(log.filter(isPing)).toEqual([['onPing', 'p']]);
}

/** Records `onClose` too (not a tier callback, so the tier chosen stays the recorder's). */
function closing<B extends abstract new () => WebSocketServerProtocol | WebSocketClientProtocol>(Base: B, log: unknown[][], closed: () => void): B {
  // @ts-expect-error -- a mixin over an abstract-typed constructor; the bases here are concrete
  class Closing extends Base {
    onClose(wasClean: boolean, code: number, reason: string) {
      log.push(['onClose', wasClean, code, reason]);
      closed();
    }
  }
  return Closing as unknown as B;
}

describe.each(TIERS)('the %s tier with ws as the peer', (_tier, names, expected) => {
  it('on a WebSocketServerProtocol (ws client)', async () => {
    const { Recorder, log } = recorder(WebSocketServerProtocol, names);
    let closed!: () => void;
    const done = new Promise<void>((r) => (closed = r));
    const factory = new WebSocketServerFactory('ws://127.0.0.1:0');
    factory.protocol = closing(Recorder, log, closed);
    const server = await listenWS(factory);
    try {
      const ws = new WebSocket(server.url);
      await once(ws, 'open');
      sendScript(ws);
      await done;
      expectInOrder(log, expected);
    } finally {
      await server.close();
    }
  });

  it('on a WebSocketClientProtocol (ws server)', async () => {
    const { Recorder, log } = recorder(WebSocketClientProtocol, names);
    let closed!: () => void;
    const done = new Promise<void>((r) => (closed = r));
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(wss, 'listening');
    wss.on('connection', (ws) => sendScript(ws));
    try {
      const factory = new WebSocketClientFactory(`ws://127.0.0.1:${(wss.address() as { port: number }).port}/`);
      factory.protocol = closing(Recorder, log, closed);
      await connectWS(factory);
      await done;
      expectInOrder(log, expected);
    } finally {
      await new Promise((r) => wss.close(r));
    }
  });
});
