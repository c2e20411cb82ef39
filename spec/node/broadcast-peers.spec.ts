// server.broadcast() to real peers over loopback: ws clients and a python-websockets client
// each receive the exact message, from one frame written to all of them; permessage-deflate
// receivers without context takeover decode one shared compressed frame; a peer that stops
// reading is skipped with a bounded backlog; a connection that is gone is skipped quietly.
import type { DeflateEngine } from '../../lib/extensions/permessage-deflate/deflate-engine';
import { PerMessageDeflate } from '../../lib/extensions/permessage-deflate/permessage-deflate';
import { SocketTransport } from '../../lib/node/socket-transport';
import { serve, type ServeOptions, type WebSocketServerHandle } from '../../lib/node/server';
import { zlibEngine } from '../../lib/node/zlib-engine';
import { broadcast } from '../../lib/streams/broadcast';
import type { Connection } from '../../lib/streams/connection';
import { runPythonClient } from '../helpers/python';
import { RecordingClient } from '../helpers/recording-ws-client';

/** A server whose handler records connections, with a promise for the n-th. */
async function startServer(options: Partial<ServeOptions> = {}): Promise<{ server: WebSocketServerHandle; conns: Connection[]; connected(n: number): Promise<void> }> {
  const conns: Connection[] = [];
  let waiter: { n: number; resolve(): void } | undefined;
  const server = await serve({ host: '127.0.0.1', port: 0, ...options }, (conn) => {
    conns.push(conn);
    if (waiter !== undefined && conns.length >= waiter.n) waiter.resolve();
  });
  const connected = (n: number): Promise<void> =>
    conns.length >= n ? Promise.resolve() : new Promise((resolve) => (waiter = { n, resolve }));
  return { server, conns, connected };
}

/** Every chunk array SocketTransport.write is given, with the transport it was given to. */
function spyOnSocketWrites(): { writes: () => Array<{ transport: SocketTransport; first: Uint8Array }>; restore(): void } {
  const spy = jest.spyOn(SocketTransport.prototype, 'write');
  return {
    writes: () => spy.mock.calls.map((args, i) => ({ transport: spy.mock.contexts[i] as SocketTransport, first: args[0][0]! })),
    restore: () => spy.mockRestore(),
  };
}

function countingEngine(): { engine: DeflateEngine; deflaters: () => number } {
  const base = zlibEngine();
  let n = 0;
  return {
    engine: {
      createDeflater: (o) => {
        n++;
        return base.createDeflater(o);
      },
      createInflater: (w) => base.createInflater(w),
      recycle: (c) => base.recycle?.(c),
    },
    deflaters: () => n,
  };
}

const closeAll = async (clients: RecordingClient[], server: WebSocketServerHandle): Promise<void> => {
  for (const c of clients) c.ws.terminate();
  await server.close();
};

