import { once } from 'node:events';
import { WebSocketServer, type WebSocket as WsSocket } from 'ws';
import { connect } from '../../lib/node/client';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('backpressure towards a peer that stops reading (real TCP, ws as the peer)', () => {
  it('connect: send() stops resolving once the peer stops reading, and resumes when it reads again', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
    await once(wss, 'listening');
    const peerP = once(wss, 'connection') as Promise<[WsSocket]>;
    const conn = await connect(`ws://127.0.0.1:${(wss.address() as { port: number }).port}/`, { maxMessageSize: 1 << 30 });
    const [peer] = await peerP;
    let received = 0;
    peer.on('message', (d: Buffer) => (received += d.length));
    // The peer stops reading its socket: the kernel buffers fill, then ours.
    (peer as unknown as { _socket: import('node:net').Socket })._socket.pause();
    const chunk = new Uint8Array(256 * 1024);
    let resolvedSends = 0;
    let pending: Promise<void> | undefined;
    const rssBefore = process.memoryUsage().rss;
    for (let i = 0; i < 400 && pending === undefined; i++) {
      const p = conn.send(chunk);
      const settled = await Promise.race([p.then(() => true), sleep(50).then(() => false)]);
      if (settled) resolvedSends++;
      else pending = p;
    }
    // Stopped well before 400 × 256 KiB = 100 MiB were accepted.
    expect(pending).toBeDefined();
    expect(resolvedSends).toBeLessThan(200);
    expect(conn.bufferedAmount).toBeGreaterThan(0);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(80 * 1024 * 1024);
    // The peer reads again: the pending send completes and everything arrives.
    (peer as unknown as { _socket: import('node:net').Socket })._socket.resume();
    await pending;
    await conn.close(1000);
    const expected = (resolvedSends + 1) * chunk.length;
    for (let i = 0; i < 100 && received < expected; i++) await sleep(20);
    expect(received).toBe(expected);
    await new Promise((r) => wss.close(r));
  }, 60_000);
});
