// `conn.ping()` against real peers over loopback TCP: python-websockets (which answers every
// ping) and ws (made to answer only the latest of several pings, as RFC 6455 §5.5.3 allows).
// The RTT is read from the connection's clock; a fake clock moved between the ping and its
// pong makes it exact however long the round trip really takes.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket as WsSocket } from 'ws';
import { connect } from '../../lib/node/client';
import { WebSocketError } from '../../lib/streams/errors';
import { FakeClock } from '../helpers/fake-clock';
import { startPythonServer } from '../helpers/python';

describe('ping() with real peers', () => {
  it('python-websockets answers: ping() resolves with the RTT on the connection clock', async () => {
    const { child, port } = await startPythonServer('python-peer.py');
    try {
      const clock = new FakeClock();
      const conn = await connect(`ws://127.0.0.1:${port}/`, { clock });
      const seen: number[] = [];
      conn.onPong = (d) => seen.push(d.length);
      const first = conn.ping();
      clock.advance(12);
      expect(await first).toBe(12);
      const second = conn.ping('chosen');
      clock.advance(3);
      expect(await second).toBe(3);
      expect(seen).toEqual([4, 6]);
      await conn.send('close please');
      expect((await conn.closed).code).toBe(4002);
    } finally {
      child.kill();
    }
  }, 30_000);

  it('ws answering only the latest of three pings: one pong acknowledges all three', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, autoPong: false });
    await once(wss, 'listening');
    const received: Buffer[] = [];
    wss.on('connection', (ws: WsSocket) => ws.on('ping', (data: Buffer) => {
      received.push(data);
      if (received.length === 3) ws.pong(data);
    }));
    try {
      const clock = new FakeClock();
      const conn = await connect(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`, { clock });
      const a = conn.ping('a');
      clock.advance(5);
      const b = conn.ping('b');
      clock.advance(5);
      const c = conn.ping('c');
      clock.advance(5);
      expect(await Promise.all([a, b, c])).toEqual([15, 10, 5]);
      expect(received.map(String)).toEqual(['a', 'b', 'c']);
      // A ping ws does not answer rejects when the connection closes.
      const unanswered = conn.ping('d').catch((e: unknown) => e);
      await conn.close(1000);
      expect(await unanswered).toBeInstanceOf(WebSocketError);
      expect(await unanswered).toMatchObject({ kind: 'CLOSED', closeCode: 1000 });
    } finally {
      for (const ws of wss.clients) ws.terminate();
      await new Promise((r) => wss.close(r));
    }
  }, 30_000);
});