describe('server.broadcast() to real peers (loopback)', () => {
  it('delivers the exact text and binary messages to ws clients and a python client, from one frame written to all', async () => {
    const { server, conns, connected } = await startServer();
    const spy = spyOnSocketWrites();
    const clients = [0, 1, 2, 3].map(() => new RecordingClient(server.url, false));
    try {
      await Promise.all(clients.map((c) => c.opened()));
      const python = runPythonClient('python-broadcast-peer.py', [server.url + '/', '2']);
      await connected(5);
      const text = 'héllo, everyone 👋';
      const binary = new Uint8Array(70_000).map((_, i) => (i * 7) % 256);
      expect(server.broadcast(text)).toEqual({ sent: 5, skipped: 0, closed: 0 });
      expect(server.broadcast(binary)).toEqual({ sent: 5, skipped: 0, closed: 0 });
      await Promise.all(clients.map((c) => c.received(2)));
      for (const c of clients) {
        expect(c.messages.map((m) => m.binary)).toEqual([false, true]);
        expect(c.messages[0]!.data.toString('utf8')).toBe(text);
        expect(Buffer.compare(c.messages[1]!.data, Buffer.from(binary))).toBe(0);
      }
      expect(await python).toEqual({
        extensions: [],
        messages: [{ type: 'text', value: text }, { type: 'binary', hex: Buffer.from(binary).toString('hex') }],
      });
      // Encoded once: each message is one buffer, and that very buffer went to every connection.
      const broadcastWrites = spy.writes().filter((w) => w.first.length >= 20 && (w.first[0] === 0x81 || w.first[0] === 0x82));
      expect(broadcastWrites).toHaveLength(10);
      const textFrames = new Set(broadcastWrites.filter((w) => w.first[0] === 0x81).map((w) => w.first));
      const binaryFrames = new Set(broadcastWrites.filter((w) => w.first[0] === 0x82).map((w) => w.first));
      expect([textFrames.size, binaryFrames.size]).toEqual([1, 1]);
      expect(new Set(broadcastWrites.map((w) => w.transport)).size).toBe(conns.length);
    } finally {
      spy.restore();
      await closeAll(clients, server);
    }
  }, 60_000);

  it('compresses once for deflate receivers without context takeover (ws and python), and each decodes it', async () => {
    const { engine, deflaters } = countingEngine();
    const { server, connected } = await startServer({
      extensions: [new PerMessageDeflate(engine, { serverNoContextTakeover: true })],
    });
    const spy = spyOnSocketWrites();
    const clients = [new RecordingClient(server.url, true), new RecordingClient(server.url, true), new RecordingClient(server.url, false)];
    try {
      await Promise.all(clients.map((c) => c.opened()));
      const python = runPythonClient('python-broadcast-peer.py', [server.url + '/', '1', 'deflate']);
      await connected(4);
      const text = JSON.stringify(Array.from({ length: 200 }, (_, i) => ({ id: i, name: 'websocket-streams', ok: true })));
      const before = deflaters();
      expect(server.broadcast(text)).toEqual({ sent: 4, skipped: 0, closed: 0 });
      await Promise.all(clients.map((c) => c.received(1)));
      for (const c of clients) expect(c.messages[0]!.data.toString('utf8')).toBe(text);
      expect(await python).toEqual({ extensions: ['permessage-deflate'], messages: [{ type: 'text', value: text }] });
      expect(deflaters() - before).toBe(1);
      // The three deflate connections were written one compressed frame (RSV1 set), the
      // connection without deflate the plain one.
      const compressed = spy.writes().filter((w) => w.first[0] === 0xc1);
      const plain = spy.writes().filter((w) => w.first[0] === 0x81 && w.first.length > text.length);
      expect(compressed).toHaveLength(3);
      expect(new Set(compressed.map((w) => w.first)).size).toBe(1);
      expect(compressed[0]!.first.length).toBeLessThan(text.length / 4);
      expect(plain).toHaveLength(1);
    } finally {
      spy.restore();
      await closeAll(clients, server);
    }
  }, 60_000);

  it('skips a peer that stops reading once more than maxBuffered is queued for it, then it gets exactly what it was sent', async () => {
    const { server, conns, connected } = await startServer();
    const healthy = new RecordingClient(server.url, false);
    const stalled = new RecordingClient(server.url, false);
    try {
      await Promise.all([healthy.opened(), stalled.opened()]);
      await connected(2);
      stalled.socket.pause();
      const maxBuffered = 256 * 1024;
      const size = 64 * 1024;
      const stalledConn = conns[conns.length - 1]!;
      const sentToStalled: number[] = [];
      let skippedInARow = 0;
      let peakBacklog = 0;
      // Bounded: at most 400 × 64 KiB = 25 MiB, far more than loopback's socket buffers hold.
      for (let i = 0; i < 400 && skippedInARow < 20; i++) {
        const message = new Uint8Array(size).fill(i % 256);
        message[0] = i >> 8;
        message[1] = i & 255;
        const r = server.broadcast(message, { maxBuffered });
        peakBacklog = Math.max(peakBacklog, stalledConn.bufferedAmount);
        expect(r.sent + r.skipped).toBe(2);
        if (r.sent === 2) {
          sentToStalled.push(i);
          skippedInARow = 0;
        } else {
          skippedInARow++;
        }
        await healthy.received(i + 1);
      }
      expect(skippedInARow).toBe(20);
      // Never more than maxBuffered plus one message queued in the process for the stalled peer.
      expect(peakBacklog).toBeLessThanOrEqual(maxBuffered + size + 10);
      // The peer reads again: it gets exactly the messages it was counted as sent, in order.
      stalled.socket.resume();
      await stalled.received(sentToStalled.length);
      expect(stalled.messages.map((m) => (m.data[0]! << 8) | m.data[1]!)).toEqual(sentToStalled);
      expect(stalled.messages.every((m, k) => m.data.length === size && m.data[size - 1] === sentToStalled[k]! % 256)).toBe(true);
    } finally {
      await closeAll([healthy, stalled], server);
    }
  }, 60_000);

  it('skips a connection whose peer is gone, with no unhandled rejection', async () => {
    const { server, conns, connected } = await startServer();
    const staying = new RecordingClient(server.url, false);
    const leaving = new RecordingClient(server.url, false);
    const rejections: unknown[] = [];
    const onRejection = (reason: unknown): void => {
      rejections.push(reason);
    };
    process.on('unhandledRejection', onRejection);
    try {
      await Promise.all([staying.opened(), leaving.opened()]);
      await connected(2);
      const leavingConn = conns[1]!;
      // Reset at once: the server learns of it only later, so this broadcast still writes to it.
      leaving.ws.terminate();
      const first = server.broadcast('first');
      expect(first.sent + first.closed).toBe(2);
      await leavingConn.closed;
      expect(broadcast(conns, 'second')).toEqual({ sent: 1, skipped: 0, closed: 1 });
      expect(server.broadcast('third')).toEqual({ sent: 1, skipped: 0, closed: 0 });
      await staying.received(3);
      expect(staying.messages.map((m) => m.data.toString())).toEqual(['first', 'second', 'third']);
      await new Promise((resolve) => setImmediate(resolve));
      expect(rejections).toEqual([]);
    } finally {
      process.off('unhandledRejection', onRejection);
      await closeAll([staying, leaving], server);
    }
  }, 60_000);
});
