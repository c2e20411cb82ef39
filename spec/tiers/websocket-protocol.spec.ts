import { once } from 'node:events';
import WebSocket, { WebSocketServer } from 'ws';
import { WebSocketServerProtocol } from '../../lib/tiers/server-protocol';
import { WebSocketClientProtocol } from '../../lib/tiers/client-protocol';
import { WebSocketProtocol } from '../../lib/tiers/websocket-protocol';
import { ConnectionDeny, type ConnectionRequest } from '../../lib/tiers/types';
import { listenWS, connectWS, WebSocketServerFactory, WebSocketClientFactory } from '../../lib/node/autobahn';
import { connectionPair } from '../helpers/connection-pair';
import { recorder } from '../helpers/tier-recorder';

const enc = new TextEncoder();
const dec = new TextDecoder();

async function sendThreeFrames(client: import('../../lib/streams/connection').Connection) {
  const w = client.beginMessage('text');
  await w.sendFrame('ab');
  client.ping('p');
  await w.sendFrame('cd');
  await w.sendFrame('e', { fin: true });
}

describe('WebSocketProtocol tiers (in-memory connections)', () => {
  it('basic tier: overriding onMessage alone gets whole messages', async () => {
    const { Recorder, log } = recorder(WebSocketProtocol, ['onMessage']);
    const { client, server } = connectionPair();
    const running = new Recorder().run(server);
    await client.send('one');
    await sendThreeFrames(client);
    await client.send(new Uint8Array([0x68, 0x69]));
    await client.close(1000);
    await running;
    expect(log).toEqual([['onMessage', 'one', false], ['onMessage', 'abcde', false], ['onMessage', 'hi', true]]);
  });

  it('frame-based tier: onMessageBegin, onMessageFrame once per frame, onMessageEnd, then onMessage', async () => {
    const { Recorder, log } = recorder(WebSocketProtocol, ['onMessageBegin', 'onMessageFrame', 'onMessageEnd', 'onMessage', 'onPong']);
    const { client, server } = connectionPair();
    const running = new Recorder().run(server);
    await sendThreeFrames(client);
    await client.close(1000);
    await running;
    expect(log).toEqual([
      ['onMessageBegin', false, 1], ['onMessageFrame', 'ab'], ['onMessageFrame', 'cd'], ['onMessageFrame', 'e'], ['onMessageEnd'], ['onMessage', 'abcde', false],
    ]);
  });

  it('streaming tier: frame begin with length and rsv, data as it arrives, frame end, and the higher callbacks after', async () => {
    const { Recorder, log } = recorder(WebSocketProtocol, ['onMessageBegin', 'onMessageFrameBegin', 'onMessageFrameData', 'onMessageFrameEnd', 'onMessageFrame', 'onMessageEnd', 'onMessage']);
    const { client, server } = connectionPair();
    const running = new Recorder().run(server);
    await sendThreeFrames(client);
    await client.close(1000);
    await running;
    expect(log).toEqual([
      ['onMessageBegin', false, 1],
      ['onMessageFrameBegin', 2, 0], ['onMessageFrameData', 'ab'], ['onMessageFrameEnd'], ['onMessageFrame', 'ab'],
      ['onMessageFrameBegin', 2, 0], ['onMessageFrameData', 'cd'], ['onMessageFrameEnd'], ['onMessageFrame', 'cd'],
      ['onMessageFrameBegin', 1, 0], ['onMessageFrameData', 'e'], ['onMessageFrameEnd'], ['onMessageFrame', 'e'],
      ['onMessageEnd'], ['onMessage', 'abcde', false],
    ]);
  });

  it('onOpen, onPing (overridden: the subclass answers) and onClose come with their arguments', async () => {
    const log: unknown[] = [];
    class P extends WebSocketProtocol {
      override onOpen() { log.push('open'); }
      override onPing(payload: Uint8Array) { log.push(['ping', dec.decode(payload)]); return this.sendPong('custom'); }
      override onClose(wasClean: boolean, code: number, reason: string) { log.push(['close', wasClean, code, reason]); }
    }
    const { client, server } = connectionPair({ server: { autoPong: false } });
    const pong = new Promise<string>((r) => (client.onPong = (d) => r(dec.decode(d))));
    const running = new P().run(server);
    client.ping('hi');
    expect(await pong).toBe('custom');
    await client.close(4000, 'bye');
    await running;
    expect(log).toEqual(['open', ['ping', 'hi'], ['close', true, 4000, 'bye']]);
  });

  it('a promise returned by a callback holds the next callback back', async () => {
    const order: string[] = [];
    class P extends WebSocketProtocol {
      override async onMessage(payload: Uint8Array) {
        const t = dec.decode(payload);
        order.push(`start ${t}`);
        await new Promise((r) => setTimeout(r, 30));
        order.push(`end ${t}`);
      }
    }
    const { client, server } = connectionPair();
    const running = new P().run(server);
    await client.send('a');
    await client.send('b');
    await new Promise((r) => setTimeout(r, 100));
    await client.close(1000);
    await running;
    expect(order).toEqual(['start a', 'end a', 'start b', 'end b']);
  });

  it('a callback that throws fails the connection with 1011 and onClose reports it', async () => {
    const closes: unknown[] = [];
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    class P extends WebSocketProtocol {
      override onMessage() { throw new Error('boom'); }
      override onClose(wasClean: boolean, code: number) { closes.push([wasClean, code]); }
    }
    const a = connectionPair();
    const b = connectionPair();
    const runA = new P().run(a.server);
    class Echo extends WebSocketProtocol { override onMessage(p: Uint8Array, bin: boolean) { return this.sendMessage(p, bin); } }
    const runB = new Echo().run(b.server);
    await a.client.send('x');
    expect(await a.client.closed).toMatchObject({ code: 1011 });
    await runA;
    expect(closes).toEqual([[true, 1011]]);
    // The other connection is undisturbed.
    await b.client.send('still here');
    expect(await (await b.client.nextMessage())!.text()).toBe('still here');
    await b.client.close(1000);
    await runB;
    errors.mockRestore();
  });

  it('send methods: frame-based and streaming sends arrive as the frames they were sent as', async () => {
    const { client, server } = connectionPair();
    class P extends WebSocketProtocol {}
    const p = new P();
    const running = p.run(server);
    p.beginMessage(true);
    await p.sendMessageFrame(new Uint8Array([1, 2]));
    p.beginMessageFrame(3, 0);
    await p.sendMessageFrameData(new Uint8Array([3]));
    await p.sendMessageFrameData(new Uint8Array([4, 5]));
    await p.endMessage();
    await p.sendMessage('whole', false, 2);
    const m1 = (await client.nextMessage())!;
    const frames = [];
    for await (const f of m1.frames as unknown as AsyncIterable<import('../../lib/streams/incoming-frame').IncomingFrame>) frames.push([f.opcode, f.fin, Array.from(await f.bytes())]);
    expect(frames).toEqual([[2, false, [1, 2]], [0, false, [3, 4, 5]], [0, true, []]]);
    const m2 = (await client.nextMessage())!;
    expect(await m2.text()).toBe('whole');
    await client.close(1000);
    await running;
  });

  it('sendMessage while a message begun with beginMessage is open goes out after that message ends', async () => {
    const { client, server } = connectionPair();
    class P extends WebSocketProtocol {}
    const p = new P();
    const running = p.run(server);
    p.beginMessage(false);
    await p.sendMessageFrame('first ');
    const queued = p.sendMessage(new Uint8Array([1, 2, 3]), true);
    await p.sendMessageFrame('message');
    await p.endMessage();
    await queued;
    const m1 = (await client.nextMessage())!;
    expect(m1.type).toBe('text');
    expect(await m1.text()).toBe('first message');
    const m2 = (await client.nextMessage())!;
    expect(m2.type).toBe('binary');
    expect(Array.from(await m2.bytes())).toEqual([1, 2, 3]);
    await client.close(1000);
    await running;
  });

  it('misuse throws errors that name the rule', async () => {
    const { server } = connectionPair();
    const p = new WebSocketProtocol();
    void p.run(server);
    expect(() => p.sendMessageFrame('x')).toThrow(/no message begun/);
    p.beginMessage();
    expect(() => p.beginMessage()).toThrow(/previous message has not ended/);
    p.beginMessageFrame(2);
    expect(() => p.sendMessageFrameData('abc')).toThrow(/needs only 2 more/);
    expect(() => p.endMessage()).toThrow(/still needs 2 bytes/);
    expect(() => p.sendMessageFrameData('ab')).not.toThrow();
    expect(WebSocketProtocol.CLOSE_STATUS_CODE_FRAME_TOO_LARGE).toBe(1004);
    expect(p.CLOSE_STATUS_CODE_TEXT_FRAME_NOT_UTF8).toBe(1007);
  });
});

describe('factories (real TCP, ws as the peer)', () => {
  it('listenWS runs one protocol instance per connection; onConnect picks a subprotocol or refuses', async () => {
    const seen: string[] = [];
    class Echo extends WebSocketServerProtocol {
      override onConnect(request: ConnectionRequest) {
        if (request.headers['x-deny']) throw new ConnectionDeny(403, 'not you');
        return 'chat.v2';
      }
      override onMessage(payload: Uint8Array, isBinary: boolean) {
        seen.push(dec.decode(payload));
        return this.sendMessage(payload, isBinary);
      }
    }
    const factory = new WebSocketServerFactory('ws://127.0.0.1:0');
    factory.protocol = Echo;
    const server = await listenWS(factory);
    try {
      const ws = new WebSocket(server.url, ['chat.v1', 'chat.v2']);
      await once(ws, 'open');
      expect(ws.protocol).toBe('chat.v2');
      ws.send('over ws');
      const [data] = await once(ws, 'message');
      expect(String(data)).toBe('over ws');
      ws.close(1000);
      await once(ws, 'close');
      const denied = new WebSocket(server.url, { headers: { 'x-deny': '1' } });
      const [, res] = await once(denied, 'unexpected-response');
      expect((res as { statusCode: number }).statusCode).toBe(403);
      denied.on('error', () => undefined);
      denied.terminate();
      expect(seen).toEqual(['over ws']);
    } finally {
      await server.close();
    }
  });

  it('with permessage-deflate, the streaming tier sees each frame\'s wire length and RSV1 and its inflated data; sends go compressed', async () => {
    const log: unknown[][] = [];
    class Tiered extends WebSocketServerProtocol {
      override onMessageFrameBegin(length: number | bigint, rsv?: number) { log.push(['begin', Number(length), rsv]); return super.onMessageFrameBegin(length, rsv); }
      override onMessageFrame(payload: Uint8Array) { log.push(['frame', dec.decode(payload)]); return super.onMessageFrame(payload); }
      override onMessage(payload: Uint8Array, isBinary: boolean) { return this.sendMessage(payload, isBinary); }
    }
    const factory = new WebSocketServerFactory('ws://127.0.0.1:0', { perMessageDeflate: { threshold: 0 } });
    factory.protocol = Tiered;
    const server = await listenWS(factory);
    try {
      const ws = new WebSocket(server.url, { perMessageDeflate: { threshold: 0 } });
      let rsv1Back: boolean | undefined;
      ws.on('upgrade', (res) => res.socket.prependListener('data', (c: Buffer) => { rsv1Back ??= (c[0] & 0x40) !== 0; }));
      await once(ws, 'open');
      const text = 'a'.repeat(1000);
      ws.send(text, { compress: true });
      const [data] = await once(ws, 'message');
      expect(String(data)).toBe(text);
      expect(rsv1Back).toBe(true);
      // One frame, RSV1 set, its length on the wire far below the 1000 inflated bytes.
      expect(log).toHaveLength(2);
      expect(log[0][0]).toBe('begin');
      expect(log[0][1]).toBeLessThan(50);
      expect(log[0][2]).toBe(0b100);
      expect(log[1]).toEqual(['frame', text]);
      ws.close(1000);
      await once(ws, 'close');
    } finally {
      await server.close();
    }
  });

  it('connectWS runs a client protocol: onConnect sees the 101, onOpen, onMessage and onClose follow', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: () => 'p1' });
    await once(wss, 'listening');
    wss.on('connection', (s) => s.on('message', (d, bin) => { s.send(d, { binary: bin }); s.close(4005, 'ws done'); }));
    const log: unknown[] = [];
    let done!: () => void;
    const finished = new Promise<void>((r) => (done = r));
    class Client extends WebSocketClientProtocol {
      override onConnect(response: { protocol: string }) { log.push(['connect', response.protocol]); }
      override onOpen() { log.push('open'); return this.sendMessage('ping me'); }
      override onMessage(payload: Uint8Array, isBinary: boolean) { log.push(['message', dec.decode(payload), isBinary]); }
      override onClose(wasClean: boolean, code: number, reason: string) { log.push(['close', wasClean, code, reason]); done(); }
    }
    const factory = new WebSocketClientFactory(`ws://127.0.0.1:${(wss.address() as { port: number }).port}/`, { protocols: ['p1'] });
    factory.protocol = Client;
    await connectWS(factory);
    await finished;
    expect(log).toEqual([['connect', 'p1'], 'open', ['message', 'ping me', false], ['close', true, 4005, 'ws done']]);
    await new Promise((r) => wss.close(r));
  });
});

void enc;
